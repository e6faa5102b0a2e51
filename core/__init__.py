"""RAG ⇄ Fine-Tune Lab core: the computation behind every page.

Never imports streamlit: pages call these functions, and so do the CLI
(``python -m core …``), the tests and the benchmarks.

The subpackages follow the data flow: ``rag`` (files → chunks → vectors →
ranked passages), ``llm`` (load, prompt, decode, look inside), ``finetune``
(LoRA training and its measurements), ``world`` (the invented facts the Lab
teaches with), ``runtime`` (jobs, threads, files, sessions); ``answering``,
``evaluation``, ``experiments`` and ``decision`` use all of them.
"""

from __future__ import annotations

__version__ = "0.1.0"
