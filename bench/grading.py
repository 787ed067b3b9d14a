"""Benchmark: rubric grading, K criteria × M solutions with tests of known duration, on a pool
of 4 locked-down containers, in fresh-sandbox mode (the default: a container per grading,
started ahead as a warm spare and removed afterwards) and in reuse mode (gradings take turns in
the pool's containers), against the naive way (`docker run --rm` per grading, one after
another as simple grading scripts do, and 4 at a time) in the same run.

Prints figures; asserts nothing. Needs a running engine and the base image
(`bash scripts/docker-up.sh`). Usage:
python bench/grading.py [--criteria 12] [--solutions 4] [--repeat 1]; with --repeat N every
figure is the median of N rounds.

Figures:
  test time       the sum of the graded commands' own run times (each criterion's command
                  sleeps a known duration, 0.20 s + 0.05 s × k, then runs a unit test)
  ideal wall      test time / pool size: perfect parallelism with zero overhead
  apply wall      `taskform apply` grading every cell (a subprocess: start, load, plan, grade,
                  commit each grading, aggregate, print the matrix)
  fixed cost      the same apply when nothing changed (start, load, plan)
  overhead/grading  at parallelism 1: (apply wall - fixed cost - test time) / gradings: the
                  sandbox (or lease), the exec, patches, harness, results, state commit
  in-container    the grading script's own phases besides the command
  naive           `docker run --rm` per grading (create, start, git apply ×2, the command,
                  remove), sequentially and with 4 at a time
  sandboxes       how many fresh sandboxes the engine created during an apply: one per
                  grading, plus any spare started and removed unused
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from common import BASE_IMAGE, taskform

from runner.rubric.lockdown import LOCKED_DOWN_FLAGS

POOL = 4
TAG = "taskform/bench-grading:latest"
PARAMS = LOCKED_DOWN_FLAGS  # the flags the lease insists on, nothing more
DOCKERFILE = f"""FROM {BASE_IMAGE}
RUN useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin grader
COPY project/ /app/
RUN git init -q --separate-git-dir=/srv/pristine.git /app && git -C /app add -A \\
 && git -C /app -c user.name=b -c user.email=b@localhost commit -q -m pristine \\
 && chown -R grader:grader /app && chown root:root /app/.git && chmod -R go-w /srv/pristine.git
WORKDIR /app
"""
PROJECT = {"calc.py": "def add(a, b):\n    return a - b\n", "tests/__init__.py": ""}
HELD_OUT = {"tests/test_hidden.py": "import unittest\n\nimport calc\n\n\nclass Add(unittest.TestCase):"
                                    "\n    def test_add(self):\n        self.assertEqual(calc.add(2, 3), 5)\n"}


def duration(k: int) -> float:
    return 0.20 + 0.05 * k


def command(k: int) -> str:
    return f"sleep {duration(k):.2f} && python3 -m unittest -q tests.test_hidden"


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "b", "GIT_AUTHOR_EMAIL": "b@localhost",
           "GIT_COMMITTER_NAME": "b", "GIT_COMMITTER_EMAIL": "b@localhost",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout


def patch(changes: dict[str, str]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        write(repo, PROJECT)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", "p")
        write(repo, changes)
        git(repo, "add", "-A")
        return git(repo, "diff", "--cached")


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def make_task(ws: Path, criteria: int, solutions: int) -> None:
    task = ws / "task"
    write(task, {"Dockerfile": DOCKERFILE, ".dockerignore": "*\n!Dockerfile\n!project/\n",
                 **{f"project/{k}": v for k, v in PROJECT.items()}})
    sections = [f"### #{k + 1}: c{k + 1:02d}\n**Score**: 1\n**Held-out tests**:\n```bash\n"
                f"{command(k)}\n```\n" for k in range(criteria)]
    (task / "TASK_DATA.md").write_text("\n".join(sections))
    (task / "held_out_tests.patch").write_text(patch(HELD_OUT))
    for n in range(1, solutions + 1):  # half fixed, half not: PASS and FAIL both graded
        body = "a + b" if n % 2 else "a - b"
        (task / f"solution{n}.patch").write_text(
            patch({"calc.py": f"def add(a, b):\n    # solution {n}\n    return {body}\n"}))


def spec(timeout: int, isolation: str = "fresh") -> str:
    params = ", ".join(f'"{p}"' for p in PARAMS)
    return f"""apiVersion: taskform/v1
kind: Pipeline
metadata: {{name: bench}}
spec:
  steps:
    image:
      docker_build: {{context: task, image_tag: "{TAG}"}}
    pool:
      docker_pool:
        image_id: "{{{{ steps.image.image_id }}}}"
        pool_size: {POOL}
        parameters: [{params}]
    grade:
      rubric_set:
        pool: pool
        task_dir: task
        git_dir: /srv/pristine.git
        golden: null
        original: false
        timeout_seconds: {timeout}
        isolation: {isolation}
"""


def gradings(ws: Path) -> list[dict]:
    db = sqlite3.connect(ws / ".taskform" / "state.db")
    rows = db.execute("SELECT outputs FROM resources WHERE kind = 'rubric_shell'").fetchall()
    db.close()
    return [json.loads(r[0]) for r in rows]


def grade_round(ws: Path, timeout: int, parallelism: int, isolation: str
                ) -> tuple[float, list[dict]]:
    (ws / "specs" / "bench.yaml").write_text(spec(timeout, isolation))  # regrade every cell
    wall = taskform(ws, "apply", "-auto-approve", "-parallelism", str(parallelism))
    return wall, gradings(ws)


def naive(ws: Path, image: str, criteria: int, solutions: int, workers: int) -> float:
    """`docker run --rm` per grading: the patches from a bind mount, as root, no reuse."""
    jobs = [(k, n) for k in range(criteria) for n in range(1, solutions + 1)]
    task = ws / "task"

    def one(job: tuple[int, int]) -> None:
        k, n = job
        script = (f"cd /app && git apply /task/solution{n}.patch && "
                  f"git apply /task/held_out_tests.patch && {command(k)}")
        subprocess.run(["docker", "run", "--rm", "--network", "none", "--memory", "512m",
                        "--pids-limit", "256", "--cpus", "1", "-v", f"{task}:/task:ro", image,
                        "bash", "-c", script], capture_output=True)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criteria", type=int, default=12)
    parser.add_argument("--solutions", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="rounds; figures are medians")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        ws = Path(tmp)
        (ws / "taskform.yaml").write_text("parallelism: 8\n")
        (ws / "specs").mkdir()
        make_task(ws, args.criteria, args.solutions)
        (ws / "specs" / "bench.yaml").write_text(spec(60))
        try:
            run(ws, args.criteria, args.solutions, args.repeat)
        finally:
            taskform(ws, "destroy", "-auto-approve")


@dataclass
class Round:
    """One round's walls (seconds) and what the gradings recorded."""

    walls: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    inside: dict[str, float] = field(default_factory=dict)
    sandboxes: dict[str, int] = field(default_factory=dict)
    statuses: set[str] = field(default_factory=set)


WAYS = [("fresh", 8), ("fresh", 1), ("reuse", 8), ("reuse", 1)]


def one_round(ws: Path, criteria: int, solutions: int, image: str, n: int) -> Round:
    found = Round()
    for k, (isolation, parallelism) in enumerate(WAYS):
        with SandboxCount() as started:
            wall, graded = grade_round(ws, 61 + 4 * n + k, parallelism, isolation)
        key = f"{isolation}-{parallelism}"
        found.sandboxes[key] = started.count
        found.walls[key] = wall
        found.test[key] = sum(g["seconds"] for g in graded)
        found.inside[key] = statistics.mean(g["timings"]["total"] - g["timings"]["run"]
                                            for g in graded) * 1000
        found.statuses |= {g["status"] for g in graded}
    print("  naive docker run --rm, one after another, then 4 at a time...", flush=True)
    found.walls["naive-1"] = naive(ws, image, criteria, solutions, 1)
    found.walls["naive-4"] = naive(ws, image, criteria, solutions, POOL)
    return found


class SandboxCount:
    """Fresh sandboxes the engine creates while in the block, from its event stream (watched
    live: the engine keeps only its last 256 events for a later look)."""

    def __enter__(self) -> SandboxCount:
        self.count = 0
        self._watch = subprocess.Popen(
            ["docker", "events", "--filter", "type=container", "--filter", "event=create",
             "--filter", "label=taskform.sandbox", "--format", "{{.ID}}"],
            stdout=subprocess.PIPE, text=True)
        time.sleep(0.2)  # subscribed before anything is created
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.5)  # the last events on their way
        self._watch.terminate()
        out, _ = self._watch.communicate()
        self.count = len(out.split())


def run(ws: Path, criteria: int, solutions: int, repeat: int) -> None:
    count = criteria * solutions
    print(f"building the image and a pool of {POOL}...", flush=True)
    taskform(ws, "apply", "-auto-approve", "-target", "pipeline.bench.pool")
    print(f"grading {criteria} criteria × {solutions} solutions = {count} gradings per way...",
          flush=True)
    taskform(ws, "apply", "-auto-approve")  # warm-up: the first sandboxes, the first execs
    fixed = statistics.median(taskform(ws, "apply", "-auto-approve") for _ in range(3))
    image = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", TAG], check=True,
                           capture_output=True, text=True).stdout.strip()
    rounds = []
    for n in range(repeat):
        print(f"round {n + 1} of {repeat}: fresh and reuse, parallelism 8 and 1...", flush=True)
        rounds.append(one_round(ws, criteria, solutions, image, n))
    report(rounds, criteria, solutions, fixed)


def median(rounds: list[Round], what: str, key: str) -> float:
    return statistics.median(getattr(r, what)[key] for r in rounds)


def report(rounds: list[Round], criteria: int, solutions: int, fixed: float) -> None:
    count = criteria * solutions
    nominal = solutions * sum(duration(k) for k in range(criteria))
    wall = {k: median(rounds, "walls", k) for k in rounds[0].walls}
    test = {k: median(rounds, "test", k) for k in rounds[0].test}
    statuses = sorted(set().union(*(r.statuses for r in rounds)))
    print()
    print(f"{count} gradings ({criteria} criteria × {solutions} solutions; statuses "
          f"{', '.join(statuses)}), pool of {POOL} locked-down containers; medians of "
          f"{len(rounds)} round{'s' if len(rounds) != 1 else ''}")
    print(f"test time: {test['fresh-8']:.2f}s measured ({nominal:.2f}s nominal); ideal wall on "
          f"{POOL} containers: {test['fresh-8'] / POOL:.2f}s; fixed cost of a no-change apply: "
          f"{fixed:.2f}s")
    print()
    print(f"{'how':<46} {'wall':>8} {'per grading':>12} {'vs fresh':>9}")
    rows = [("taskform, fresh sandboxes, 4 at a time", "fresh-8"),
            ("taskform, fresh sandboxes, one at a time", "fresh-1"),
            ("taskform, reused containers, 4 at a time", "reuse-8"),
            ("taskform, reused containers, one at a time", "reuse-1"),
            ("naive docker run --rm, 4 at a time", "naive-4"),
            ("naive docker run --rm, one at a time", "naive-1")]
    for label, key in rows:
        print(f"{label:<46} {wall[key]:>7.2f}s {wall[key] / count * 1000:>10.0f}ms "
              f"{wall[key] / wall['fresh-8']:>8.2f}x")
    print()
    for mode in ("fresh", "reuse"):
        overhead = (wall[f"{mode}-1"] - fixed - test[f"{mode}-1"]) / count * 1000
        inside = median(rounds, "inside", f"{mode}-1")
        print(f"overhead per grading over the test's own time, one at a time, {mode}: "
              f"{overhead:.0f} ms (in the container: {inside:.0f} ms)")
    print(f"naive docker run --rm, one at a time: "
          f"{(wall['naive-1'] - test['reuse-1']) / count * 1000:.0f} ms per grading over the "
          "test's own time")
    started = {k: median(rounds, "sandboxes", k) for k in ("fresh-8", "fresh-1")}
    print(f"fresh sandboxes started for {count} gradings: {started['fresh-8']:.0f} (4 at a time), "
          f"{started['fresh-1']:.0f} (one at a time)")
    print(f"fresh / reuse wall: {wall['fresh-8'] / wall['reuse-8']:.2f}x (4 at a time), "
          f"{wall['fresh-1'] / wall['reuse-1']:.2f}x (one at a time); fresh / naive: "
          f"{wall['fresh-8'] / wall['naive-4']:.2f}x (4 at a time), "
          f"{wall['fresh-1'] / wall['naive-1']:.2f}x (one at a time)")


if __name__ == "__main__":
    main()
