"""``python -m core world --seed N --out DIR [--entities K]``: write a fresh synthetic corpus.

The entities have held-out names (never in the built-in model's training data),
so the built-in model can answer about them only from retrieved context.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("world", help="write a fresh synthetic world corpus (docs/*.md + qa.jsonl)",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, required=True, help="world seed (same seed, same corpus)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--entities", type=int, default=12, help="number of entities (default 12)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from core.errors import ConfigError
    from core.world import generate_world, write_world

    if not 1 <= args.entities <= 500:
        raise ConfigError(f"--entities must be between 1 and 500 (got {args.entities}).")
    world = generate_world(args.seed, n_entities=args.entities, held_out=True)
    write_world(world, args.out)
    kinds = sorted({e.kind for e in world.entities})
    print(f"world seed {args.seed}: {len(world.entities)} entities ({', '.join(kinds)}), "
          f"{len(world.documents)} documents, {len(world.qa)} Q&A rows -> {args.out}")
    return 0
