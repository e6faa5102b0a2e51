"""A batch evaluation as a background job: the same work in this process or, from its spec, on a Ray worker.

The evaluation lane's counterpart of ``core.finetune.job``. ``evaluation_systems`` is the one list of
systems a batch evaluation compares (base, RAG, each adapter alone and with RAG, long context: the
shape of Ovadia et al. 2023, Table 2). In this process the job evaluates the answerers the page already
holds (cached models); its ``EvaluationSpec`` holds the same evaluation as plain data (the model's name,
the documents, retrieval settings, adapter folders, questions, decoding), so a Ray worker, or a retry
after an app restart, builds them itself. The job reports ``{"done", "total"}`` answers and writes
``result.json`` (``EvalResult.to_dict()``, a stopped run's partial rows too) into its run folder.

>>> spec = EvaluationSpec("lab-tiny-lm", docs, qa, {"lora": "ws/adapters/run1"}, "ws/runs/eval-1207")  # doctest: +SKIP
>>> spec(ctx).systems["rag"]["accuracy"]                                                            # doctest: +SKIP
0.9
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from core.answering import Answerer, Decoding, TrainingExamples, training_items
from core.errors import Cancelled
from core.evaluation import EvalResult, SystemSpec, evaluate, ovadia_specs, question_variants
from core.finetune.job import BASE_MB, model_ref, new_run_dir
from core.rag.chunking import ChunkConfig
from core.rag.corpora import QAItem
from core.rag.documents import Document
from core.rag.index import IndexConfig
from core.runtime.workspace import atomic_write_json, read_json

RESULT_FILE = "result.json"
MEASURE_OP = "batch eval answer"  # core.runtime.timings: a finished evaluation's seconds per answer


def evaluation_systems(plain: Answerer, adapted: dict[str, Answerer]) -> list[SystemSpec]:
    """base, RAG, each adapter alone and + RAG (``adapted``: label → its Answerer), then long context."""
    return ovadia_specs(plain, adapted) + [SystemSpec("long-context", "long-context", plain)]


def count_answers(systems: Sequence[SystemSpec], items: Sequence[QAItem], paraphrases: int) -> int:
    """How many answers the evaluation makes: what its time scales with."""
    return len(systems) * len(question_variants(items, paraphrases))


def evaluation_work(ctx, systems: Sequence[SystemSpec], items: Sequence[QAItem], *, paraphrases: int = 0,
                    decoding: Decoding = Decoding(), embedder=None, run_dir=None) -> EvalResult:
    """Evaluate with live progress (``ctx.report``) and a stop flag; the result (partial when stopped) is
    written to ``run_dir/result.json``."""
    try:
        result = evaluate(systems, items, paraphrases=paraphrases, decoding=decoding, embedder=embedder,
                          progress=lambda done, total: ctx.report({"done": done, "total": total}),
                          should_stop=ctx.should_stop)
    except Cancelled as exc:
        save_result(run_dir, getattr(exc, "partial", None))
        raise
    save_result(run_dir, result)
    return result


def save_result(run_dir, result: EvalResult | None) -> None:
    if run_dir is not None and result is not None:
        atomic_write_json(Path(run_dir) / RESULT_FILE, result.to_dict())


def load_result(run_dir) -> EvalResult | None:
    """The evaluation a run folder holds (``evaluation_work`` wrote it), or None."""
    data = read_json(Path(run_dir) / RESULT_FILE)
    if not isinstance(data, dict):
        return None
    return EvalResult(data.get("rows") or [], data.get("systems") or {}, bool(data.get("complete", True)))


@dataclass(frozen=True)
class EvaluationSpec:
    """A batch evaluation as plain data, runnable in any process that has the Lab and the models."""

    model: str  # generator name or absolute path: the worker loads it itself
    documents: tuple[Document, ...]
    items: tuple[QAItem, ...]
    adapters: dict[str, str]  # label ("lora", "lora (paraphrases)") → adapter folder (absolute)
    run_dir: str  # result.json goes here (a worker without the shared folder writes elsewhere, sent back)
    paraphrases: int = 0
    decoding: Decoding = Decoding()
    embedder: str | None = None
    embedder_backend: str | None = None
    chunk_config: ChunkConfig = ChunkConfig()
    index_config: IndexConfig = IndexConfig()
    workspace: str | None = None  # the server's workspace: its embedding and reranker caches, if the worker sees it
    cpus: int = 1
    memory_mb: float = field(default=2000.0)

    @property
    def memory_key(self) -> str:
        """What a Ray executor keys this job's measured peak memory by (not the model's training peak)."""
        return f"eval:{self.model}"

    def __call__(self, ctx) -> EvalResult:
        systems, embedder = self.systems()
        return evaluation_work(ctx, systems, self.items, paraphrases=self.paraphrases, decoding=self.decoding,
                               embedder=embedder, run_dir=self.run_dir)

    def systems(self) -> tuple[list[SystemSpec], object]:
        """The answerers the page had, built here: (systems, the embedder)."""
        from core.finetune import load_adapter
        from core.llm.loading import load_generator
        from core.rag.embedding import EmbeddingCache, load_embedder
        from core.rag.rerank import RerankConfig, make_reranker
        from core.rag.retrieval import Retriever
        from core.runtime.workspace import Workspace

        shared = Workspace(Path(self.workspace)) if self.workspace and Path(self.workspace).is_dir() else None
        embedder = load_embedder(self.embedder, self.embedder_backend)
        cache = EmbeddingCache(shared.path("embeddings"), embedder.cache_key) if shared else None
        retriever = Retriever.build(list(self.documents), embedder, self.chunk_config, self.index_config, cache=cache)
        reranker = make_reranker(embedder, RerankConfig(), shared)
        base = load_generator(self.model)
        plain = Answerer(base, retriever, reranker=reranker, documents=list(self.documents))
        adapted = {}
        for label, path in self.adapters.items():
            trained_on = training_items(path, self.items)
            training = TrainingExamples.build(embedder, trained_on) if trained_on else None
            adapted[label] = Answerer(base, retriever, load_adapter(base, path), training, reranker=reranker)
        return evaluation_systems(plain, adapted), embedder


def evaluation_spec(model_name: str, n_params: int, documents, items, adapters: dict[str, str | Path], run_dir,
                    retriever, *, paraphrases: int = 0, decoding: Decoding = Decoding(),
                    workspace: str | Path | None = None) -> EvaluationSpec:
    """The spec of an evaluation over ``retriever``'s settings (embedder, chunking, index)."""
    memory = BASE_MB + n_params * 4 * (1 + len(adapters)) / 1e6 + 500  # weights, adapter copies, embedder, reranker
    return EvaluationSpec(model_ref(model_name), tuple(documents), tuple(items),
                          {label: str(Path(p).resolve()) for label, p in adapters.items()},
                          str(Path(run_dir).resolve()), paraphrases, decoding, retriever.embedder.name,
                          retriever.embedder.backend, retriever.chunk_config, retriever.index_config,
                          str(Path(workspace).resolve()) if workspace else None, memory_mb=round(memory, 1))


def evaluation_job(owner: str, run_dir, systems: Sequence[SystemSpec], items: Sequence[QAItem], *,
                   paraphrases: int = 0, decoding: Decoding = Decoding(), embedder=None,
                   spec: EvaluationSpec | None = None, label: str = "batch evaluation"):
    """A ``core.runtime.jobs.Job`` on the evaluation lane that evaluates ``systems`` (and carries ``spec``)."""
    from core.runtime.jobs import Job

    def work(ctx) -> EvalResult:
        return evaluation_work(ctx, systems, items, paraphrases=paraphrases, decoding=decoding, embedder=embedder,
                               run_dir=run_dir)

    return Job(owner=str(owner), run_dir=Path(run_dir), work=work, label=label, lane="eval", spec=spec,
               measure=(MEASURE_OP, count_answers(systems, items, paraphrases)))


def submit_evaluation(owner, runs_dir, systems: Sequence[SystemSpec], items: Sequence[QAItem], *, documents,
                      adapters: dict[str, str | Path], paraphrases: int = 0, decoding: Decoding = Decoding(),
                      workspace=None, label: str = "batch evaluation") -> tuple[str, Path]:
    """Queue a batch evaluation of ``systems`` (the base model's answerers, ``evaluation_systems``): the one
    way pages start one. It gets a fresh folder under ``runs_dir``; returns (job id, run folder)."""
    from core.runtime import jobs

    plain = systems[0].answerer
    run_dir = new_run_dir(runs_dir, "eval")
    spec = evaluation_spec(plain.base.name, plain.base.n_params, documents, items, adapters, run_dir,
                           plain.retriever, paraphrases=paraphrases, decoding=decoding, workspace=workspace)
    job = evaluation_job(str(owner), run_dir, systems, items, paraphrases=paraphrases, decoding=decoding,
                         embedder=plain.retriever.embedder, spec=spec, label=label)
    return jobs.submit(job), run_dir
