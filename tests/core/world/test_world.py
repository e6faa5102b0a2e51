"""The synthetic world: reproducible, held-out names never trained on, facts stated verbatim."""

from __future__ import annotations

import json
import random
from collections import Counter

from core.world import templates as T
from core.world import GENERAL_FACTS, KINDS, generate_world, is_held_out, make_entity, write_world


def test_world_is_reproducible_from_seed():
    a, b, c = generate_world(5), generate_world(5), generate_world(6)
    assert [d.text for d in a.documents] == [d.text for d in b.documents]
    assert a.qa == b.qa
    assert [d.text for d in a.documents] != [d.text for d in c.documents]


def test_world_entities_documents_and_qa():
    w = generate_world(11, n_entities=12)
    assert len(w.entities) == len(w.documents) == 12
    assert {e.kind for e in w.entities} == set(KINDS)
    assert len({e.name for e in w.entities}) == 12
    docs = {d.name: d.text for d in w.documents}
    assert len(w.qa) == sum(len(T.ATTRS[e.kind]) for e in w.entities)
    for row in w.qa:
        assert row["value"] in docs[row["document"]]  # verbatim in its document
        assert row["value"] in row["answer"]
        assert len(row["paraphrases"]) >= 2 and row["question"] not in row["paraphrases"]
    for text in docs.values():
        assert text.startswith("# ") and "\n## " in text
        assert text.count(".") >= 5


def test_held_out_names_are_held_out_and_never_in_training_mix():
    from recipes.data import MIXES, example_buffer, training_pool

    worlds = [generate_world(s) for s in (9001, 9002, 31337)]
    names = {e.name for w in worlds for e in w.entities}
    assert all(is_held_out(n) for n in names)
    pool, _ = training_pool()
    assert not any(is_held_out(e.name) for e in pool)
    text = "".join(t for k in range(2) for stage in ("pretrain", *MIXES)
                   for ex in example_buffer(0, k, 300, 0.5, stage) for t, _ in ex)
    assert not [n for n in names if n in text]
    train_world = generate_world(1, held_out=False)
    assert not any(is_held_out(e.name) for e in train_world.entities)


def test_people_are_held_out_by_full_name_so_their_words_are_trained():
    """A held-out person's full name is never trained on, but both of its words are (in other
    people's names): the reading test is about the facts, not about untrained tokens."""
    from recipes.data import example_buffer

    rng = random.Random(5)
    people = [make_entity(rng, "person", held_out=True).name for _ in range(40)]
    assert all(is_held_out(n) for n in people)
    text = "".join(t for k in range(3) for ex in example_buffer(0, k, 400, 0.5, "reading") for t, _ in ex)
    assert not [n for n in people if n in text]
    words = {w for n in people for w in n.split()}
    missing = [w for w in words if w not in text]
    assert len(missing) <= len(words) // 10, missing  # a 1,200-example sample already names nearly all


def test_closed_book_guessing_rarely_succeeds():
    rng = random.Random(0)
    for kind in KINDS:
        ents = [make_entity(rng, kind, held_out=True) for _ in range(1500)]
        for attr in T.ATTRS[kind]:
            top = Counter(e.facts[attr] for e in ents).most_common(1)[0][1]
            assert top / len(ents) < 0.05, (kind, attr)  # professions: 1 in 30


def test_write_world_and_cli(tmp_path, capsys):
    from core.cli import main

    w = generate_world(3, n_entities=6)
    write_world(w, tmp_path / "w")
    assert sorted(p.name for p in (tmp_path / "w" / "docs").iterdir()) == sorted(d.name for d in w.documents)
    rows = [json.loads(x) for x in (tmp_path / "w" / "qa.jsonl").read_text().splitlines()]
    assert rows == w.qa
    assert {"question", "answer", "value", "paraphrases", "document"} <= set(rows[0])

    assert main(["world", "--seed", "3", "--out", str(tmp_path / "cli"), "--entities", "6"]) == 0
    assert "6 entities" in capsys.readouterr().out
    assert (tmp_path / "cli" / "qa.jsonl").read_text() == (tmp_path / "w" / "qa.jsonl").read_text()


def test_general_facts_are_constants():
    assert len(GENERAL_FACTS) >= 5
    for f in GENERAL_FACTS:
        assert f["value"] in f["answer"] and f["question"].endswith("?")
