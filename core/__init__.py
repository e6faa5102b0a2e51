"""RAG ⇄ Fine-Tune Lab core: the computation behind every page.

Never imports streamlit: pages call these functions, and so do the CLI
(``python -m core …``), the tests and the benchmarks.
"""

__version__ = "0.1.0"
