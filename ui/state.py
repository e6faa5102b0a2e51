"""Per-session state: who this session is, which corpus it uses, and its retrievers.

A session id lives in the URL (``?sid=…``) so a page refresh reconnects to
the same workspace folder (uploads, adapters, running training jobs), but only
in the browser whose cookie holds the session's key (see ``core.runtime.sessions``).
"""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from core.rag.chunking import ChunkConfig
from core.rag.corpora import CorpusInfo, list_corpora
from core.rag.documents import Document, load_bytes, load_paths
from core.errors import DocumentError, LabError
from core.rag.index import IndexConfig
from core.rag.retrieval import Retriever
from core.runtime.limits import limits
from core.runtime.sessions import MAX_KEYS, browser_keys, new_browser_key, resolve_session, sweep_empty_sessions
from core.runtime.workspace import Workspace, atomic_write_json, content_hash, read_json, store_upload, upload_name
from ui.guide_content import DEFAULT_CORPUS
from ui.progress import progress_bar
from ui.resources import get_embedder, get_embedding_cache, get_workspace

UPLOADS = "uploads"  # the corpus name for a session's own files
MAX_RETRIEVERS = 6
BROWSER_COOKIE = "ragft_browser"  # the per-browser key; never in the URL
SETTINGS_FILE = "settings.json"  # in the session's workspace folder: what a refresh or a restart brings back
CONFIGS = {"chunk_config": ChunkConfig, "index_config": IndexConfig}
PLAIN_KEYS = ("corpus", "ft_run", "ft_probe_run")  # session keys no widget owns (or the sidebar's, always drawn)
# Widget keys: Streamlit forgets them when their page is left, so they are put back from the file on every run.
WIDGET_KEYS = ("ans_question", "emb_query", "ret_query", "pr_question", "exp_new_value",
               "ret_k", "ret_hnsw_m", "ret_ef", "ret_nlist", "ret_nprobe", "ans_adapter")


def init_state() -> None:
    """Initialise shared keys once per session (pages rely on them existing)."""
    ss = st.session_state
    if "sid" not in ss:
        keys = browser_keys(st.context.cookies.get(BROWSER_COOKIE))
        ss["browser_key"] = keys[0] if keys else new_browser_key()
        sessions = get_workspace().root / "sessions"
        ss["sid"], ss["session_note"] = resolve_session(sessions, st.query_params.get("sid"),
                                                        keys or [ss["browser_key"]], cookie_sent=bool(keys))
        sweep_sessions(sessions, ss["sid"])
    remember_browser()
    if st.query_params.get("sid") != ss["sid"]:
        st.query_params["sid"] = ss["sid"]
    restore_settings()
    corpora = list_corpora()
    names = [c.name for c in corpora]
    ss.setdefault("corpus", DEFAULT_CORPUS if DEFAULT_CORPUS in names else (names[0] if names else UPLOADS))
    ss.setdefault("chunk_config", ChunkConfig())
    ss.setdefault("index_config", IndexConfig())
    ss.setdefault("embedder_name", None)
    ss.setdefault("generator_name", None)
    ss.setdefault("_retrievers", {})


SWEEP_EVERY_S = 600  # at most one sweep of abandoned empty sessions per ten minutes per server
_last_sweep = [0.0]


def sweep_sessions(sessions, open_sid: str) -> None:
    """Delete abandoned empty session folders (older than RAGFT_EMPTY_SESSION_HOURS), now and then."""
    import time

    if time.time() - _last_sweep[0] < SWEEP_EVERY_S:
        return
    _last_sweep[0] = time.time()
    sweep_empty_sessions(sessions, limits().empty_session_hours * 3600, keep=[open_sid])


def remember_browser() -> None:
    """Store this browser's key in its cookie (when it is not there yet), and say why a link did not open.

    The key is ADDED to the cookie's keys (``KEY.KEY``), never written over them: two tabs of a fresh browser
    opened at once each make a key, and the second write must not lock the first tab out of its session.
    When the cookie does not stick (cookies blocked), the tab says so: its session lasts as long as the tab.
    """
    ss = st.session_state
    key = ss.get("browser_key")
    if key and key not in browser_keys(st.context.cookies.get(BROWSER_COOKIE)):
        st.sidebar.html(COOKIE_SCRIPT.replace("$NAME", BROWSER_COOKIE).replace("$KEY", key)
                        .replace("$MAX", str(MAX_KEYS)).replace("$NOTE", BLOCKED_NOTE), unsafe_allow_javascript=True)
    if ss.get("session_note"):
        st.sidebar.warning(ss["session_note"], icon="🔒")


BLOCKED_NOTE = ("Cookies are blocked for this site, so this session lasts as long as this tab: a reload or a new "
                "tab starts afresh (your files stay on the server). Allow cookies for this site to keep it.")
# Merge this tab's key into the cookie, check that it stuck (again a moment later: another tab may have
# written at the same instant), and show the note in place when the browser refuses cookies.
COOKIE_SCRIPT = """<div id="ragft-cookie-note" role="alert" style="display:none;padding:0.5rem 0.75rem;
border-radius:0.5rem;background:#fff3cd;color:#664d03;font-size:0.875rem">🍪 $NOTE</div><script>
(function () {
  const pre = "$NAME=", key = "$KEY";
  const keys = () => { const m = document.cookie.match(new RegExp("(?:^|; )" + pre + "([^;]*)"));
                       return m ? m[1].split(".").filter(Boolean) : []; };
  const add = () => { const ks = keys(); if (ks.includes(key)) return true;
    document.cookie = pre + ks.concat([key]).slice(-$MAX).join(".") + "; path=/; max-age=31536000; SameSite=Strict";
    return keys().includes(key); };
  const ok = add();
  setTimeout(add, 300);
  if (!ok || !navigator.cookieEnabled) {
    const note = document.getElementById("ragft-cookie-note");
    if (note) note.style.display = "block";
  }
})();
</script>"""
# --- settings that survive a refresh and a restart ---------------------------------------

def _settings_path() -> Path:
    return session_workspace().root / SETTINGS_FILE


def restore_settings() -> None:
    """Put back the session's saved settings: configs and corpus once per browser session, widget values
    whenever their widget is not on screen (so they also survive leaving a page)."""
    ss = st.session_state
    if "_settings" not in ss:
        saved = read_json(_settings_path(), {}) or {}
        ss["_settings"] = saved
        for key, cls in CONFIGS.items():
            if key in saved and key not in ss:
                try:
                    ss[key] = cls(**saved[key])
                except (TypeError, ValueError, LabError):
                    pass  # a file from an older version: keep the defaults
        for key in PLAIN_KEYS:
            if saved.get(key) is not None and key not in ss:
                ss[key] = saved[key]
    sent = _sent_by_browser()
    for key in WIDGET_KEYS:
        if key not in ss and key in ss["_settings"] and key not in sent:
            ss[key] = ss["_settings"][key]


def _sent_by_browser() -> set[str]:
    """Keys of the widget values the browser sent with this run, known to this server session or not.

    WHY: a browser tab that reconnects (a busy server, a restart) gets a NEW server session but sends the
    values on its screen, e.g. a question typed and submitted with Enter. Until its widget is drawn, the
    new session cannot read that value (``key in st.session_state`` is False), and restoring the saved
    value there would overwrite what was just typed: the lost question. Streamlit has no public API for
    "values the browser sent", so this reads its widget state; if that ever changes, nothing is skipped.
    """
    try:
        from streamlit.runtime.state.common import user_key_from_element_id
        from streamlit.runtime.state.session_state_proxy import get_session_state

        states = get_session_state()._state._new_widget_state.states
        return {user_key_from_element_id(wid) for wid in states}
    except Exception:  # noqa: BLE001 (Streamlit internals moved: fall back to restoring as before)
        return set()


def forget_settings(keys) -> None:
    """Drop saved values (a preset or "reset to defaults" sets them afresh)."""
    for key in keys:
        st.session_state.get("_settings", {}).pop(key, None)


def save_settings() -> None:
    """Write the settings when they changed (called by app.py after every run)."""
    ss = st.session_state
    saved = dict(ss.get("_settings", {}))
    now = {**saved, **{k: ss[k].to_dict() for k in CONFIGS if k in ss},
           **{k: ss[k] for k in PLAIN_KEYS + WIDGET_KEYS if k in ss and _plain(ss[k])}}
    if now != saved or not _settings_path().exists():
        atomic_write_json(_settings_path(), now)
        ss["_settings"] = now


def _plain(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def session_workspace() -> Workspace:
    return get_workspace().session(st.session_state["sid"])


def current_corpus() -> CorpusInfo | None:
    """The selected sample corpus, or None when the session uses its uploads."""
    name = st.session_state.get("corpus")
    return next((c for c in list_corpora() if c.name == name), None)


# --- documents -------------------------------------------------------------------

def save_upload(name: str, data: bytes) -> Document:
    """Parse an upload (raising DocumentError with a plain message) and persist it in the session workspace.

    Parsed once: the cached reader is called with the stored name, so listing the uploads reuses this parse.
    The Document's name is the stored one (``a_b-2.txt`` when ``a_b.txt`` came from another file).
    """
    folder = session_workspace().path("uploads")
    stored = upload_name(folder, name, data)
    doc = _load_cached(stored, data)  # raises before anything is stored
    store_upload(folder, stored, name, data)
    return doc


def delete_upload(name: str) -> None:
    session_workspace().path("uploads", name).unlink(missing_ok=True)


def uploaded_documents() -> tuple[list[Document], dict[str, str]]:
    """The session's uploads from disk (survive restarts), with per-file errors."""
    folder = session_workspace().path("uploads")
    docs, errors = [], {}
    for path in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        try:
            docs.append(_load_cached(path.name, path.read_bytes()))
        except DocumentError as exc:
            errors[path.name] = str(exc)
    return docs, errors


@st.cache_data(max_entries=256, show_spinner=False)
def _load_cached(name: str, data: bytes) -> Document:
    return load_bytes(name, data)


@st.cache_data(max_entries=16, show_spinner="Reading documents…")
def _load_corpus_docs(path: str) -> list[Document]:
    return load_paths([path])


def current_documents() -> list[Document]:
    corpus = current_corpus()
    if corpus is None:
        return uploaded_documents()[0]
    return _load_corpus_docs(str(corpus.docs_path))


# --- retrieval -------------------------------------------------------------------

def retriever_key(docs: list[Document], chunk_config: ChunkConfig, index_config: IndexConfig, embedder: str | None) -> str:
    payload = json.dumps([[d.id for d in docs], chunk_config.to_dict(), index_config.to_dict(), embedder], sort_keys=True)
    return content_hash(payload)


def get_retriever(docs: list[Document] | None = None, chunk_config: ChunkConfig | None = None,
                  index_config: IndexConfig | None = None) -> Retriever:
    """A retriever for these documents and configs, built once per session with a progress bar.

    Embeddings come from the shared on-disk cache, so only new chunk texts are embedded.
    """
    ss = st.session_state
    docs = current_documents() if docs is None else docs
    chunk_config = chunk_config or ss["chunk_config"]
    index_config = index_config or ss["index_config"]
    key = retriever_key(docs, chunk_config, index_config, ss["embedder_name"])
    store: dict = ss["_retrievers"]
    if key not in store:
        embedder = get_embedder(ss["embedder_name"])
        with progress_bar("embed chunk", "Embedding new chunks") as tick:  # items: the new chunks, once known
            store[key] = Retriever.build(docs, embedder, chunk_config, index_config,
                                         cache=get_embedding_cache(embedder.cache_key), progress=tick)
        while len(store) > MAX_RETRIEVERS:
            store.pop(next(iter(store)))
    return store[key]
