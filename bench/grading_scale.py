"""The grading-scale shape: a `rubric_set` of C criteria × S solutions, graded once for real on a
pool of 4 locked-down containers, then planned again with nothing changed.

The graded state is made honestly: a real `taskform apply` grades every cell in Docker (cheap
commands, `true` and a file test, so that 5,000 cells grade in minutes, not hours; the content is
trusted, so `isolation: reuse` spares a fresh sandbox per cell, which the plan does not see); the
no-op plan then reads exactly what such an apply records. Needs a Docker engine and the base image
(`bash scripts/docker-up.sh`).

    python3 bench/grading_scale.py                        # 10 criteria × 500 solutions
    python3 bench/grading_scale.py --criteria 10 --solutions 31 --rounds 5
    python3 bench/grading_scale.py --keep /var/tmp/graded   # grade once, plan again later
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from common import BASE_IMAGE
from grading import DOCKERFILE, PARAMS, PROJECT, git, write
from plan_scale import Sample, measure, taskform

TAG = "taskform/bench-grading-scale:latest"
POOL = 4


def commands(criteria: int) -> list[str]:
    """Cheap commands that still run in the container: half pass, half fail."""
    return ["true" if k % 2 == 0 else "test -f /app/never-there" for k in range(criteria)]


def make_task(ws: Path, criteria: int, solutions: int) -> None:
    task = ws / "task"
    write(task, {"Dockerfile": DOCKERFILE, ".dockerignore": "*\n!Dockerfile\n!project/\n",
                 **{f"project/{k}": v for k, v in PROJECT.items()}})
    sections = [f"### #{k + 1}: c{k + 1:02d}\n**Score**: 1\n**Held-out tests**:\n```bash\n"
                f"{command}\n```\n" for k, command in enumerate(commands(criteria))]
    (task / "TASK_DATA.md").write_text("\n".join(sections))
    repo = ws / "repo"
    write(repo, PROJECT)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "pristine")
    (task / "held_out_tests.patch").write_text(diff(repo, {"tests/test_more.py": "# more\n"}))
    for n in range(1, solutions + 1):  # each a real git diff of its own
        (task / f"solution{n}.patch").write_text(diff(repo, {
            "calc.py": f"def add(a, b):\n    # solution {n}\n    return a + b\n"}))


def diff(repo: Path, changes: dict[str, str]) -> str:
    write(repo, changes)
    git(repo, "add", "-A")
    out = git(repo, "diff", "--cached")
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-qfd")
    return out


def spec() -> str:
    params = ", ".join(f'"{p}"' for p in PARAMS)
    return f"""apiVersion: taskform/v1
kind: Pipeline
metadata: {{name: grading}}
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
        timeout_seconds: 30
        isolation: reuse
"""


def run_grading(criteria: int, solutions: int, root: Path, rounds: int,
                keep: bool = False) -> dict[str, Sample]:
    """Grade once (a real apply), then plan with nothing changed, `rounds` times each way.
    `keep`: a workspace graded by an earlier run is planned again as it is (its rubric step
    applied once more, so its record holds what this taskform records), and kept."""
    ws = root / f"grading-{criteria}x{solutions}"
    out = {}
    if keep and (ws / ".taskform" / "state.db").is_file():
        measure(taskform("apply", "-auto-approve", "-replace", "pipeline.grading.grade"), ws)
    else:
        (ws / "specs").mkdir(parents=True)
        (ws / "taskform.yaml").write_text("parallelism: 8\n")
        make_task(ws, criteria, solutions)
        (ws / "specs" / "grading.yaml").write_text(spec())
        out["grade once (first apply)"] = measure(taskform("apply", "-auto-approve"), ws)
    for name, args in (("no-op plan", ()), ("no-op plan -refresh=false", ("-refresh=false",))):
        samples = [measure(taskform("plan", "-detailed-exitcode", *args), ws)
                   for _ in range(rounds)]
        out[name] = median(samples)
    if not keep:
        measure(taskform("destroy", "-auto-approve"), ws)
    return out


def median(samples: list[Sample]) -> Sample:
    return Sample(statistics.median(s.seconds for s in samples), max(s.rss_mb for s in samples))


def report(criteria: int, solutions: int, figures: dict[str, Sample]) -> None:
    cells = criteria * solutions
    print(f"\nrubric_set, {criteria} criteria × {solutions} solutions = {cells} cells "
          f"(pool of {POOL}, base image {BASE_IMAGE})")
    for name, s in figures.items():
        per_cell = f"{s.seconds / cells * 1000:6.2f} ms a cell" if "plan" in name else ""
        print(f"  {name:<28} {s.seconds:>8.2f}s {s.rss_mb:>6.0f}MB  {per_cell}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--criteria", type=int, default=10)
    parser.add_argument("--solutions", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="grade in DIR and keep it; a later run with the same DIR plans "
                             "the graded set again without grading it (minutes at 5,000 cells)")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        report(args.criteria, args.solutions, run_grading(
            args.criteria, args.solutions, args.keep.resolve(), args.rounds, keep=True))
        return
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        report(args.criteria, args.solutions,
               run_grading(args.criteria, args.solutions, Path(tmp), args.rounds))


if __name__ == "__main__":
    main()
