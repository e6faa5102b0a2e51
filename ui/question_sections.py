"""The question bank on screen: make it from the documents, see what it is worth, edit it, download it.

The bank is saved in the session's workspace (``questions/<corpus>.jsonl``), so a refresh or a restart keeps
it, and ``ui.rag_views.corpus_qa`` serves it as the Q&A set wherever the corpus has none: fine-tuning,
retrieval metrics, batch evaluation, the knowledge-update experiment and the class quiz.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import LabError
from core.questions import BankConfig, BankItem, make_bank
from core.questions.bank import relocate
from core.questions.quality import bank_jsonl, bank_stats, write_bank
from ui.numbers import number_box
from ui.progress import progress_bar
from ui.session_resources import bank_path, saved_bank

WHY = ("Questions are made by rules, offline: each fact (a name, number, date, price, place or duration) is "
       "asked in several wordings. A model that fine-tunes on one wording of a fact often cannot recall it when "
       "asked another way; seen in varied phrasings, the fact becomes extractable (Allen-Zhu & Li, 2023). So "
       "training rows carry paraphrases, and **held-out** rows ask some facts in a wording no training row uses: "
       "they test the fact, not the sentence.")
COLUMNS = ["keep", "question", "answer", "value", "kind", "split", "document", "start", "end", "chunk"]
ss = st.session_state


def make_bank_now(docs, chunks, per_doc: int) -> None:
    """Make and save the bank, with a bar that says how far it is and about how long is left."""
    with progress_bar("make questions", "Making questions", items=len(docs)) as tick:
        bank = make_bank(docs, BankConfig(per_doc=per_doc), chunks=chunks,
                         on_document=lambda done, total: tick(done, total, f"Document {done} of {total}"))
    write_bank(bank.items, bank_path())
    ss["qb_rejected"] = [r.__dict__ for r in bank.rejected]
    ss.pop("qb_answerable", None)


def question_bank_section(docs, chunks, prefix: str) -> None:
    """"Make questions from these documents", then the bank's quality, rejected candidates and the editor."""
    st.subheader("Make questions from these documents")
    st.markdown(WHY)
    items = saved_bank()
    cols = st.columns([1, 2])
    per_doc = number_box(cols[0], "Facts per document", 1, 200, f"{prefix}_qb_per_doc", 20)
    label = "Make questions again" if items else "Make questions from these documents"
    if cols[1].button(label, key=f"{prefix}_qb_make", type="secondary" if items else "primary",
                      disabled=per_doc is None):
        try:
            make_bank_now(docs, chunks, per_doc)
            ss.pop(f"{prefix}_qb_editor", None)
        except LabError as exc:
            st.error(str(exc))
            return
        st.rerun()
    if flash := ss.pop("qb_flash", None):
        st.success(flash)
    if items:
        bank_quality(items, docs, prefix)
        bank_editor(items, docs, chunks, prefix)


def bank_quality(items: list[BankItem], docs, prefix: str) -> None:
    stats = bank_stats(items)
    c = st.columns(4)
    c[0].metric("Questions", stats["items"])
    c[1].metric("Facts", stats["facts"])
    c[2].metric("Repeated questions", f"{stats['repeat_rate']:.0%}")
    c[3].metric("Held-out wordings", stats["heldout"])
    spread = st.columns(2)
    spread[0].caption("By document")
    spread[0].dataframe(pd.DataFrame(stats["by_document"].items(), columns=["document", "questions"]), hide_index=True)
    spread[1].caption("By kind")
    spread[1].dataframe(pd.DataFrame(stats["by_kind"].items(), columns=["kind", "questions"]), hide_index=True)
    share = ss.get("qb_answerable")
    if share is not None:
        st.metric("Answerable (RAG right, given the source chunk)", f"{share:.0%}")
    elif st.button("Check answerable: ask RAG each question with its own chunk", key=f"{prefix}_qb_check"):
        check_answerable(items, docs)
    rejected = ss.get("qb_rejected") or []
    if rejected:
        with st.expander(f"Rejected candidates ({len(rejected)}) and the rule that dropped each"):
            st.dataframe(pd.DataFrame(rejected[:8]), hide_index=True)


def check_answerable(items: list[BankItem], docs) -> None:
    from core.questions.quality import answerable, answerable_share
    from ui.session_resources import base_generator, make_answerer
    from ui.state import get_retriever

    answerer = make_answerer(base_generator(), get_retriever(docs), None, None)
    with progress_bar("answer question", "Asking RAG each question", items=len(items)) as tick:
        ss["qb_answerable"] = answerable_share(answerable(items, answerer, progress=tick))
    st.rerun()


def bank_editor(items: list[BankItem], docs, chunks, prefix: str) -> None:
    """Keep, drop, edit or add questions; saved to the session's workspace, downloadable as JSON lines."""
    st.caption("Edit the bank: untick **keep** to drop a row, type over a question, answer or value, or add a row "
               "at the bottom. An edited value is found again in its document (start and end follow it).")
    frame = pd.DataFrame([{"keep": True, **{k: getattr(i, k) for k in COLUMNS[1:]}} for i in items], columns=COLUMNS)
    edited = st.data_editor(frame, num_rows="dynamic", key=f"{prefix}_qb_editor", width="stretch",
                            disabled=["start", "end", "chunk"],
                            column_config={"split": st.column_config.SelectboxColumn(options=["train", "heldout"]),
                                           "keep": st.column_config.CheckboxColumn(default=True)})
    cols = st.columns(2)
    if cols[0].button("Save the edited bank", key=f"{prefix}_qb_save"):
        saved = rows_to_items(edited.to_dict("records"), items, {d.name: d.text for d in docs}, chunks)
        write_bank(saved, bank_path())
        ss.pop("qb_answerable", None)
        ss.pop(f"{prefix}_qb_editor", None)  # the table's edits are in the file now: start it afresh from there
        ss["qb_flash"] = f"Saved {len(saved)} questions: they are this corpus's Q&A set now."
        st.rerun()
    cols[1].download_button("Download the bank (JSONL)", bank_jsonl(items), file_name="question_bank.jsonl",
                            mime="application/jsonl", key=f"{prefix}_qb_download")


def rows_to_items(rows: list[dict], old: list[BankItem], texts: dict[str, str], chunks=()) -> list[BankItem]:
    """The editor's rows as bank items: dropped rows left out, blank rows skipped, offsets found again."""
    out = []
    for n, row in enumerate(rows):
        question, answer, value = (str(row.get(k) or "").strip() for k in ("question", "answer", "value"))
        if row.get("keep") is False or not question or not (answer or value):
            continue
        base = old[n] if n < len(old) else None
        document = str(row.get("document") or (base.document if base else next(iter(texts), "")))
        item = BankItem(question, answer or value, value or answer, document, base.start if base else 0,
                        base.end if base else 0, base.chunk if base else None, str(row.get("kind") or "what"),
                        str(row.get("split") or "train"), base.paraphrases if base and base.question == question else (),
                        base.sentence if base else "")
        out.append(relocate(item, texts.get(document, ""), chunks))
    return out
