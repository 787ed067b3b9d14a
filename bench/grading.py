"""Benchmark: rubric grading, K criteria × M solutions with tests of known duration, on a pool
of 4 locked-down containers, against the naive way (`docker run --rm` per grading, one after
another, as simple grading scripts do) in the same run.

Prints figures; asserts nothing. Needs a running engine and the base image
(`bash scripts/docker-up.sh`). Usage: python bench/grading.py [--criteria 12] [--solutions 4]

Figures:
  test time       the sum of the graded commands' own run times (each criterion's command
                  sleeps a known duration, 0.20 s + 0.05 s × k, then runs a unit test)
  ideal wall      test time / pool size: perfect parallelism with zero overhead
  apply wall      `taskform apply` grading every cell (a subprocess: start, load, plan, grade,
                  commit each grading, aggregate, print the matrix), minus nothing
  fixed cost      the same apply when nothing changed (start, load, plan)
  overhead/grading  at parallelism 1: (apply wall - fixed cost - test time) / gradings: lease,
                  the exec, reset to pristine, both patches, capture, state commit
  in-container    the grading script's own reset + setup + patch + tests_patch phases
  naive           `docker run --rm` per grading (create, start, git apply ×2, the command,
                  remove), sequentially and with 4 at a time
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


def spec(timeout: int) -> str:
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
"""


def gradings(ws: Path) -> list[dict]:
    db = sqlite3.connect(ws / ".taskform" / "state.db")
    rows = db.execute("SELECT outputs FROM resources WHERE kind = 'rubric_shell'").fetchall()
    db.close()
    return [json.loads(r[0]) for r in rows]


def grade_round(ws: Path, timeout: int, parallelism: int) -> tuple[float, list[dict]]:
    (ws / "specs" / "bench.yaml").write_text(spec(timeout))  # a new cache key: regrade all
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        ws = Path(tmp)
        (ws / "taskform.yaml").write_text("parallelism: 8\n")
        (ws / "specs").mkdir()
        make_task(ws, args.criteria, args.solutions)
        (ws / "specs" / "bench.yaml").write_text(spec(60))
        try:
            run(ws, args.criteria, args.solutions)
        finally:
            taskform(ws, "destroy", "-auto-approve")


def run(ws: Path, criteria: int, solutions: int) -> None:
    count = criteria * solutions
    print(f"building the image and a pool of {POOL}...", flush=True)
    taskform(ws, "apply", "-auto-approve", "-target", "pipeline.bench.pool")
    print(f"grading {criteria} criteria × {solutions} solutions = {count} gradings...",
          flush=True)
    taskform(ws, "apply", "-auto-approve")  # warm-up: first exec in each container
    fixed = statistics.median(taskform(ws, "apply", "-auto-approve") for _ in range(3))
    seq_wall, seq = grade_round(ws, 61, 1)
    par_wall, par = grade_round(ws, 62, 8)
    test_seq = sum(g["seconds"] for g in seq)
    test_par = sum(g["seconds"] for g in par)
    nominal = solutions * sum(duration(k) for k in range(criteria))
    inside = statistics.mean(g["timings"]["total"] - g["timings"]["run"] for g in par) * 1000
    overhead = (seq_wall - fixed - test_seq) / count * 1000
    print("naive docker run --rm, one after another...", flush=True)
    image = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", TAG], check=True,
                           capture_output=True, text=True).stdout.strip()
    naive_seq = naive(ws, image, criteria, solutions, 1)
    print("naive docker run --rm, 4 at a time...", flush=True)
    naive_par = naive(ws, image, criteria, solutions, POOL)
    statuses = sorted({g["status"] for g in par})
    print()
    print(f"{count} gradings ({criteria} criteria × {solutions} solutions; statuses "
          f"{', '.join(statuses)}), pool of {POOL} locked-down containers")
    print(f"test time: {test_par:.2f}s measured ({nominal:.2f}s nominal); ideal wall on {POOL} "
          f"containers: {test_par / POOL:.2f}s; fixed cost of a no-change apply: {fixed:.2f}s")
    print()
    print(f"{'how':<42} {'wall':>8} {'per grading':>12} {'vs taskform':>12}")
    rows = [("taskform apply, parallelism 8, pool of 4", par_wall),
            ("taskform apply, parallelism 1", seq_wall),
            ("naive docker run --rm, sequential", naive_seq),
            ("naive docker run --rm, 4 at a time", naive_par)]
    for label, wall in rows:
        print(f"{label:<42} {wall:>7.2f}s {wall / count * 1000:>10.0f}ms "
              f"{wall / par_wall:>11.2f}x")
    print()
    print(f"overhead per grading at parallelism 1 (lease, exec, reset, patches, capture, state "
          f"commit): {overhead:.0f} ms; in-container reset + patches: {inside:.0f} ms; naive "
          f"docker run --rm: {(naive_seq - test_seq) / count * 1000:.0f} ms")
    print(f"parallel efficiency: ideal {test_par / POOL:.2f}s / grading wall "
          f"{par_wall - fixed:.2f}s = {(test_par / POOL) / (par_wall - fixed):.0%}")


if __name__ == "__main__":
    main()
