"""Hub download, for real but without internet: a fake model hub on 127.0.0.1 serves the built-in model.

``load_generator("org/name", progress=...)`` goes through ``huggingface_hub`` (model info, file tree,
HEAD + GET on ``/{repo}/resolve/{revision}/{file}``) into the hub cache, counting bytes; a later
offline load finds the same cache. The hub client reads HF_ENDPOINT / HF_HOME / HF_HUB_OFFLINE when it
is imported, so each load runs in its own Python process with its own environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from core.llm.loading import BUILTIN_PATH
from tests.helpers import ROOT

REPO_ID = "lab/tiny-model"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SKIPPED = ["model.onnx", "onnx/decoder.onnx", "pytorch_model.bin"]  # matched by core.llm.loading's skip list

LOAD = r"""
import json, sys
from core.llm.generation import generate
from core.llm.loading import DownloadProgress, load_generator

p = DownloadProgress() if sys.argv[1] == "progress" else None
gen = load_generator("lab/tiny-model", cache=False, progress=p)
out = generate(gen, "Elmby Blooms is owned by", max_new_tokens=6, ignore_eos=True)
print(json.dumps({"n_params": gen.n_params, "name": gen.name, "builtin": gen.is_builtin,
                  "text": out.text, "tokens": out.completion_tokens,
                  "done": p and p.done, "total": p and p.total, "fraction": p and p.fraction}))
"""


class FakeHub(ThreadingHTTPServer):
    """Just enough of the hub's HTTP API for ``list_repo_files`` and ``snapshot_download`` (no Xet)."""

    daemon_threads = True

    def __init__(self, folder: Path):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = {p.relative_to(folder).as_posix(): p.read_bytes()
                      for p in sorted(folder.rglob("*")) if p.is_file()}
        self.requests: Counter = Counter()  # (method, path) -> count
        self.bytes_sent = 0
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def tree(self) -> list[dict]:
        entries = []
        for path, data in self.files.items():
            entry = {"type": "file", "path": path, "size": len(data),
                     "oid": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
            if path.endswith((".safetensors", ".bin", ".onnx")):  # stored with LFS on the real hub
                entry["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        return entries


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str], head: bool = False) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def _json(self, obj) -> None:
        self._send(200, json.dumps(obj).encode(), {"Content-Type": "application/json"})

    def _not_found(self, head: bool = False) -> None:
        self._send(404, b'{"error": "not found"}', {"Content-Type": "application/json",
                                                    "X-Error-Code": "RepositoryNotFound"}, head)

    def _handle(self, head: bool) -> None:
        path = unquote(urlsplit(self.path).path)
        with self.server.lock:
            self.server.requests[(self.command, path)] += 1
        api = f"/api/models/{REPO_ID}"
        resolve = f"/{REPO_ID}/resolve/"
        if not head and path in (api, f"{api}/revision/main", f"{api}/revision/{COMMIT}"):
            return self._json({"id": REPO_ID, "sha": COMMIT, "private": False,
                               "siblings": [{"rfilename": f} for f in self.server.files]})
        if not head and path in (f"{api}/tree/main", f"{api}/tree/{COMMIT}"):
            return self._json(self.server.tree())
        if path.startswith(resolve):
            revision, _, filename = path[len(resolve):].partition("/")
            data = self.server.files.get(filename)
            if revision not in ("main", COMMIT) or data is None:
                return self._not_found(head)
            if not head:
                with self.server.lock:
                    self.server.bytes_sent += len(data)
            return self._send(200, data, {"Content-Type": "application/octet-stream", "X-Repo-Commit": COMMIT,
                                          "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}, head)
        return self._not_found(head)

    def do_GET(self):
        self._handle(head=False)

    def do_HEAD(self):
        self._handle(head=True)


@pytest.fixture
def hub(tmp_path):
    folder = tmp_path / "repo"
    shutil.copytree(BUILTIN_PATH, folder)
    for name in SKIPPED:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(b"not needed " * 1000)
    server = FakeHub(folder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _load(mode: str, env: dict[str, str]) -> dict:
    proc = subprocess.run([sys.executable, "-c", LOAD, mode], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # serves, downloads and loads a model in fresh processes: 191 s on a busy 2-core machine
def test_hub_model_downloads_with_progress_then_loads_offline(hub, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_")) and "proxy" not in k.lower()}
    env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(tmp_path / "hf"), HF_HUB_DISABLE_TELEMETRY="1",
               NO_PROXY="127.0.0.1,localhost", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")

    online = _load("progress", env)
    assert online["name"] == REPO_ID and not online["builtin"] and online["n_params"] > 1e6
    assert online["tokens"] == 6 and online["text"]

    # every file the model needs came over HTTP once; other frameworks' weights never did
    gets = {path: n for (method, path), n in hub.requests.items() if method == "GET"}
    resolve = f"/{REPO_ID}/resolve/{COMMIT}/"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"):
        assert gets.get(resolve + name) == 1, sorted(gets)
    assert not [p for p in gets if p.endswith(tuple(SKIPPED))], sorted(gets)
    assert any(p.endswith("/tree/main") for p in gets)  # list_repo_files
    fetched = {p[len(resolve):] for p in gets if p.startswith(resolve)}
    assert fetched == set(hub.files) - set(SKIPPED)

    # progress counted exactly the bytes served
    weights = (BUILTIN_PATH / "model.safetensors").stat().st_size
    assert online["done"] > 0 and online["done"] == online["total"] == hub.bytes_sent
    assert online["total"] >= weights and online["fraction"] == 1.0

    # the cache holds byte-identical files, under the commit the hub announced
    snapshot = tmp_path / "hf" / "hub" / "models--lab--tiny-model" / "snapshots" / COMMIT
    for name in fetched:
        assert (snapshot / name).read_bytes() == hub.files[name], name
    assert not any((snapshot / name).exists() for name in SKIPPED)

    # offline afterwards: no hub (the server is gone), the same model from the cache
    hub.shutdown()
    hub.server_close()
    before = sum(hub.requests.values())
    offline = _load("plain", {**env, "HF_HUB_OFFLINE": "1"})
    assert sum(hub.requests.values()) == before
    assert offline["name"] == REPO_ID and offline["n_params"] == online["n_params"]
    assert offline["text"] == online["text"]
