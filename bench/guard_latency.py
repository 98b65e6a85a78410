"""The guard's latency against an earlier version of itself, measured side by side.

On a shared machine one timing says little: the load of the minute moves it by 10-20 %. So both trees
are timed in the same minutes, alternating, each run in its own process (warm: every pair is checked
once before timing), and the script prints both medians and their ratio per round and pooled:

    .venv/bin/python bench/guard_latency.py --baseline HEAD~3 bench/guard_corpus/pairs/batch13.toml
    .venv/bin/python bench/guard_latency.py --baseline 5257095 --rounds 5 bench/guard_corpus/pairs/*.toml

The baseline is taken from git (`git archive REV src`) into a temporary folder and put first on
`PYTHONPATH`; the candidate is the working tree.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Runs inside each timed process: argv = the tree's src, repetitions, the batch files; prints the times in ms.
_TIMER = """
import json, sys, time, tomllib
import medvault.guard
from medvault.guard import check
src, reps, paths = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
assert medvault.guard.__file__.startswith(src), (medvault.guard.__file__, src)  # the tree asked for
pairs = [p for path in paths for p in tomllib.load(open(path, "rb"))["pair"]]
def run(p):
    lang, target = p["languages"]
    return check(p["source"], p["output"], task=p["task"], lang=lang, target_lang=target)
for p in pairs:
    run(p)
times = []
for _ in range(reps):
    for p in pairs:
        t = time.perf_counter()
        run(p)
        times.append((time.perf_counter() - t) * 1000)
print(json.dumps(times))
"""


def _export(rev: str, into: Path) -> Path:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "src"], check=True, capture_output=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into / "src"


def _times(src: Path, reps: int, batches: list[Path]) -> list[float]:
    """One warm process importing the guard from `src` (first on the path, before the installed one)."""
    out = subprocess.run(
        [sys.executable, "-c", _TIMER, str(src), str(reps), *map(str, batches)],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(src)},
    )
    times: list[float] = json.loads(out.stdout)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("batches", nargs="+", type=Path, help="pair batch files (guard_corpus/pairs/*.toml)")
    parser.add_argument("--baseline", required=True, help="git revision of the earlier guard")
    parser.add_argument("--rounds", type=int, default=3, help="alternations of baseline and candidate")
    parser.add_argument("--reps", type=int, default=5, help="timed passes over the pairs per run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="guard-latency-") as tmp:
        trees = {"baseline": _export(args.baseline, Path(tmp)), "candidate": ROOT / "src"}
        pooled: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(1, args.rounds + 1):
            medians = {}
            # Alternate which goes first too: a load that eases or grows within a round favours neither.
            for name, src in sorted(trees.items(), reverse=i % 2 == 0):
                times = _times(src, args.reps, args.batches)
                pooled[name] += times
                medians[name] = statistics.median(times)
            print(_line(f"round {i}", medians))
    pooled_medians = {name: statistics.median(times) for name, times in pooled.items()}
    print(_line(f"pooled (n={len(pooled['candidate'])} each)", pooled_medians))


def _line(label: str, medians: dict[str, float]) -> str:
    base, cand = medians["baseline"], medians["candidate"]
    return f"{label}: baseline p50 {base:.2f} ms, candidate p50 {cand:.2f} ms, ratio {cand / base:.3f}"


if __name__ == "__main__":
    main()
