"""Two versions of `storage/search.py` timed query by query over the same two SQLite files (1,000 and 100,000
incidents), each query run ``--repeat`` times on each, the versions in turn: each query's least time, p50 and p99,
the ratio to the same at 1,000. On a shared machine, the fairest comparison of a change to search.

    git show fdc422d:storage/search.py > /tmp/old_search.py
    python bench/search_ab.py --old /tmp/old_search.py [--dir /tmp/search-ab] [--repeat 5]

The databases are built once (like bench/search.py: migration 0009 indexing incidents written in bulk) and kept
in ``--dir`` for the next run.
"""

from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path
from types import ModuleType

from bot.services import knowledge
from storage import migrate
from storage import search as current
from storage.db import Database

sys.path.insert(0, str(Path(__file__).resolve().parent))
import search as bench  # noqa: E402  (bench/search.py: the corpus and the queries)


def load(path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location("old_search", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def database(folder: Path, count: int) -> Database:
    path = folder / f"search-{count}.db"
    fresh = not path.exists()
    db = Database.from_url(f"sqlite:///{path}")
    if fresh:
        migrate.upgrade(db.engine, "0007")
        bench.seed(db, count)
        migrate.upgrade(db.engine)
    return db


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--old", required=True, help="a storage/search.py to compare with the current one")
    parser.add_argument("--dir", default="/tmp/search-ab")
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    folder = Path(args.dir)
    folder.mkdir(parents=True, exist_ok=True)
    sizes = (1000, args.incidents)
    dbs = {size: database(folder, size) for size in sizes}
    versions: dict[str, ModuleType] = {"old": load(args.old), "new": current}
    typed = bench.queries(random.Random(1), args.queries)
    least: dict[tuple[str, int], list[float]] = {(v, size): [] for v in versions for size in sizes}
    for module in versions.values():
        knowledge.index = module  # type: ignore[attr-defined]
        for db in dbs.values():
            bench.timings(db, typed[:30])
    for words in typed:
        for size, db in dbs.items():
            best = dict.fromkeys(versions, float("inf"))
            for _ in range(args.repeat):
                for name, module in versions.items():
                    knowledge.index = module  # type: ignore[attr-defined]
                    began = time.perf_counter()
                    with db.read() as session:
                        knowledge.find(session, words, team_id=bench.TEAM)
                    best[name] = min(best[name], time.perf_counter() - began)
            for name in versions:
                least[(name, size)].append(best[name])
    knowledge.index = current  # type: ignore[attr-defined]
    small, big = sizes
    for name in versions:
        s, b = least[(name, small)], least[(name, big)]
        print(f"{name}: each query's least of {args.repeat}: @{big // 1000}k p50 {bench.pct(b, 50) * 1000:.2f}, p99 "
              f"{bench.pct(b, 99) * 1000:.2f} ms (@1k p50 {bench.pct(s, 50) * 1000:.2f}, p99 "
              f"{bench.pct(s, 99) * 1000:.2f}) = {bench.pct(b, 99) / bench.pct(s, 99):.2f}x")
    for db in dbs.values():
        db.dispose()


if __name__ == "__main__":
    main()
