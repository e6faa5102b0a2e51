"""Prompt assembly: the exact string the model receives, its token budget and its cost."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.answering import default_focus, default_k
from core.decision import Situation
from core.errors import InvalidQuery
from core.llm.plan import long_context_passages, plan_prompt
from core.llm.profiles import profile_of
from core.llm.prompting import CHUNK_ORDERS, DEFAULT_SYSTEM_RAG, has_chat_template, prompt_budget, request_cost
from ui.answer_views import model_tier_notice
from ui.session_resources import base_generator, corpus_choice, corpus_qa, documents_and_retriever
from ui.numbers import number_box
from ui.prompt_views import budget_figure, token_spans_html
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

PRICES = Situation()  # the decision guide's default $ per 1k tokens for a small hosted model
ss = st.session_state

st.title("Prompt assembly")
st.markdown(
    "Retrieval only helps if the chunks reach the model. Here is the **exact string** the generator receives: "
    "the system instruction, the retrieved chunks and the question, wrapped in the model's chat template. "
    "Every part costs tokens, and the context window is a hard limit."
)
gen = base_generator()
model_tier_notice(gen, corpus_choice())
tier = gen.profile.title
st.caption(f"Tokenizer and context window of {tier}: {gen.context_window:,} tokens "
           "(`max_position_embeddings`). Token counts differ between models: each has its own tokenizer.")
docs, retriever = documents_and_retriever()
qa = corpus_qa()


# --- the parts -----------------------------------------------------------------------

question = st.text_input("Question", qa[0].question if qa else "", key="pr_question")
style = profile_of(gen).prompt  # the layout this model's profile reads best
system = st.text_area("System instruction", style.instruction or DEFAULT_SYSTEM_RAG, key="pr_system", height=68)
c1, c2, c3, c4 = st.columns(4)
k = c1.slider("Chunks (k)", 0, 10, default_k(gen), key="pr_k", help="The RAG default comes from the model's profile: 1 for the built-in models, 3 for others.")
order = c2.selectbox("Chunk order", list(CHUNK_ORDERS), format_func=CHUNK_ORDERS.get, key="pr_order",
                     help="Models tend to use the start and end of a long context best ('lost in the middle').")
window = number_box(c3, "Context window (tokens)", 64, 1_000_000, "pr_window", gen.context_window,
                    help="Lower it to see what gets cut when a prompt does not fit.")
max_new = number_box(c4, "Room for the answer (tokens)", 1, 4096, "pr_max_new", 48)
if window is None or max_new is None:
    st.stop()  # the box says what it needs

if not question.strip():
    st.info("Type a question to assemble a prompt.")
    st.stop()
try:
    hits = retriever.search(question, k=k, mode="hybrid") if k else []
except InvalidQuery as exc:
    st.error(str(exc))
    st.stop()
with st.expander(f"Retrieved chunks ({len(hits)}), editable", expanded=False):
    texts = [st.text_area(f"[{h.rank}] {h.chunk.doc_name} · score {h.score:.3f}", h.chunk.text, height=90,
                          key=f"pr_chunk_{h.rank}_{h.chunk.doc_id}_{h.chunk.start}") for h in hits]
focus_n = st.slider("Sentence focus (sentences kept, 0 = off)", 0, 8, default_focus(gen), key=f"pr_focus_{gen.name}",
                    help="Keep only the sentences of the chunks that best match the question (embedding cosine and BM25, "
                         "fused by rank), in their document order: extractive context compression. The Answers page "
                         "uses the same setting; its default comes from the model's profile (on for the English reader).")
# The answers' plan: fit the chunks into the window, focus, order, render, encode (core.llm.plan)
plan = plan_prompt(gen, question, texts, max_new_tokens=int(max_new), system=system, embedder=retriever.embedder,
                   focus=focus_n, order=order, window=int(window))
if plan.focused is not None:
    with st.expander(f"Sentence focus kept {plan.focused.n_kept} of {len(plan.focused.sentences)} sentences",
                     expanded=True):
        st.dataframe(pd.DataFrame(plan.focused.sentences)[["kept", "rank", "cosine", "bm25", "chunk", "text"]],
                     hide_index=True, width="stretch")
prompt = plan.prompt

# --- the final string and its token budget ----------------------------------------------

st.subheader("The exact prompt")
if plan.passages:
    st.caption(f"Layout from this model's profile: passages in the **{style.context_in}** turn, the question asked as "
               f"`{style.question}` (docs/english-model.md measures the layouts).")
if not has_chat_template(gen.tokenizer):
    st.caption("This model has no chat template, so the Lab writes its plain format: one `Role: text` line per "
               "message, then `Assistant:`. Answers, fine-tuning and evaluation use the same string"
               + (", as the encoder's input (the answer comes from the decoder)." if gen.is_seq2seq else "."))
st.code(prompt.text, language=None, wrap_lines=True)
if plan.n_dropped or prompt.over_budget:
    dropped = [f"chunk {i}" for i in range(plan.n_kept + 1, plan.n_offered + 1)]
    st.warning(f"Over budget ({int(window):,} − {int(max_new)} answer tokens = {prompt.budget:,}): dropped "
               f"{', '.join(dropped) or 'nothing'}. The lowest-ranked chunks go first; the best one is always "
               "kept, as in the answers."
               + (" Still too long: the model refuses this prompt. Shorten the question or the chunk."
                  if prompt.over_budget else ""))


st.subheader("Token budget")
m = st.columns(3)
m[0].metric("Prompt tokens", f"{prompt.n_tokens:,}")
m[1].metric("Share of the window", f"{prompt.n_tokens / prompt.context_window:.1%}")
m[2].metric("Chunk tokens", f"{sum(p.n_tokens for p in prompt.parts if p.label.startswith('chunk')):,}")
st.plotly_chart(budget_figure(prompt), width="stretch", key="pr_budget")
st.dataframe(pd.DataFrame([{"part": p.label, "tokens": p.n_tokens, "text": p.text[:120]} for p in prompt.parts]),
             hide_index=True, width="stretch")

# --- tokens painted over the text --------------------------------------------------------

st.subheader("What the model actually reads: token ids")
n_show = st.slider("Show the first N tokens", 10, 600, 150, key="pr_n_tokens")
ids = plan.ids[:n_show]  # exactly what generate() feeds the model
st.markdown(token_spans_html(ids, [gen.tokenizer.decode([i]) for i in ids]), unsafe_allow_html=True)

# --- cost ----------------------------------------------------------------------------------

st.subheader("Cost per request")
p1, p2 = st.columns(2)
price_in = number_box(p1, "$ per 1k input tokens", 0, 100, "pr_price_in", PRICES.price_in_per_1k, whole=False, format="%.5f")
price_out = number_box(p2, "$ per 1k output tokens", 0, 100, "pr_price_out", PRICES.price_out_per_1k, whole=False,
                       format="%.5f")
if price_in is None or price_out is None:
    st.stop()  # the box says what it needs
bare = plan_prompt(gen, question, None, max_new_tokens=int(max_new), window=int(window))
long_context = long_context_passages(gen, question, docs, prompt_budget(int(window), int(max_new)))
whole = plan_prompt(gen, question, long_context.passages, max_new_tokens=int(max_new), system=system,
                    window=int(window))
rows = []
for label, p in (("RAG prompt (this page)", prompt), ("No retrieval (prompt engineering only)", bare),
                 (f"Long context: every document until the window is full ({long_context.share:.0%} of the corpus)",
                  whole)):
    cost = request_cost(p.n_tokens, int(max_new), price_in, price_out)
    rows.append({"prompt": label, "input tokens": p.n_tokens, "output tokens (max)": int(max_new),
                 "$ per request": f"{cost:.6f}", "$ per 1,000 requests": f"{cost * 1000:.4f}"})
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
extra = prompt.n_tokens - bare.n_tokens
st.caption(f"Retrieval adds {extra:,} input tokens per request ({extra / max(bare.n_tokens, 1):.1f}× the bare prompt): "
           "that is the running cost RAG pays for fresh, citable facts; a fine-tuned model pays it once, in training. "
           f"Long context pays for {whole.n_tokens:,} input tokens on every request and still reads only "
           f"{long_context.share:.0%} of this corpus; the Decision guide compares the three over a year.")
