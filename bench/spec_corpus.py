"""The malformed-workspace corpus (tests/spec/corpus.py) as figures: for every case, `validate`
and `plan` as real processes (under a 1 GiB address-space limit), their exit codes, whether the
error names the file (and field), and their wall time and peak memory (wait4).

    python3 bench/spec_corpus.py                 # every case, one process at a time
    python3 bench/spec_corpus.py --jobs 2 --slowest 10

Prints counts by outcome and by group, median and maximum time and memory, and the slowest
cases; exits 1 if any run is not a clean error, or is past 3 s or 200 MB.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "spec"), str(REPO)]

from corpus import Case, Outcome, cases, run  # noqa: E402
from test_corpus import problems  # noqa: E402

SECONDS, MEGABYTES = 3.0, 200.0


def measure(case: Case, root: Path) -> dict[str, Outcome]:
    case.write(root)
    return {verb: run(root, verb) for verb in ("validate", "plan")}


def outcome_of(case: Case, outcome: Outcome) -> str:
    if problems(case, outcome.code, outcome.stderr):
        return "WRONG: " + "; ".join(problems(case, outcome.code, outcome.stderr))
    if outcome.seconds > SECONDS or outcome.rss_mb > MEGABYTES:
        return "clean error, past the limits"
    return "clean error (exit 1, file:line, no traceback)"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1, help="processes at once (1: timings "
                        "undisturbed by each other)")
    parser.add_argument("--slowest", type=int, default=5)
    args = parser.parse_args()
    corpus = cases()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda i: measure(corpus[i], Path(tmp) / f"c{i}" / "ws"),
                                range(len(corpus))))
    runs = [(case, verb, o) for case, r in zip(corpus, results, strict=True)
            for verb, o in r.items()]
    report(corpus, runs, time.perf_counter() - started, args)
    bad = [r for r in runs if not outcome_of(r[0], r[2]).startswith("clean error (")]
    return 1 if bad else 0


def report(corpus: list[Case], runs: list[tuple[Case, str, Outcome]], wall: float,
           args: argparse.Namespace) -> None:
    groups = Counter(case.name.split(":")[0] for case in corpus)
    print(f"{len(corpus)} malformed workspaces, {len(runs)} runs (validate and plan each), "
          f"{wall:.0f} s wall with {args.jobs} job(s)")
    print("cases by group: " + ", ".join(f"{g} {n}" for g, n in groups.most_common()))
    print("\noutcomes:")
    for outcome, count in Counter(outcome_of(c, o) for c, _, o in runs).most_common():
        print(f"  {count:5d}  {outcome}")
    for verb in ("validate", "plan"):
        seconds = [o.seconds for _, v, o in runs if v == verb]
        memory = [o.rss_mb for _, v, o in runs if v == verb]
        print(f"\n{verb}: time median {statistics.median(seconds):.2f} s, max {max(seconds):.2f} s;"
              f" peak memory median {statistics.median(memory):.0f} MB, max {max(memory):.0f} MB")
    print(f"\nslowest {args.slowest} runs:")
    for case, verb, o in sorted(runs, key=lambda r: -r[2].seconds)[:args.slowest]:
        print(f"  {o.seconds:5.2f} s  {o.rss_mb:4.0f} MB  {verb:8s} {case.name}")
    print(f"largest {args.slowest} runs:")
    for case, verb, o in sorted(runs, key=lambda r: -r[2].rss_mb)[:args.slowest]:
        print(f"  {o.seconds:5.2f} s  {o.rss_mb:4.0f} MB  {verb:8s} {case.name}")
    for case, verb, o in runs:
        if outcome_of(case, o).startswith("WRONG"):
            print(f"\nWRONG {verb} {case.name}: {outcome_of(case, o)}\n{o.stderr[:500]}")


if __name__ == "__main__":
    sys.exit(main())
