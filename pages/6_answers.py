"""Side-by-side answers: one question, five systems (base, RAG, LoRA, LoRA+RAG, long context), the same decoding."""

from __future__ import annotations

import streamlit as st

from core.answering import SYSTEMS, Decoding, default_focus, default_k, reads_by_copying
from core.errors import LabError
from core.evaluation import added_words
from core.llm.confidence import answers_insight
from ui.failure_sections import failure_badge
from ui.insight_views import render_insight
from ui.answer_views import (SYSTEM_CAPTIONS, SYSTEM_TITLES, adapter_missing_reason, answer_card, model_tier_notice,
                             no_adapter_prompt, show_answer)
from ui.session_resources import (base_generator, corpus_choice, corpus_qa, documents_and_retriever, make_answerer,
                                  pick_adapter, saved_adapters)
from ui.progress import waiting
from ui.state import open_in_documents
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

ss = st.session_state
OWN = "✍️ my own question"

st.title("Side-by-side answers")
st.markdown(
    "One question, five systems, **the same model and the same decoding settings**: only what the model is "
    "given changes. **RAG** puts retrieved chunks in the prompt; **LoRA** answers from what the adapter "
    "learned in training; **LoRA + RAG** does both; **long context** pastes every document into the prompt "
    "until the model's window is full, with no retrieval. Each answer shows where it came from."
)

docs, retriever = documents_and_retriever()
qa = corpus_qa() or []
base = base_generator()
model_tier_notice(base, corpus_choice())

adapters = saved_adapters(base)  # only adapters trained on this base model
info = pick_adapter(adapters, "LoRA adapter (from this session's fine-tuning runs)", "ans_adapter")
if info is None:
    no_adapter_prompt()


def _pick_question() -> None:
    choice = ss.get("ans_pick")
    if choice and choice != OWN:
        ss["ans_question"] = choice


if qa:
    st.selectbox("Question from the corpus Q&A set (has a reference answer)", [OWN] + [it.question for it in qa],
                 key="ans_pick", on_change=_pick_question)
question = st.text_input("Your question", key="ans_question",
                         placeholder=qa[0].question if qa else "Ask something your documents answer")


def reference_for(text: str):
    """The corpus Q&A item this question (or one of its paraphrases) is, if any."""
    return next((it for it in qa if text.strip() in (it.question, *it.paraphrases)), None) if text else None


reference = reference_for(question)
if reference is not None:
    st.caption(f"Reference answer: “{reference.answer}” — an answer is marked ✅ when it contains “{reference.target}”.")

with st.expander("Sampling settings (shared by all five systems)", expanded=True):
    c1, c2, c3, c4, c5 = st.columns(5)
    temperature = c1.slider("Temperature", 0.0, 2.0, 0.0, 0.05, key="ans_temperature", help="0 = greedy (same answer every time)")
    top_k = c2.slider("Top-k", 0, 100, 0, key="ans_top_k", help="Sample only from the k likeliest tokens (0 = off)")
    top_p = c3.slider("Top-p", 0.05, 1.0, 1.0, 0.05, key="ans_top_p", help="Sample from the smallest set with this much probability")
    max_tokens = c4.slider("Max answer tokens", 8, 160, 48, key="ans_max_tokens")
    k = c5.slider("Chunks (k)", 1, 8, default_k(base), key=f"ans_k_{base.name}",
                  help="Retrieved chunks in the RAG prompts (default from the model's profile). The tiny models read "
                       "one chunk best: with more, they often copy a value from a passage about a similar entity "
                       "(try it); the English model reads two, then sentence focus keeps two sentences.")
    f1, f2 = st.columns(2)
    focus = f1.slider("Sentence focus (sentences kept, 0 = off)", 0, 8, default_focus(base), key=f"ans_focus_{base.name}",
                      help="RAG and LoRA + RAG: keep only the sentences of the retrieved chunks that best match the "
                           "question (in their document order). The default comes from the model's profile: on for the "
                           "English models, which lose their way in a whole chunk; off for others.")
    copy = f2.toggle("Copy from the passages", value=reads_by_copying(base), key=f"ans_copy_{base.name}",
                     help="Copy decoding: every answer token must continue a copied sentence of the passages, so the "
                          "answer is a sentence of the document that the model chose. The default comes from the "
                          "model's profile (on for the English reader; off for the English model, where it was "
                          "measured to hurt).")
decoding = Decoding(max_tokens, temperature, top_k, top_p, copy)
answerer = make_answerer(base, retriever, info, qa, k=k, documents=docs, focus=focus)


def _ask() -> None:
    """The click, remembered before the run starts: a run cut short by another rerun (a busy server, a second
    event from the browser) leaves the request pending, and the next run answers it; nothing is dropped."""
    ss["ans_pending"] = ss.get("ans_question") or ""


st.button("Ask all five", key="ans_ask", type="primary", on_click=_ask)
pending = ss.get("ans_pending")
asked = pending is not None
if asked and not pending.strip():
    st.warning("Type a question first (or pick one from the corpus Q&A set).")
    ss.pop("ans_pending", None)
    asked = False
elif asked:
    question, reference = pending, reference_for(pending)

cols = st.columns(len(SYSTEMS))
slots = {}
for col, system in zip(cols, SYSTEMS):
    col.subheader(SYSTEM_TITLES[system])
    col.caption(SYSTEM_CAPTIONS[system])
    slots[system] = col.empty()

if asked:
    runnable = answerer.available()
    texts = {s: "" for s in runnable}

    def stream(system: str, piece: str) -> None:
        texts[system] += piece
        show_answer(slots[system], texts[system], cursor=True)

    errors: dict = {}
    try:
        answers = answerer.answer_all(question, runnable, decoding, on_token=stream, errors=errors)
    except LabError as exc:  # before any system answered (e.g. the search itself failed)
        ss.pop("ans_pending", None)
        st.error(str(exc))
        st.stop()
    except Exception:  # a bug must not retry on every rerun; a rerun cutting this short (BaseException) keeps it
        ss.pop("ans_pending", None)
        raise
    ss["ans_result"] = {"question": question, "answers": {a.system: a for a in answers}, "reference": reference,
                        "adapter": info.name if info else None,
                        "errors": {system: str(exc) for system, exc in errors.items()}}
    ss.pop("ans_pending", None)  # answered: only now is the request done

def insight_section(result: dict, answerer) -> None:
    """How sure each system was (token probabilities, the right value's probability) and where RAG's answer came from."""
    st.subheader("How sure was it, and where did the answer come from?")
    st.caption("Each token coloured by the probability the model gave it (red = unsure, green = sure); with a "
               "reference answer, the probability each system gives the right value; for RAG, the words of the "
               "retrieved chunk the answer attended to most.")
    if st.button("Compute confidence and attribution", key="ans_insight_go", icon="🔬"):
        try:
            with waiting("answer insight system", "One forward pass per system", len(result["answers"])):
                ss["ans_insight"] = answers_insight(answerer, result["question"], result["answers"], result["reference"])
        except LabError as exc:
            st.error(str(exc))
            return
    insight = ss.get("ans_insight")
    if insight and insight["question"] == result["question"]:
        render_insight(result["answers"], insight)


result = ss.get("ans_result")
if result:
    answers, ref = result["answers"], result["reference"]
    st.caption(f"Answers to: “{result['question']}”" + (f" · adapter `{result['adapter']}`" if result["adapter"] else ""))
    failed = result.get("errors", {})
    for col, system in zip(cols, SYSTEMS):
        if system in failed:
            slots[system].error(f"This system could not answer: {failed[system]}")
            continue
        if system not in answers:
            slots[system].info(adapter_missing_reason(info))
            continue
        show_answer(slots[system], answers[system].text)
        with col:
            opened = answer_card(answers[system], ref, key=f"ans_{system}")
            if opened is not None:
                open_in_documents(opened.document, opened.start, opened.end)
            result.setdefault("failures", {})[system] = failure_badge(answers[system], ref, docs, answerer)  # why wrong

    st.subheader("What changed")
    base_text = answers["base"].text if "base" in answers else ""
    rag = answers.get("rag")
    if rag is not None:
        chunks = [s.text for s in rag.sources]
        words = added_words(rag.text, base_text, chunks)
        st.markdown("**What RAG added** (words in the RAG answer, found in the retrieved chunks, not in the base answer): "
                    + (" ".join(f"`{w}`" for w in words) if words else "_nothing_"))
    lora = answers.get("lora")
    if lora is not None:
        gained, lost = added_words(lora.text, base_text), added_words(base_text, lora.text)
        st.markdown("**What LoRA changed** (compared with the base answer): added "
                    + (" ".join(f"`{w}`" for w in gained) if gained else "_nothing_") + "; dropped "
                    + (" ".join(f"`{w}`" for w in lost) if lost else "_nothing_"))
    insight_section(result, answerer)
else:
    for system in SYSTEMS:
        slots[system].caption("Ask a question to see this system's answer.")
