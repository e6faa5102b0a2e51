"""Every key the Lab keeps in ``st.session_state``, with its type, and which ones survive a restart.

``SessionState`` is the one declaration: a key that code reads or writes by name is listed here
(tests/ui/test_session_keys.py scans app.py, ui/ and pages/ for keys that are not). Widget keys that only
their widget touches (``key="ret_rrf_k"``) are owned by that widget and not repeated here. Keys built per
item (``f"exp_job_{kind}"``) are declared as ``FAMILIES``. ``session()`` is ``st.session_state`` seen
through this declaration, so a type checker knows what each key holds.

Kept across a refresh and a restart (in the session's ``settings.json``, see ``ui.state``):

- ``KEPT``: set once per browser session from the file (the corpus, the configs, the fine-tuning runs);
- ``KEPT_WIDGETS``: widget values, put back from the file whenever their widget is not on screen
  (Streamlit forgets a widget's key when its page is left).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

import streamlit as st

if TYPE_CHECKING:
    from core.answering import Answerer, Decoding
    from core.experiments import UpdateResult
    from core.finetune.step import Estimate
    from core.rag.chunking import ChunkConfig
    from core.rag.index import IndexConfig
    from core.rag.retrieval import Retriever


class SessionState(TypedDict, total=False):
    # who this session is (ui.state, ui.entry)
    sid: str  # the session id, also in the URL (?sid=…): names the session's workspace folder
    browser_key: str  # this browser's key, kept in its cookie
    session_note: str | None  # why a link did not open the session it named
    _entry_rerun: bool  # this session already reran through app.py (ui.entry)
    _settings: dict[str, Any]  # settings.json as last read or written
    _goto: str | None  # the page a tour step or a preset asked for (ui.guide)
    _report_snapshot: dict[str, Any]  # what the take-home report shows, refreshed after each page
    # what the session reads: corpus, chunking, index, models
    corpus: str
    chunk_config: ChunkConfig
    index_config: IndexConfig
    embedder_name: str | None  # None: the default embedder
    generator_name: str | None  # None: the built-in model the corpus calls for
    _retrievers: dict[str, Retriever]  # built retrievers by their config's key (at most ui.state.MAX_RETRIEVERS)
    # Documents page
    doc_strategy: str  # widget
    doc_unit: str  # widget
    doc_semantic_pct: float  # widget
    doc_cmp_strategy: str  # widget
    doc_pick: str  # widget: the document shown (its id)
    doc_page: int  # widget: the page of chunks shown
    doc_focus: dict[str, Any]  # {"document", "start", "end"}: a passage the Answers page asked to show
    doc_upload: list[Any]  # widget: the uploaded files (Streamlit's UploadedFile)
    doc_saved_files: set[str]  # uploads already stored (by file id)
    doc_upload_errors: dict[str, str]  # file name → why it was refused
    doc_upload_notes: dict[str, str]  # file name → what was done with it
    # Embeddings and Retrieval pages
    emb_query: str  # widget
    emb_backend_results: dict[str, Any]  # backend comparisons by corpus and config
    ret_query: str  # widget
    ret_sample_i: int  # which Q&A question "sample" fills in next
    ret_nonce: int  # bumped to start the chunk editor afresh
    ret_edits: dict[str, dict[int, str]]  # retriever key → chunk position → edited text
    _ret_edited: tuple[Any, Retriever]  # (the edits' signature, the retriever with them applied)
    ret_rr_scores: dict[str, Any]  # {"key", "rows"}: every rerank method on the Q&A set
    ret_sweep: dict[str, Any]  # the chunk-size sweep's result
    ret_k: int  # widget
    ret_hnsw_m: int  # widget
    ret_ef: int  # widget
    ret_nlist: int  # widget
    ret_nprobe: int  # widget
    # Prompt page
    pr_question: str  # widget
    # Fine-tuning page
    ft_run: str  # the run shown (its folder name)
    ft_probe_run: str  # the adapter the probe asks
    ft_preset: str  # widget
    ft_preset_model: str  # the model the preset was chosen for
    ft_estimate: tuple[Any, Estimate | None]  # (the settings measured, what a run costs here)
    ft_memory_refusal: str | None  # why the run would not fit in memory
    _ft_metrics_memo: dict[str, Any]  # metrics.json by run folder, with its modification time
    # Answers page
    ans_question: str  # widget
    ans_pick: str | None  # widget: a question from the Q&A set
    ans_pending: str  # the question being answered now
    ans_adapter: str  # widget: the adapter's name
    ans_result: dict[str, Any]  # {"question", "answers", "reference", …}
    ans_insight: dict[str, Any]  # confidence and attribution of the answers shown
    # Experiments page
    exp_new_value: str  # widget
    exp_rome_result: dict[str, Any]
    exp_ku_result: UpdateResult
    exp_task_ids: dict[str, str]  # task name → job id
    exp_eval_meta: dict[str, Any]  # the batch evaluation's model, corpus and settings
    exp_eval_answerers: dict[str, tuple[str, Answerer]]  # label → (system, answerer), to re-run with a knob turned
    exp_fail_decoding: Decoding
    exp_sure_rows: list[dict[str, Any]]
    exp_fg_result: dict[str, Any]
    # Question bank, quiz, tour, room
    qb_rejected: list[dict[str, Any]]
    qb_answerable: float | None
    qb_flash: str
    quiz_round: int
    quiz_result: dict[str, Any]
    tour_step: int | None
    room_ok: bool  # the teacher's passcode was given
    room_stopped: str  # the job just stopped
    room_deleted: str  # the session just deleted


# Keys built per item: the name, with its parts in braces, and what each holds.
FAMILIES: dict[str, str] = {
    "exp_job_{kind}": "str: the job id of the experiment's training run",
    "exp_fail_conf_{system}_{item}_{variant}_{question}": "float: P(right value) under that system's prompt",
    "exp_fail_rerun_{system}_{item}_{variant}": "dict: the answer after a knob was turned",
    "exp_fail_rerun_{system}_{item}_{variant}_train": "dict: the training run a knob started",
    "tour_revealed_{i}": "bool: the tour's answer to question i is shown",
    "{prefix}_qb_editor": "dict: widget, the question bank's table edits",
    "{prefix}_live": "set[str]: the live jobs the job monitor last drew (a change reruns the page)",
}

KEPT = ("corpus", "chunk_config", "index_config", "ft_run", "ft_probe_run")
KEPT_WIDGETS = ("ans_question", "emb_query", "ret_query", "pr_question", "exp_new_value",
                "ret_k", "ret_hnsw_m", "ret_ef", "ret_nlist", "ret_nprobe", "ans_adapter")


def session() -> SessionState:
    """``st.session_state``, typed by the declaration above."""
    return cast(SessionState, st.session_state)
