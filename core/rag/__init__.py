"""RAG: from files to ranked passages.

The data flows down this list: ``documents`` (load files) → ``chunking``
(split) → ``embedding`` / ``embed_backends`` (vectors) → ``index`` (FAISS and
BM25) → ``retrieval`` (hybrid search) → ``rerank`` (second stage); ``explain``
says why a chunk ranked where it did, ``projection`` draws the embedding map,
``retrieval_metrics`` scores a retriever, ``corpora`` ships the example sets.
"""
