"""The Embedding page's lesson in quantisation: three embedder backends side by side on the current corpus."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.rag.corpora import load_qa
from core.rag.embed_backends import BACKENDS
from core.rag.retrieval_metrics import compare_backends
from ui.progress import cost_note, progress_bar
from ui.resources import get_embedder

LABELS = {"torch": "PyTorch fp32 (reference)", "onnx": "ONNX, optimised (fp32)", "onnx-int8": "ONNX int8 (quantised)"}


def backend_comparison(retriever, corpus, key: str) -> None:
    """A button that measures every backend on ``retriever``'s chunks (with progress); the last result stays shown."""
    st.subheader("Speed vs accuracy: three ways to run the same embedder")
    st.markdown(
        "The same model can run on **PyTorch**, on **ONNX Runtime** (a graph compiled and fused for inference: "
        "the same arithmetic, faster), or **quantised to int8** (weights stored as 8-bit integers: a quarter of "
        "the size and faster again, but every vector moves a little). Measure what that costs on this corpus."
    )
    qa = load_qa(corpus.qa_path) if corpus is not None and corpus.qa_path else []
    results = st.session_state.setdefault("emb_backend_results", {})
    n_chunks = len(retriever.chunks)
    if st.button("⚡ Compare the three backends on this corpus", key="emb_backend_go"):
        with progress_bar("backend comparison chunk", "Loading the three backends, then embedding "
                          f"{n_chunks} chunks with each", n_chunks) as tick:
            embedders = {name: get_embedder(st.session_state.get("embedder_name"), name) for name in BACKENDS}
            for notice in dict.fromkeys(e.notice for e in embedders.values() if e.notice):
                st.info(notice)  # e.g. no ONNX Runtime: those rows are PyTorch again
            results[key] = compare_backends(retriever.chunks, embedders, qa, progress=lambda done, total, name: tick(
                done, total, f"Measured {LABELS[name]}"))
    rows = results.get(key)
    if rows is None:
        st.caption(f"Runs on a click: it embeds every chunk three times; "
                   f"{cost_note('backend comparison chunk', n_chunks)}.")
        return
    _show(rows, bool(qa))


def _show(rows: list[dict], with_qa: bool) -> None:
    table = pd.DataFrame({
        "backend": [LABELS.get(r["backend"], r["backend"]) for r in rows],
        "chunks / s": [round(r["chunks_per_s"], 1) for r in rows],
        "speed vs PyTorch": [f"{r['speedup']:.2f}×" for r in rows],
        "cosine to fp32 (mean)": [round(r["cosine_mean"], 4) for r in rows],
        "cosine to fp32 (worst chunk)": [round(r["cosine_min"], 4) for r in rows],
        "top-5 neighbours changed": [round(r["top_k_changed"], 2) for r in rows],
        **({"hit@1": [r["hit_at_1"] for r in rows], "hit@5": [r["hit_at_5"] for r in rows]} if with_qa else {}),
    })
    st.dataframe(table, hide_index=True, key="emb_backend_table")
    int8 = next((r for r in rows if r["backend"] == "onnx-int8"), None)
    basis = f"{rows[0]['n_questions']} Q&A questions" if with_qa else "each chunk's own neighbours (no Q&A set)"
    if int8 is not None:
        st.caption(
            f"Top-5 neighbours changed: of each query's 5 nearest chunks under PyTorch fp32, how many differ "
            f"(mean over {basis}). int8 moves vectors by a cosine of {1 - int8['cosine_mean']:.3f} on average, "
            f"enough to swap {int8['top_k_changed']:.2f} of 5 neighbours, for {int8['speedup']:.1f}× the speed. "
            "The same trade-off comes back with LoRA and model size: less precision or fewer parameters, "
            "more speed, and a small, measurable loss of accuracy. Speeds depend on what else the machine is doing."
        )
