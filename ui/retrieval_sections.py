"""The Retrieval page's sections below the first search, each a function of its data.

Like spacy-streamlit's ``visualize_*`` helpers, each section draws its own widgets and charts from the
arguments it is given (the retriever, its cache key, the question, k, the Q&A set). Besides those it reads
only the session's embedder name and corpus (declared in ``ui/session_keys.py``) and keeps its results
under its own keys; the charts and cards themselves come from the render-only ``ui.retrieval_views`` and
``ui.rerank_views``.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from core.errors import ConfigError, InvalidQuery, LabError
from core.rag.explain import explain_hits
from core.rag.index import MODES, RRF_K, IndexConfig
from core.rag.rerank import DEFAULT_CANDIDATES, DEFAULT_METHOD as DEFAULT_RERANK, METHOD_HELP as RERANK_HELP
from core.rag.rerank import METHODS as RERANK_METHODS, RerankConfig, Reranker, rank_moves
from core.rag.retrieval import MAX_QUERY_CHARS, Retriever
from core.rag.retrieval_metrics import chunk_size_sweep, question_at_sizes
from core.runtime.workspace import content_hash
from ui.numbers import number_box
from ui.progress import cost_note, progress_bar, waiting
from ui.rag_views import preview
from ui.rerank_views import SENTENCE_COLOUR, TERM_COLOUR, chunk_moves, hit_html, slope_chart
from ui.resources import (fusion_scores, get_embedder, get_embedding_cache, get_feature_store, get_reranker,
                          index_rows, retrieval_scores)
from ui.retrieval_views import METRICS, index_chart, index_table, scores_chart, scores_table, sweep_chart
from ui.widgets import download_table, escape

SWEEP_SIZES = {"tokens": [16, 32, 64, 96, 128, 160, 192, 256, 384], "characters": [200, 400, 600, 800, 1200, 1600]}
SWEEP_OVERLAP = 0.2  # the sweep's overlap as a share of the chunk size
ss = st.session_state


def edited_retriever(retriever, key: str, edits: dict[int, str], cache):
    """``retriever`` with this session's chunk edits applied (each edit re-embeds one chunk; kept per session)."""
    if not edits:
        return retriever
    signature = (key, tuple(sorted(edits.items())))
    cached = ss.get("_ret_edited")
    if cached and cached[0] == signature:
        return cached[1]
    edited = retriever
    for position, text in sorted(edits.items()):
        edited = edited.with_chunk_text(position, text, cache)
    ss["_ret_edited"] = (signature, edited)
    return edited


def score_rerankers(retriever, qa, mode: str, config, store) -> list[dict]:
    """Every rerank method on the Q&A set, with a progress bar (the cross-encoder only when one is chosen)."""
    from core.rag.retrieval_metrics import compare_rerankers

    methods = [m for m in RERANK_METHODS if m != "cross-encoder" or config.method == "cross-encoder"]
    with progress_bar("rerank eval", f"Scoring {len(methods)} rerankers on {len(qa)} questions", len(qa)) as tick:
        return compare_rerankers(retriever, qa, mode, Reranker(config, store), methods, progress=tick)


def _run_sweep(docs, config, key: str, qa, sizes: list[int], mode: str, question: str, embedder_name) -> dict:
    embedder = get_embedder(embedder_name)
    cache = get_embedding_cache(embedder.cache_key)
    result = {"key": key, "mode": mode, "rows": [], "question": question, "per_size": []}
    try:
        with progress_bar("sweep size", "Chunking, embedding and scoring each size", len(sizes)) as tick:
            if qa:
                result["rows"] = chunk_size_sweep(docs, embedder, qa, sizes, base=config, mode=mode, cache=cache,
                                                  overlap_ratio=SWEEP_OVERLAP, progress=tick)
            if question:
                tick(len(sizes), len(sizes), "Asking your question at each size")
                rows = question_at_sizes(docs, embedder, question, sizes, base=config, mode=mode, cache=cache,
                                         overlap_ratio=SWEEP_OVERLAP)
                result["per_size"] = [{**row, "text": preview(row["text"], 200)} for row in rows]
    except ConfigError as exc:
        st.error(str(exc))
    return result


def reranking_section(retriever: Retriever, key: str, query: str, k: int, qa) -> None:
    """The first stage beside a reranker, why each chunk is a hit, tunable fusion, and editing a chunk."""
    st.header("Reranking: before and after")
    st.markdown(
        "The first stage compares the question with **one vector or one bag of words per chunk**: it usually finds the "
        "right chunk, but not always first. A **reranker** reads only the first stage's top **N** candidates, more "
        "closely, and reorders them. RAG then reads the new top chunk (the Answers page uses the default, **fused**). "
        "Lines show each chunk's rank before (left) and after (right); in each hit, "
        f"<mark style='background:{TERM_COLOUR}'>marked words</mark> are the question's BM25 terms (weight in the chip) "
        f"and the <span style='background:{SENTENCE_COLOUR}'>shaded sentence</span> is the one closest to the question.",
        unsafe_allow_html=True)
    r1, r2, r3, r4 = st.columns(4)
    methods = [m for m in RERANK_METHODS if m != "none"]
    method = r1.selectbox("Reranker", methods, index=methods.index(DEFAULT_RERANK), key="ret_rr_method",
                          help="\n".join(f"- **{m}**: {RERANK_HELP[m]}" for m in methods))
    candidates = r2.slider("Candidates N", 5, 50, DEFAULT_CANDIDATES, key="ret_rr_candidates",
                           help="How many first-stage hits the reranker reads.")
    first_mode = r3.selectbox("First stage", MODES, index=MODES.index("hybrid"), key="ret_rr_mode")
    rrf_k = r4.slider("Hybrid: RRF constant", 1, 200, RRF_K, key="ret_rrf_k",
                      help="Hybrid adds 1/(constant + rank) from each list: small constants let the very top ranks dominate.")
    ce_model = (st.text_input("Cross-encoder: a local folder, or a hub id already in the cache (the Lab does not "
                              "download it)", key="ret_rr_model") if method == "cross-encoder" else None)
    try:
        rr_config = RerankConfig(method, candidates, (ce_model or "").strip() or None)
    except ConfigError as exc:
        st.info(str(exc))
        rr_config = None
    edits: dict = ss.setdefault("ret_edits", {}).setdefault(key, {})
    tuned = edited_retriever(retriever, key, edits, get_embedding_cache(retriever.embedder.name)).with_rrf_k(rrf_k)
    store = get_feature_store(ss["embedder_name"])
    clean_query = query.strip() if query.strip() and len(query) <= MAX_QUERY_CHARS else ""
    if clean_query and rr_config is not None:
        reranker = get_reranker(ss["embedder_name"], rr_config)
        qv = tuned.embed_queries([clean_query])[0]
        before = reranker.with_config(RerankConfig("none")).search(tuned, clean_query, k, first_mode)
        try:
            with waiting(f"rerank {method}", f"Reranking with {method}"):
                after = reranker.search(tuned, clean_query, k, first_mode)
        except LabError as exc:
            st.error(str(exc))
            after = []
        whys = explain_hits(tuned, clean_query, before + after, qv, store)
        edited_keys = {(tuned.chunks[p].doc_id, tuned.chunks[p].index) for p in edits}
        if after:
            st.plotly_chart(slope_chart(before, after), key="ret_rr_slope")
        left, right = st.columns(2)
        left.markdown(f"#### Before: {first_mode} top {k}")
        right.markdown(f"#### After: {method} (top {k} of {max(k, candidates)})")
        for col, hits, explanations in ((left, before, whys[: len(before)]), (right, after, whys[len(before):])):
            for hit, why in zip(hits, explanations):
                with col.container(border=True):
                    st.html(hit_html(hit, why, (hit.chunk.doc_id, hit.chunk.index) in edited_keys))
    elif not clean_query:
        st.info("💡 Type a question above to see the first stage and the reranker side by side.")

    if qa:
        st.markdown(f"**Fusion you can tune:** hybrid search (first stage only) over the {len(qa)} Q&A questions "
                    f"with RRF constant {rrf_k}, against the paper's {RRF_K}.")
        edits_id = content_hash(json.dumps(sorted(edits.items())))
        with waiting("retrieval eval question", "Scoring hybrid search on the Q&A set", 2 * len(qa)):
            tuned_scores = fusion_scores(key, edits_id, rrf_k, tuned, qa)
            default_scores = fusion_scores(key, edits_id, RRF_K, tuned.with_rrf_k(RRF_K), qa)
        for col, (name, label) in zip(st.columns(4), METRICS.items()):
            col.metric(f"hybrid {label}", f"{tuned_scores[name]:.3f}",
                       delta=f"{tuned_scores[name] - default_scores[name]:+.3f}" if rrf_k != RRF_K else None)
        rr_key = [key, edits_id, first_mode, candidates, rrf_k, (ce_model or "").strip()]
        if st.button("📊 Score every reranker on the Q&A set", key="ret_rr_score", disabled=rr_config is None,
                     help=f"Every method on {len(qa)} questions: {cost_note('rerank eval', len(qa))}."):
            ss["ret_rr_scores"] = {"key": rr_key, "rows": score_rerankers(tuned, qa, first_mode, rr_config, store)}
        table = ss.get("ret_rr_scores")
        if table and table["key"] == rr_key:
            st.dataframe(pd.DataFrame(table["rows"]), hide_index=True, width="stretch")
            download_table(table["rows"], "reranker_comparison", "Reranker comparison", "ret_rr_dl",
                           {"first_stage": first_mode, "candidates": candidates})
            st.caption(f"{first_mode} first stage, top {candidates} reranked, top 5 scored. `none` is the first stage "
                       "alone; MMR trades relevance for variety, so it is not meant to win hit@1.")

    with st.expander("✎ Edit a chunk and search again (this session only)"):
        st.markdown("Change what one chunk says, re-index **that chunk only** (one embedding; BM25's word statistics "
                    "are recounted in milliseconds), and see the ranking move. Documents on disk are not changed.")
        positions = list(range(len(tuned.chunks)))
        pos = st.selectbox("Chunk", positions, key="ret_edit_pos",
                           format_func=lambda i: f"{tuned.chunks[i].doc_name} #{tuned.chunks[i].index}: "
                                                 f"{preview(tuned.chunks[i].text, 70)}")
        new_text = st.text_area("Its text", tuned.chunks[pos].text, key=f"ret_edit_text_{key}_{pos}", height=160)
        e1, e2 = st.columns(2)
        if e1.button("Apply and re-index this chunk", key="ret_edit_apply"):
            if new_text.strip():
                edits[pos] = new_text
                st.rerun()
            st.warning("The edited chunk is empty: give it some text.")
        if e2.button("Undo all edits", key="ret_edit_reset", disabled=not edits):
            edits.clear()
            st.rerun()
        if edits:
            st.caption(f"{len(edits)} chunk(s) edited in this session; the reranking above and its scores use them.")
            if clean_query and rr_config is not None:
                reranker = get_reranker(ss["embedder_name"], rr_config)
                moves = rank_moves(retriever.with_rrf_k(rrf_k), tuned, clean_query, first_mode, reranker, sorted(edits))
                for line in chunk_moves(moves, max(reranker.config.candidates, 1)):
                    st.markdown(line)


def index_section(retriever: Retriever, key: str, query: str, k: int, qa) -> None:
    """Exact vs approximate indexes: recall@k and latency, measured live."""
    n_chunks = len(retriever.chunks)
    st.header("Exact vs approximate search")
    st.markdown(
        "An **exact** (flat) index compares the question with every chunk: perfect, but the work grows with the "
        "corpus. **Approximate** indexes skip most comparisons. **HNSW** walks a graph of neighbours (M links per "
        "point; efSearch candidates kept while walking). **IVF** groups the vectors into nlist clusters and searches "
        "only the nprobe closest ones. Their **recall@k** says what share of the exact top-k they still find. On a "
        "few hundred chunks everything takes well under a millisecond; the trade-off matters at millions."
    )
    i1, i2, i3, i4 = st.columns(4)
    hnsw_m = i1.slider("HNSW: M", 2, 64, 16, key="ret_hnsw_m")
    ef = i2.slider("HNSW: efSearch", 1, 256, 16, key="ret_ef")
    nlist = number_box(i3, "IVF: nlist (0 = automatic)", 0, 4096, "ret_nlist", 0)
    nprobe = i4.slider("IVF: nprobe", 1, 64, 1, key="ret_nprobe")
    queries = [q for item in qa for q in (item.question, *item.paraphrases)] if qa else ([query] if query.strip() else [])

    if not queries:
        st.info("Type a question above to measure the indexes on it (this corpus has no Q&A set to use instead).")
    elif nlist is not None:  # (otherwise the box says what it needs)
        try:
            configs = (IndexConfig("flat"), IndexConfig("hnsw", hnsw_m=hnsw_m, hnsw_ef_search=ef),
                       IndexConfig("ivf", ivf_nlist=nlist, ivf_nprobe=nprobe))
        except ConfigError as exc:
            st.error(str(exc))
            st.stop()
        if st.button("⏱ Measure again", key="ret_remeasure"):
            ss["ret_nonce"] = ss.get("ret_nonce", 0) + 1
        with waiting("index recall question", f"Searching {len(queries)} questions with three indexes", len(queries)):
            try:
                rows = index_rows(key, tuple(queries), k, tuple(c.to_dict() for c in configs), ss.get("ret_nonce", 0),
                                   retriever)
            except InvalidQuery as exc:
                st.warning(str(exc))
                rows = []
        ok = [r for r in rows if "error" not in r]
        for row in rows:
            if "error" in row:
                st.info(f"**IVF:** {row['error']}")
        if ok:
            table = pd.DataFrame(index_table(ok, k))
            left, right = st.columns([1, 1])
            left.dataframe(table, hide_index=True, width="stretch")
            download_table(table, "index_comparison", "Index comparison", "ret_index_dl",
                           {"n_chunks": n_chunks, "n_questions": len(queries),
                            "configs": [c.to_dict() for c in configs]}, where=left)
            left.caption(f"Measured live on {len(queries)} questions"
                         + (" (the Q&A set with its paraphrases)" if qa else " (your question)")
                         + f" over {n_chunks} chunks; recall compares each index's top-{k} with exact search.")
            right.plotly_chart(index_chart(ok, k), key="ret_index_chart")


def sweep_section(docs, retriever: Retriever, key: str, query: str, qa) -> None:
    """Re-chunk at several sizes and score each (and ask the question again at each size)."""
    config = retriever.chunk_config
    st.header("What does chunk size do?")
    st.markdown(f"Re-chunks the corpus at several sizes (overlap {SWEEP_OVERLAP:.0%} of the size, same strategy), "
                "re-indexes it, " + ("scores every Q&A question, " if qa else "")
                + "and asks your question again at each size. Already-embedded chunks come from the cache.")
    s1, s2 = st.columns([3, 1])
    options = SWEEP_SIZES[config.unit]
    sizes = s1.multiselect(f"Chunk sizes ({config.unit})", options, default=options[1:6:2], key="ret_sweep_sizes")
    sweep_mode = s2.selectbox("Retriever", MODES, key="ret_sweep_mode")
    question = query.strip() if query.strip() and len(query) <= MAX_QUERY_CHARS else ""
    if not qa and not question:
        st.info("This corpus has no Q&A set (questions with known answers), so retrieval quality cannot be scored. "
                "Type a question above to see how its best chunk changes with the chunk size.")
    elif st.button("▶ Run the sweep", key="ret_sweep_run", disabled=not sizes,
                   help=f"{len(sizes)} sizes: {cost_note('sweep size', len(sizes))}."):
        ss["ret_sweep"] = _run_sweep(docs, config, key, qa, sorted(sizes), sweep_mode, question, ss["embedder_name"])
    sweep = ss.get("ret_sweep")
    if sweep and sweep["key"] == key and sweep["rows"]:
        st.plotly_chart(sweep_chart(sweep["rows"], config.unit), key="ret_sweep_chart")
        download_table(sweep["rows"], "chunk_size_sweep", "Sweep", "ret_sweep_dl",
                       {"corpus": ss["corpus"], "mode": sweep["mode"], "strategy": config.strategy,
                        "unit": config.unit, "overlap_ratio": SWEEP_OVERLAP})
        st.caption(f"{sweep['mode']} retrieval over {int(sweep['rows'][0]['n'])} questions. Small chunks are precise "
                   "but may cut a fact in two; big chunks keep facts whole but blur their meaning into one vector.")
    if sweep and sweep["key"] == key and sweep["per_size"]:
        st.markdown(f"**Your question at each size** ({sweep['mode']}): “{escape(sweep['question'])}”")
        st.dataframe(pd.DataFrame(sweep["per_size"]), hide_index=True, width="stretch")
        download_table(sweep["per_size"], "question_at_each_size", "Your question at each size", "ret_per_size_dl",
                       {"question": sweep["question"], "mode": sweep["mode"]})


def metrics_section(retriever: Retriever, key: str, qa) -> None:
    """hit@1, hit@5, MRR and nDCG@5 of the three retrievers over the Q&A set."""
    st.header("How good is retrieval on this corpus?")
    if qa is None:
        st.info("No Q&A set for this corpus, so there is nothing to score against. Pick a sample corpus in the sidebar.")
    else:
        paraphrases = st.checkbox("Also ask every paraphrased question (same facts, different words)", key="ret_paraphrases")
        n_asked = sum(1 + len(item.paraphrases) for item in qa) if paraphrases else len(qa)
        with waiting("retrieval eval question", f"Scoring {n_asked} questions with the three retrievers", 3 * n_asked):
            evaluation = retrieval_scores(key, paraphrases, ss["corpus"], retriever, qa)
        scores = pd.DataFrame(scores_table(evaluation))
        left, right = st.columns([1, 1])
        left.dataframe(scores, hide_index=True, width="stretch")
        download_table(scores, "retrieval_comparison", "Comparison", "ret_scores_dl",
                       {"corpus": ss["corpus"], "k": 5, "paraphrases": paraphrases,
                        "chunk_config": retriever.chunk_config.to_dict()}, where=left)
        left.caption("hit@1: the first chunk holds the answer. hit@5: one of the top five does. MRR: 1/rank of the "
                     "first relevant chunk, averaged. nDCG@5: like MRR, but credits every relevant chunk in the top five.")
        right.plotly_chart(scores_chart(evaluation), key="ret_metrics_chart")
        with st.expander("Per question (dense retrieval)"):
            detail = pd.DataFrame(evaluation["dense"][1])
            detail["top_text"] = detail["top_text"].map(preview)
            st.dataframe(detail, hide_index=True, width="stretch")
