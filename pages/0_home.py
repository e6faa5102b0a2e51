"""Overview: what the Lab teaches, the tour, the demo presets and which corpora the built-in model reads."""

import streamlit as st

from ui.guide import render_presets, render_warmup, start_tour
from ui.entry import through_app

through_app()  # a restarted server's first runs may skip app.py (ui/entry.py)

st.title("🧪 RAG ⇄ Fine-Tune Lab")
st.markdown(
    """
Two ways to give a language model knowledge it did not have:

* **Retrieval-augmented generation (RAG)** leaves the model alone. At question time it *searches* your
  documents and pastes the best passages into the prompt. Change a document, and the next answer changes.
* **Fine-tuning (here: LoRA)** changes the model itself. A short training run nudges a small set of extra
  weights until the model *remembers* your facts. Change a document, and the model stays as it was until
  you train again.

Every chart in the Lab is computed live by the `core` package on your machine: real chunking, real
embeddings
(all-MiniLM-L6-v2), real FAISS and BM25 indexes, a real (tiny) language model and real LoRA training with `peft`.
"""
)
st.button("🧭 Start the tour", key="home_tour", type="primary", on_click=start_tour, args=(0,),
          help="Eight steps across the pages: do this → notice that, with a guess before each key result.")
st.markdown(
    """
**🧪 world vs 📄 prose corpora.** One rule picks the model from the text. The **tiny LM** (2.6M parameters) was
trained to read the Lab's invented worlds (the **🧪 world** corpora, e.g. an arcade whose products and prices exist
nowhere else): on those it answers from retrieved passages almost perfectly, and without them it can only guess,
which is exactly the lesson. The **📄 prose** corpora (a handbook, a flower shop, game lore) and your own uploads
are ordinary English: the **English model**, SmolLM2-135M-Instruct, reads them (fetched once from the package
registry, then offline; sentence focus hands it the best-matching sentences of the retrieved chunk),
and LoRA teaches it your facts in about two minutes. Every page that generates says which model reads the
current corpus and why. The Lab starts on a 🧪 world corpus.

**A walk through the Lab**
1. **Documents & chunking**: pick a corpus in the sidebar or upload files, and watch them being split.
2. **Embedding space**: every chunk becomes a point; your question lands among them.
3. **Retrieval hits**: dense vs BM25 vs hybrid search, exact vs approximate indexes.
4. **Prompt assembly**: the exact text the model receives, and what it costs.
5. **LoRA fine-tuning**: train an adapter live and watch it learn facts.
6. **Side-by-side answers**: base, RAG, LoRA and LoRA+RAG on one question.
7. **Experiments**: update a fact, batch-evaluate all five systems (long context included), edit a fact in the weights.
8. **Decision guide**: which approach fits your situation, and why.
"""
)
st.subheader("One-click demos")
render_presets()
render_warmup()
