"""The words of the guided path: the glossary, the tour's steps and the one-click demo presets.

Plain data (no streamlit) so the pages stay thin and a test can check every step points at a real page
and every preset sets only keys the Lab reads. ``ui.guide`` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_CORPUS = "world_arcade"  # a 🧪 world corpus: the built-in model can answer from it out of the box

GLOSSARY: dict[str, str] = {
    "chunk": "A piece of a document, the unit that is embedded, searched and pasted into the prompt.",
    "overlap": "Text repeated at the end of one chunk and the start of the next, so a fact cut at a boundary "
               "is still found whole in one of them.",
    "embedding": "A list of numbers (here 384) that a model computes for a text; texts that mean similar things "
                 "get nearby vectors.",
    "cosine": "Cosine similarity: how closely two embeddings point the same way, from −1 to 1 (1 = same "
              "direction). Dense retrieval ranks chunks by it.",
    "BM25": "A keyword score: rare words that the question and the chunk share count most. No model needed.",
    "RRF": "Reciprocal-rank fusion: the hybrid retriever adds 1 / (60 + rank) from each list. Scores are small "
           "(at most 2/61 ≈ 0.033); only their order matters.",
    "HNSW": "An approximate index: a graph of neighbours searched greedily. Fast on big corpora; efSearch and M "
            "trade recall for speed.",
    "IVF": "An approximate index: vectors are grouped into nlist clusters and a query visits only nprobe of "
           "them. Needs enough vectors to train the clusters.",
    "recall@k": "The share of the exact top-k neighbours an approximate index also returns.",
    "hit@k": "The share of questions whose answer-bearing chunk is among the top k retrieved.",
    "MRR": "Mean reciprocal rank: 1 / (rank of the first right chunk), averaged over questions. 1 = always first.",
    "nDCG": "Normalised discounted cumulative gain: a ranking score that rewards right chunks near the top, "
            "from 0 to 1.",
    "LoRA rank and alpha": "LoRA trains two thin matrices of rank r beside a frozen layer; their product is "
                           "scaled by alpha / r. Higher r = more capacity, more parameters.",
    "target modules": "The linear layers that get a LoRA adapter: attention (q, k, v, o) and/or MLP "
                      "(gate, up, down).",
    "eval loss": "The loss on held-out facts the adapter never trained on: if it falls, something generalises; "
                 "if only train loss falls, the model memorises.",
    "open-book": "Asking with the passage in the prompt (RAG, or LoRA + RAG), as opposed to closed-book, "
                 "from the weights alone.",
    "faithfulness": "Whether an answer says only what its sources say: a RAG answer can be right yet add words "
                    "no retrieved chunk contains.",
}


@dataclass(frozen=True)
class TourStep:
    page: str  # the page's url_path ("" = Overview)
    title: str
    do: str  # what the learner does
    notice: str  # what to look at
    question: str = ""  # predict-then-reveal: asked before the result is shown
    options: tuple[str, ...] = ()
    answer: str = ""  # the right option
    why: str = ""  # shown with the reveal
    fill: dict = field(default_factory=dict)  # session keys set when the step opens ("{qa0}" = first Q&A question)


TOUR: tuple[TourStep, ...] = (
    TourStep("documents", "Split the documents",
             "Look at the 🧪 arcade corpus being split; change the chunk size to 64, then back to 192.",
             "Small chunks cut sentences apart; the histogram shows every chunk's length in embedder tokens.",
             "If the chunk size halves, what happens to the number of chunks?",
             ("About halves", "About doubles", "Stays the same"), "About doubles",
             "Each chunk holds half as much text, so about twice as many are needed (overlap adds a few more)."),
    TourStep("embeddings", "See the meaning map",
             "Type a question about a product in the question box.",
             "Your question lands near the chunks that talk about the same thing, with lines to its neighbours.",
             "Will the question's nearest chunk always be the one holding the answer?",
             ("Yes, always", "Usually, not always"), "Usually, not always",
             "Embeddings measure similar meaning, not truth: a chunk about a similar product can be closer.",
             fill={"emb_query": "{qa0}"}),
    TourStep("retrieval", "Compare the retrievers",
             "Press 🎲 for a question from the Q&A set and compare dense, BM25 and hybrid.",
             "Names and prices are rare words, so BM25 often ranks the right chunk first too.",
             "On invented product names, which retriever do you expect to do best?",
             ("Dense (embeddings)", "BM25 (keywords)", "They tie"), "BM25 (keywords)",
             "Made-up names mean nothing to the embedder but are perfect keywords; the metrics below show it."),
    TourStep("prompt", "Read the exact prompt",
             "Look at the final string and the token bar.",
             "The retrieved chunk is pasted in front of the question: that is all RAG does."),
    TourStep("answers", "Five answers, one question",
             "Press “Ask all five”.",
             "Base guesses with confidence (❌); RAG reads the price from the chunk (✅).",
             "Will the base model, with no documents, know this price?",
             ("Yes", "No, it will make one up"), "No, it will make one up",
             "The model never saw this corpus: without retrieval it writes a fluent, confident, wrong answer.",
             fill={"ans_question": "{qa0}"}),
    TourStep("finetune", "Teach the model with LoRA",
             "Start training with the defaults and watch facts recalled climb.",
             "Only the adapter's small share of parameters changes; the curve shows facts moving into the weights.",
             "After training, will the model answer these questions without any documents?",
             ("Yes, most of them", "No, it still needs retrieval"), "Yes, most of them",
             "LoRA stores the facts in the adapter: closed-book accuracy rises towards 100% on the trained facts."),
    TourStep("experiments", "Change a fact",
             "Edit a fact's value and press “Edit, re-index and ask again”.",
             "RAG follows the new document at once; the adapter still answers the old value until retrained.",
             "Which system gives the new value right away?",
             ("RAG", "LoRA", "Both"), "RAG",
             "Retrieval reads the edited text; the adapter's weights hold what they were trained on."),
    TourStep("decision", "Choose for your case",
             "Answer the questions about your situation.",
             "Each recommendation comes with its reasons: fast-changing data and citations favour RAG."),
)


@dataclass(frozen=True)
class Preset:
    title: str
    page: str  # where the demo happens
    what: str  # one sentence: what to do there and what it shows
    corpus: str = DEFAULT_CORPUS
    chunk: dict = field(default_factory=dict)  # ChunkConfig fields to set (empty = defaults)
    state: dict = field(default_factory=dict)  # other session keys ("{qa0}" = first Q&A question)


PRESETS: tuple[Preset, ...] = (
    Preset("Hallucination vs RAG", "answers",
           "Ask all five: the base model invents a price, RAG reads the real one.",
           state={"ans_question": "{qa0}"}),
    Preset("Chunk size matters", "retrieval",
           "Tiny 32-token chunks split facts from their names: compare the hits, then run the chunk-size sweep.",
           chunk={"size": 32, "overlap": 0}, state={"ret_query": "{qa0}"}),
    Preset("Knowledge update", "experiments",
           "Edit a fact and re-index: RAG follows at once, a LoRA adapter stays stale."),
    Preset("Forgetting", "experiments",
           "Train an adapter first, then ask the general questions before and after LoRA."),
    Preset("Paraphrases help fine-tuning", "finetune",
           "Train once with 0 and once with 2 paraphrases per question; compare recall on unseen paraphrases."),
)
