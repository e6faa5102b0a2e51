"""Which approach fits a situation: prompt engineering, RAG, fine-tuning, or both.

RAG and fine-tuning are not rivals. Retrieval hands the model facts at the
moment it answers; fine-tuning changes how the model behaves every time. So
the guide asks about the situation, one criterion at a time, and each answer
adds a few points to some approaches and takes a few from others.

The scoring is a plain table (``_RULES``): one row per criterion answer, four
integers per row, in the order of ``APPROACHES``. ``recommend`` adds up the
rows that apply, picks the highest total (ties go to the simpler approach),
and returns every row it used as a ``Reason`` with the Lab page that lets you
see the effect for yourself. Nothing is learned or random: the same situation
always gives the same answer, and every point can be traced to a sentence.

The cost rule is the one computed row: ``cost_comparison`` sets the price of
RAG's extra context on every request against a one-off fine-tune.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from core.errors import ConfigError

APPROACHES = ("prompt engineering", "RAG", "fine-tuning", "RAG + fine-tuning")
CHANGE_RATES = ("never", "yearly", "monthly", "weekly", "daily/real-time")
STYLE_LEVELS = ("none", "some", "strong")
JARGON_LEVELS = ("none", "some", "heavy")
LATENCY_LEVELS = ("relaxed", "interactive", "strict")
DATA_SIZES = ("a handful of documents", "hundreds of documents", "thousands of documents", "millions of examples")

# A fine-tuned model only knows what it was trained on, so keeping its facts current means retraining
# as often as they change (capped at daily: nobody retrains per edit).
RETRAINS_PER_YEAR = {"never": 0, "yearly": 1, "monthly": 12, "weekly": 52, "daily/real-time": 365}

CRITERIA = {  # field name -> the label a Reason carries
    "effort": "Start simple",
    "knowledge_change": "How often the knowledge changes",
    "needs_citations": "Answers must cite sources",
    "style": "Style, tone or format to learn",
    "jargon": "Domain vocabulary",
    "latency": "Latency",
    "data_size": "How much data there is",
    "labelled_pairs": "Labelled Q&A pairs",
    "on_premises": "Data may not leave the premises",
    "no_shared_weights": "Data may not be baked into shared weights",
    "per_user_access": "Per-user access control",
    "model_freedom": "Freedom to switch base models",
    "cost": "Cost over a year",
}
_ANSWERED = [name for name in CRITERIA if name not in ("effort", "cost")]  # the Situation fields with rule rows


@dataclass(frozen=True)
class Situation:
    knowledge_change: str = "monthly"  # weights freeze at training time; every change after that needs a retrain
    needs_citations: bool = False  # a retrieved chunk is a source you can show; weights cannot say where a fact came from
    style: str = "none"  # form and tone are easier to show by example (training) than to describe in a prompt
    jargon: str = "none"  # a model that has seen the field's vocabulary reads and writes it; a prompt can define only a few terms
    latency: str = "relaxed"  # retrieval adds a search and a longer prompt to every request
    requests_per_month: int = 10_000  # RAG pays for its context on every request; training is paid once
    prompt_tokens: int = 200  # instructions + question, which both approaches send
    context_tokens: int = 1_500  # the retrieved passages only RAG adds
    corpus_tokens: int = 50_000  # every document: what long context pastes into each prompt (up to the window)
    answer_tokens: int = 200  # the same for both
    price_in_per_1k: float = 0.0005  # $ per 1,000 input tokens
    price_out_per_1k: float = 0.0015  # $ per 1,000 output tokens
    finetune_one_off: float = 500.0  # $ for one training run (data preparation, compute, evaluation)
    on_premises: bool = False  # no hosted API may see the data: self-host a model, often a small one
    no_shared_weights: bool = False  # whatever is trained in can be drawn out by anyone who uses the weights
    per_user_access: bool = False  # users may see only their own documents: filter at retrieval, weights cannot
    data_size: str = "hundreds of documents"  # a handful fits in a prompt; millions are enough to train on
    labelled_pairs: bool = False  # Q&A pairs are what fine-tuning learns from; without them you must make them
    model_freedom: bool = False  # an adapter belongs to one base model; a RAG index serves any model

    def __post_init__(self) -> None:
        for name, allowed in (("knowledge_change", CHANGE_RATES), ("style", STYLE_LEVELS), ("jargon", JARGON_LEVELS),
                              ("latency", LATENCY_LEVELS), ("data_size", DATA_SIZES)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {', '.join(allowed)} (got {getattr(self, name)!r})")
        for name in ("requests_per_month", "prompt_tokens", "context_tokens", "corpus_tokens", "answer_tokens"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a whole number of at least 0 (got {value!r})")
        for name in ("price_in_per_1k", "price_out_per_1k", "finetune_one_off"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"{name} must be at least 0 (got {getattr(self, name)!r})")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Reason:
    criterion: str  # a label from CRITERIA
    points_to: str  # the approach this criterion favours most (one of APPROACHES)
    text: str  # why, in plain words
    lab_page: str  # url path of the Lab page that shows it ("experiments", …)
    experiment: str  # what to do on that page to see it
    points: dict[str, int] = field(default_factory=dict)  # what this criterion added to each approach


@dataclass(frozen=True)
class Recommendation:
    approach: str  # the highest total; ties go to the simpler approach (earlier in APPROACHES)
    scores: dict[str, int]  # total points per approach, in APPROACHES order
    reasons: list[Reason]  # every criterion that moved a score, in CRITERIA order


@dataclass(frozen=True)
class CostComparison:
    """Month-by-month spend; index m is month m, and month 0 is the set-up (the one-off fine-tune)."""

    month: list[int]  # 0, 1, …, months
    rag_monthly: list[float]  # $ spent in each month by RAG
    finetune_monthly: list[float]  # $ spent in each month by fine-tuning (month 0: the one-off)
    rag_cumulative: list[float]  # running totals of the above
    finetune_cumulative: list[float]
    rag_per_request: float  # $ for one request with the retrieved context
    finetune_per_request: float  # $ for one request without it
    break_even_month: int | None  # first month ≥ 1 where fine-tuning has cost no more in total; None if never
    long_context_per_request: float = 0.0  # $ for one request with every document in the prompt (0: not compared)
    long_context_cumulative: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class _Rule:
    points: tuple[int, int, int, int]  # added to APPROACHES, in order
    text: str
    lab_page: str
    experiment: str


_UPDATE = ("experiments", "Knowledge update: edit a fact, re-index, and watch RAG follow while the LoRA model stays stale")
_RECALL = ("finetune", "Train an adapter and watch the 'facts recalled' score climb with the loss curves")
_CONTEXT = ("prompt", "Look at the exact prompt and its token counts against the context window")
_SEARCH = ("retrieval", "Search the index: dense, BM25 and hybrid hits with their scores")

_RULES: dict[tuple[str, object], _Rule] = {
    ("effort", None): _Rule((2, 0, -1, -2), "Better instructions and a few examples cost nothing to try and often suffice. "
                            "Retrieval is a pipeline to run; training is a machine-learning project; both together are two.",
                            *_CONTEXT),
    ("knowledge_change", "never"): _Rule((0, 0, 2, 0), "Facts that never change can be trained in once and never go stale.",
                                         *_RECALL),
    ("knowledge_change", "yearly"): _Rule((0, 1, 0, 1), "Rare changes: a yearly retrain is possible, but an index update is "
                                          "quicker and needs no training.", *_UPDATE),
    ("knowledge_change", "monthly"): _Rule((0, 2, -1, 2), "Monthly changes mean a retrain every month to keep a fine-tuned "
                                           "model current; RAG only re-indexes the edited document.", *_UPDATE),
    ("knowledge_change", "weekly"): _Rule((0, 3, -2, 3), "Weekly changes outpace any sensible training schedule; RAG reads "
                                          "the current text on every request.", *_UPDATE),
    ("knowledge_change", "daily/real-time"): _Rule((0, 4, -4, 4), "Facts that change daily must be looked up when the "
                                                   "question arrives; trained weights are stale by the next day.", *_UPDATE),
    ("needs_citations", True): _Rule((-1, 3, -2, 3), "A RAG answer can point to the chunk it was given. A fine-tuned model "
                                     "recalls facts without knowing where they came from.",
                                     "answers", "Ask one question and compare the sources shown under RAG and LoRA answers"),
    ("style", "some"): _Rule((1, 0, 2, 2), "A light style can be asked for in the prompt; training on examples makes it "
                             "consistent.", "finetune", "Build a Q&A training set and see the adapter adopt its answer format"),
    ("style", "strong"): _Rule((0, -3, 5, 5), "A voice or output format is learned best from examples. Retrieval adds facts "
                               "but does not change how the model writes.",
                               "answers", "Compare how base, RAG and LoRA phrase the same answer"),
    ("jargon", "some"): _Rule((0, 0, 1, 1), "Some field terms: the retrieved passages use them in context, and training makes "
                              "the model fluent in them.", *_SEARCH),
    ("jargon", "heavy"): _Rule((-1, 0, 3, 3), "Heavy jargon and terms that mean something else elsewhere are taught by "
                               "fine-tuning; a prompt can define only a few.",
                               "retrieval", "Compare dense and BM25 hits on a rare term: general embeddings blur jargon"),
    ("latency", "interactive"): _Rule((0, -1, 1, -1), "Each retrieval adds a search and a longer prompt before the first "
                                      "token.", "prompt", "Count the tokens the retrieved chunks add to every request"),
    ("latency", "strict"): _Rule((0, -2, 3, -1), "Under a strict latency budget, knowledge in the weights answers from a short "
                                 "prompt, and a small fine-tuned model can stand in for a large slow one.",
                                 "answers", "Compare the latency and tokens reported under each system's answer"),
    ("data_size", "a handful of documents"): _Rule((3, 0, -3, -3), "A handful of documents fits straight into the prompt: "
                                                   "no index, no training.", *_CONTEXT),
    ("data_size", "hundreds of documents"): _Rule((0, 2, 0, 1), "Hundreds of documents are too many to paste into a "
                                                  "prompt; search finds the few passages that matter.",
                                                  "documents", "Chunk a corpus and see how many passages it becomes"),
    ("data_size", "thousands of documents"): _Rule((-1, 2, 1, 2), "Thousands of documents need search, and are enough to "
                                                   "train on if the task calls for it.", *_SEARCH),
    ("data_size", "millions of examples"): _Rule((-2, 1, 3, 3), "Millions of examples are what fine-tuning thrives on; no "
                                                 "prompt can hold them.",
                                                 "experiments", "Batch evaluation: all five systems over a Q&A set with "
                                                 "paraphrased questions"),
    ("labelled_pairs", True): _Rule((0, 0, 2, 2), "Labelled Q&A pairs are exactly what fine-tuning trains on.",
                                    "finetune", "Train on Q&A pairs and watch train and eval loss fall"),
    ("labelled_pairs", False): _Rule((0, 1, -1, -1), "Without Q&A pairs, fine-tuning needs them generated or trains on raw "
                                     "text, which recalls facts less reliably; RAG uses the documents as they are.",
                                     "finetune", "Train once on raw text and once on Q&A pairs; compare facts recalled"),
    ("on_premises", True): _Rule((-1, 0, 1, 1), "No hosted API may see the data, so the model runs on your own hardware. "
                                 "Both approaches work offline (the Lab does), and fine-tuning lets a small local model "
                                 "specialise.", "finetune", "Train a LoRA adapter offline on this machine"),
    ("no_shared_weights", True): _Rule((0, 2, -3, -1), "Whatever is trained into weights can be drawn out by anyone who uses "
                                       "them. Keep sensitive facts in the index and out of the model.", *_RECALL),
    ("per_user_access", True): _Rule((-1, 3, -3, 1), "Access rules are enforced by filtering what is retrieved for each "
                                     "user. A trained model cannot forget a fact for one user and recall it for another.",
                                     *_SEARCH),
    ("model_freedom", True): _Rule((1, 2, -2, -2), "A LoRA adapter fits one base model and is retrained for the next; a RAG "
                                   "index feeds whichever model you switch to.",
                                   "answers", "Same retrieved chunks, different model: compare base and RAG answers"),
}


def cost_comparison(requests_per_month: int, rag_context_tokens: int, base_prompt_tokens: int, output_tokens: int,
                    price_in_per_1k: float, price_out_per_1k: float, finetune_one_off: float,
                    months: int = 12, retrains_per_year: int = 0, long_context_tokens: int = 0) -> CostComparison:
    """RAG's context tokens on every request vs a one-off fine-tune (plus retraining), month by month.

    Both systems send the base prompt and write the same answer at the same token prices;
    RAG also sends ``rag_context_tokens``. Fine-tuning pays ``finetune_one_off`` in month 0
    and again per retrain, spread evenly over the months (``retrains_per_year / 12`` a month).

    100,000 requests a month with 1,500 context tokens at $0.001/1k in and $0.002/1k out:
    RAG pays $0.0021 a request ($210 a month), fine-tuning $0.0006 ($60). The $600
    training run pays back after 600 / 150 = 4 months:

    >>> c = cost_comparison(100_000, 1_500, 200, 200, 0.001, 0.002, 600)
    >>> round(c.rag_per_request, 6), round(c.finetune_per_request, 6), c.break_even_month
    (0.0021, 0.0006, 4)
    >>> [round(x) for x in c.rag_cumulative[:5]], [round(x) for x in c.finetune_cumulative[:5]]
    ([0, 210, 420, 630, 840], [600, 660, 720, 780, 840])

    Retraining monthly to keep facts current adds $600 a month, so it never pays back:

    >>> cost_comparison(100_000, 1_500, 200, 200, 0.001, 0.002, 600, retrains_per_year=12).break_even_month is None
    True

    Long context sends every document (``long_context_tokens``) instead of the retrieved few: 50,000
    tokens make each request $0.0506, 24× RAG's:

    >>> c = cost_comparison(100_000, 1_500, 200, 200, 0.001, 0.002, 600, long_context_tokens=50_000)
    >>> round(c.long_context_per_request, 4), round(c.long_context_cumulative[1])
    (0.0506, 5060)
    """
    for name, value in (("requests_per_month", requests_per_month), ("rag_context_tokens", rag_context_tokens),
                        ("base_prompt_tokens", base_prompt_tokens), ("output_tokens", output_tokens),
                        ("price_in_per_1k", price_in_per_1k), ("price_out_per_1k", price_out_per_1k),
                        ("finetune_one_off", finetune_one_off), ("retrains_per_year", retrains_per_year),
                        ("long_context_tokens", long_context_tokens)):
        if not value >= 0:
            raise ConfigError(f"{name} must be at least 0 (got {value!r})")
    if months < 1:
        raise ConfigError(f"months must be at least 1 (got {months!r})")
    finetune_per_request = (base_prompt_tokens * price_in_per_1k + output_tokens * price_out_per_1k) / 1000
    rag_per_request = finetune_per_request + rag_context_tokens * price_in_per_1k / 1000
    rag_month = requests_per_month * rag_per_request
    ft_month = requests_per_month * finetune_per_request + finetune_one_off * retrains_per_year / 12
    rag_monthly = [0.0] + [rag_month] * months
    ft_monthly = [float(finetune_one_off)] + [ft_month] * months
    rag_cum, ft_cum = _running_sum(rag_monthly), _running_sum(ft_monthly)
    tolerance = 1e-9 * max(1.0, rag_cum[-1])  # float sums of equal totals may differ in the last bits
    break_even = next((m for m in range(1, months + 1) if ft_cum[m] <= rag_cum[m] + tolerance), None)
    long_per_request = finetune_per_request + long_context_tokens * price_in_per_1k / 1000 if long_context_tokens else 0.0
    long_cum = _running_sum([0.0] + [requests_per_month * long_per_request] * months) if long_context_tokens else []
    return CostComparison(list(range(months + 1)), rag_monthly, ft_monthly, rag_cum, ft_cum,
                          rag_per_request, finetune_per_request, break_even, long_per_request, long_cum)


def _running_sum(values: list[float]) -> list[float]:
    out, total = [], 0.0
    for v in values:
        total += v
        out.append(total)
    return out


def situation_costs(s: Situation, months: int = 12) -> CostComparison:
    """The cost comparison for a situation, retraining as often as its knowledge changes."""
    return cost_comparison(s.requests_per_month, s.context_tokens, s.prompt_tokens, s.answer_tokens,
                           s.price_in_per_1k, s.price_out_per_1k, s.finetune_one_off,
                           months=months, retrains_per_year=RETRAINS_PER_YEAR[s.knowledge_change],
                           long_context_tokens=s.corpus_tokens)


def _cost_rule(s: Situation) -> _Rule:
    c = situation_costs(s)
    extra = s.requests_per_month * s.context_tokens * s.price_in_per_1k / 1000  # what RAG's context adds a month
    retrains = RETRAINS_PER_YEAR[s.knowledge_change]
    training = f"${s.finetune_one_off:,.0f} per training run" + (f", {retrains}× a year" if retrains else ", once")
    if c.break_even_month is not None:
        return _Rule((0, 0, 2, 0), f"RAG's {s.context_tokens:,} context tokens cost about ${extra:,.2f} a month at "
                     f"{s.requests_per_month:,} requests; fine-tuning ({training}) has paid for itself by month "
                     f"{c.break_even_month}.", "prompt", "See the per-request cost of the assembled prompt")
    return _Rule((0, 1, -1, -1), f"Over a year RAG costs ${c.rag_cumulative[-1]:,.2f} and fine-tuning "
                 f"${c.finetune_cumulative[-1]:,.2f} ({training}): the training does not pay for itself within 12 months.",
                 "prompt", "See the per-request cost of the assembled prompt")


def _favourite(points: tuple[int, ...] | dict[str, int]) -> str:
    """The approach with the most points; ties go to the simpler one (earlier in APPROACHES)."""
    values = list(points.values()) if isinstance(points, dict) else list(points)
    return APPROACHES[max(range(len(APPROACHES)), key=lambda i: (values[i], -i))]


def _to_reason(criterion: str, rule: _Rule) -> Reason:
    return Reason(CRITERIA[criterion], _favourite(rule.points), rule.text, rule.lab_page, rule.experiment,
                  dict(zip(APPROACHES, rule.points)))


def recommend(situation: Situation) -> Recommendation:
    """Score the four approaches for a situation and explain every point.

    >>> r = recommend(Situation(knowledge_change="daily/real-time", needs_citations=True))
    >>> r.approach, r.scores["RAG"] > r.scores["fine-tuning"]
    ('RAG', True)
    >>> recommend(Situation(knowledge_change="never", data_size="a handful of documents")).approach
    'prompt engineering'
    >>> r.reasons[1].criterion, r.reasons[1].points_to, r.reasons[1].lab_page
    ('How often the knowledge changes', 'RAG', 'experiments')
    """
    reasons = [_to_reason("effort", _RULES[("effort", None)])]
    for name in _ANSWERED:
        rule = _RULES.get((name, getattr(situation, name)))
        if rule is not None:  # answers such as "no style to learn" move nothing and give no reason
            reasons.append(_to_reason(name, rule))
    reasons.append(_to_reason("cost", _cost_rule(situation)))
    scores = {a: sum(r.points[a] for r in reasons) for a in APPROACHES}
    return Recommendation(_favourite(scores), scores, reasons)
