"""Retrieval hits: dense vs BM25 vs hybrid, exact vs approximate indexes, and what chunk size does."""

from __future__ import annotations

import streamlit as st

from core.errors import InvalidQuery
from core.rag.index import MODES
from core.rag.retrieval import check_query
from core.scoring import is_relevant
from ui.rag_views import MODE_LABELS
from ui.session_resources import corpus_qa, documents_and_retriever
from ui.retrieval_sections import index_section, metrics_section, reranking_section, sweep_section
from ui.retrieval_views import hit_card
from ui.state import retriever_key
from ui.widgets import escape
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

ss = st.session_state

st.title("Retrieval hits")
st.markdown(
    "Retrieval is RAG's search step: the question is compared with every chunk, and the best **k** chunks go "
    "into the prompt. **Dense** search compares meanings (embedding cosine), **BM25** counts shared keywords "
    "(rare words weigh more), and **hybrid** merges both rankings (reciprocal-rank fusion)."
)

docs, retriever = documents_and_retriever()
config = retriever.chunk_config
key = retriever_key(docs, config, ss["index_config"], ss["embedder_name"])
qa = corpus_qa()
by_id = {d.id: d for d in docs}
n_chunks = len(retriever.chunks)
st.caption(f"{len(docs)} documents → {n_chunks} chunks ({config.strategy}, size {config.size} {config.unit}, "
           f"overlap {config.overlap}; change it on the Documents page).")


def _sample_question() -> None:
    if qa:
        ss["ret_query"] = qa[ss.get("ret_sample_i", 0) % len(qa)].question
        ss["ret_sample_i"] = ss.get("ret_sample_i", 0) + 1


# --- one question, three retrievers -----------------------------------------------------

q1, q2 = st.columns([5, 1])
query = q1.text_input("Your question", key="ret_query",
                      placeholder=qa[0].question if qa else "Ask something your documents answer")
k_asked = q2.slider("k", 1, 20, 5, key="ret_k", help="How many chunks each retriever returns.")
if qa:
    st.button("🎲 Try a question from the corpus's Q&A set", key="ret_sample", on_click=_sample_question)
k = min(k_asked, n_chunks)
if k < k_asked:
    st.caption(f"ℹ️ The corpus has only {n_chunks} chunks, so k is {k}, not {k_asked}.")


if not query.strip():
    st.info("💡 Type a question above (or try one from the Q&A set) to see what each retriever finds.")
else:
    try:
        clean = check_query(query)
    except InvalidQuery as exc:
        st.warning(str(exc))
    else:
        query_vector = retriever.embed_queries([clean])
        item = next((i for i in qa or [] if clean in (i.question, *i.paraphrases)), None)
        results = {mode: retriever.search(clean, k, mode, query_vector=query_vector) for mode in MODES}
        ranks = {m: {(h.chunk.doc_id, h.chunk.index): h.rank for h in hits} for m, hits in results.items()}
        bm25_max = float(retriever.bm25.scores(clean).max())
        in_all = set.intersection(*(set(r) for r in ranks.values()))
        union = set().union(*(set(r) for r in ranks.values()))
        st.markdown(f"**{len(in_all)} of {len(union)} distinct chunks** are found by all three retrievers. "
                    "The coloured tags on each hit show in which lists it appears, and at which rank. Bars: the "
                    "hit's cosine similarity to the question and its BM25 score (relative to this question's best)."
                    + (f" This question is in the Q&A set (answer: “{escape(item.target)}”), so each hit says "
                       "whether it holds the answer." if item else ""))
        if bm25_max == 0:
            st.caption("No word of the question (after removing stopwords) appears in the corpus, so BM25 scores are all 0.")
        for col, (mode, hits) in zip(st.columns(3), results.items()):
            col.markdown(f"#### {MODE_LABELS[mode]}")
            for hit in hits:
                with col.container(border=True):
                    st.html(hit_card(hit, by_id[hit.chunk.doc_id], ranks, bm25_max,
                                     None if item is None else is_relevant(hit.chunk, item)))


reranking_section(retriever, key, query, k, qa)
index_section(retriever, key, query, k, qa)
sweep_section(docs, retriever, key, query, qa)
metrics_section(retriever, key, qa)
