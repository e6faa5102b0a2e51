"""Helpers the test modules share: files, tiny models, AppTest drivers, the CLI, adapters.

Fixtures live in ``conftest.py``; plain functions and constants live here, so
no test module imports another.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
from streamlit.testing.v1 import AppTest

from core.llm.loading import BUILTIN_PATH
from ui.navigation import page_file

ROOT = Path(__file__).resolve().parent.parent  # the repository

HOME, DOCUMENTS, EMBEDDINGS, RETRIEVAL, PROMPT = (page_file(k) for k in ("", "documents", "embeddings", "retrieval", "prompt"))
FINETUNE, ANSWERS, EXPERIMENTS, MODEL = (page_file(k) for k in ("finetune", "answers", "experiments", "model"))


# --- files in every format (and broken ones) ---------------------------------------------

def make_pdf(pages: list[str], password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
        else:
            pdf.rect(20, 20, 100, 100)  # a page with a drawing and no text layer, like a scan
    if password:
        pdf.set_encryption(owner_password="owner", user_password=password)
    return bytes(pdf.output())


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None) -> bytes:
    import docx

    document = docx.Document()
    document.add_heading("Handbook", level=1)
    for p in paragraphs:
        document.add_paragraph(p)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                t.cell(r, c).text = cell
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\0" * (30 * 1024 * 1024))
    return buffer.getvalue()


# --- a tiny random model that loads in a blink ------------------------------------------------

def tiny_tokenizer():
    """The built-in model's tokenizer (it has a chat template)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(BUILTIN_PATH))


def tiny_model_dir(folder: Path) -> Path:
    """A random 2-layer Llama (hidden 32) with a chat-template tokenizer, saved like the shipped model."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer()
    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512,
                      bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                      tie_word_embeddings=True)
    LlamaForCausalLM(cfg).save_pretrained(str(folder))
    tok.save_pretrained(str(folder))
    return folder


# --- AppTest: open a page, read what it shows ---------------------------------------------------

NOTES = {  # three small documents: a tiny corpus keeps the tests fast
    "roses.txt": "Roses need six hours of sun a day. Water roses at the base, never on the leaves.\n\n"
                 "Prune roses in late winter, just before new growth starts.",
    "delivery.md": "# Delivery\n\nDelivery to Ashcombe costs $9.95. Same-day delivery closes at 1 pm.\n\n"
                   "## Returns\n\nFlowers cannot be returned, but we replace a damaged bouquet for free.",
    "tulips.txt": "Tulips keep growing in the vase. Trim the stems every two days and use cold water.",
}


def open_page(page: str, corpus: str | None = None, uploads: dict[str, bytes] | None = None) -> AppTest:
    """Start the app, optionally upload files (on the Documents page) or pick a corpus, then open ``page``."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    if uploads:
        at.switch_page(DOCUMENTS)
        at.run()
        files = [(name, data, "text/plain") for name, data in uploads.items()]
        at.file_uploader(key="doc_upload").set_value(files)
        at.run()
    if corpus:
        at.selectbox(key="corpus").set_value(corpus)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def text_uploads(extra: dict[str, str] | None = None) -> dict[str, bytes]:
    return {name: text.encode() for name, text in {**NOTES, **(extra or {})}.items()}


def figures(at: AppTest) -> list[dict]:
    """Every plotly figure on the page, as the JSON the browser receives (typed arrays decoded to lists)."""
    return [_decode(json.loads(chart.proto.spec)) for chart in at.get("plotly_chart")]


def _decode(node):
    """Plotly ships numpy arrays as ``{"dtype", "bdata", "shape"}``; turn them back into lists."""
    if isinstance(node, dict) and "bdata" in node and "dtype" in node:
        array = np.frombuffer(base64.b64decode(node["bdata"]), dtype=node["dtype"])
        if "shape" in node:
            array = array.reshape([int(n) for n in str(node["shape"]).split(",")])
        return array.tolist()
    if isinstance(node, dict):
        return {k: _decode(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_decode(v) for v in node]
    return node


def rendered_bodies(at: AppTest) -> list[str]:
    """Everything the browser renders as markdown or HTML."""
    bodies = [m.value for m in at.markdown] + [c.value for c in at.caption]
    bodies += [e.value for kind in ("info", "warning", "error", "success") for e in getattr(at, kind)]
    return bodies + [h.proto.body for h in at.get("html")]


# --- AppTest in a named session (as the browser that owns it) -----------------------------------

NOTE = b"The greenhouse opens at nine. Tomatoes need warm nights. The key is under the blue pot."


def start(sid: str, page: str | None = None, **state) -> AppTest:
    """Run app.py as the browser that owns session ``sid`` would (plus session ``state``), then open ``page``.

    AppTest cannot send the browser's cookie, so the session is given directly: a ``?sid=`` alone opens
    nothing (``tests/core/runtime/test_private_sessions.py``).
    """
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=240)
    at.session_state["sid"] = sid
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def upload(at: AppTest, files: dict[str, bytes]) -> AppTest:
    """Drop ``files`` on the Documents page's uploader."""
    at.file_uploader(key="doc_upload").set_value([(n, d, "application/octet-stream") for n, d in files.items()])
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def boxes(at: AppTest, *kinds: str) -> list[str]:
    return [e.value for kind in kinds for e in getattr(at, kind)]


# --- the command line --------------------------------------------------------------------------

FLOWER = ROOT / "sample_data" / "prose_flower_shop"


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    """A real ``python -m core`` process (exit code, stdout, stderr)."""
    out = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def in_process(capsys, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """``core.cli.main(args)`` in this process, answered in the shape of ``cli``'s result."""
    from core.cli import main

    capsys.readouterr()  # drop whatever earlier code printed
    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    out, err = capsys.readouterr()
    if check:
        assert code == 0, err
    return subprocess.CompletedProcess(list(args), code, out, err)


# --- adapters for the built-in model ---------------------------------------------------------------

def save_untrained_adapter(generator, out_dir: Path, seconds: float = 12.5) -> Path:
    """A real LoRA adapter folder whose update is still zero (answers equal the base model's)."""
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(copy.deepcopy(generator.model),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    model.save_pretrained(str(out_dir))
    (out_dir / "metrics.json").write_text(json.dumps({
        "status": "done", "config": {"method": "lora", "rank": 4, "paraphrases": 0},
        "summary": {"seconds": seconds, "facts_recalled": 0.0}, "base_model": generator.name, "started_at": time.time()}))
    return out_dir


_TRAINED: dict = {}


def trained_adapter(generator, qa, n_facts: int = 5) -> Path:
    """A real LoRA adapter trained on the first ``n_facts`` rows (seconds on the built-in model); trained once per process."""
    key = (generator.name, n_facts)
    if key not in _TRAINED:
        from core.finetune import FinetuneConfig, train
        from core.finetune.data import build_data

        config = FinetuneConfig(max_steps=40, eval_every=1000, max_eval_questions=n_facts, val_fraction=0,
                                open_book_mix=0)
        out = Path(tempfile.mkdtemp(prefix="lab-test-adapter-")) / "ft-reg"
        train(generator.model, generator.tokenizer, build_data(generator.tokenizer, qa[:n_facts], config, {}), config,
              out, base_name=generator.name)
        _TRAINED[key] = out
    return _TRAINED[key]


# --- the Answers page ----------------------------------------------------------------------------

SID = "answerstest"
ANSWER_DIV = "<div style='font-size:1.05rem"


def session_adapters() -> Path:
    return Path(os.environ["RAGFT_WORKSPACE"]) / "sessions" / SID / "adapters"


def open_answers_page(page: str, corpus: str, model: str | None, sid: str = SID) -> AppTest:
    """Open ``page`` in session ``sid`` with ``corpus`` picked and ``model`` (None: the built-in one) loaded."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.session_state["sid"] = sid
    if model:
        at.session_state["generator_name"] = model
    at.run()
    at.selectbox(key="corpus").set_value(corpus)
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def answers_shown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith(ANSWER_DIV)]


def wait_for_eval(at: AppTest, timeout: float = 150) -> None:
    """Wait for the Experiments page's evaluation job, then rerun the page to show it."""
    from core.runtime import jobs

    jobs.QUEUE.wait(at.session_state["exp_task_ids"]["eval"], timeout)  # the evaluation is a job in the queue
    at.run()
    assert not at.exception, [e.value for e in at.exception]
