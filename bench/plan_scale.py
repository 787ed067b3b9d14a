"""Plan/apply at scale against Terraform: N `value` steps in chains of 10, in two shapes.

`depends_on`: step i depends on i-1 by name (unless i % 10 == 0). `template`: step i's input
reads i-1's output through a template, `"{{ steps.s<i-1>.value }}"`, exactly as Terraform's
`terraform_data` with `"${terraform_data.s<i-1>.output}"` (the shape real specs have).

For each N and shape: validate (cold, then warm: the same files again, so whatever taskform
caches is reused) and the first apply, once; then, `--rounds` times, a no-op plan, a plan after
changing the last step's input, and an apply (which plans, then applies) after changing it
again; medians are printed. Each change writes a new value, so the file is read cold. Wall time
and peak RSS come from `wait4`; every command is a fresh process. When `terraform` is on PATH
the same shape runs with `terraform_data` in the same run, and the ratios are printed.

Last, the grading-scale shape (bench/grading_scale.py, needs Docker): a rubric_set graded once
for real, then planned again.

    python3 bench/plan_scale.py                    # N = 100, 1000, 5000, both shapes, grading
    python3 bench/plan_scale.py --sizes 1000 --shapes template --no-terraform --grading none
    python3 bench/plan_scale.py --sizes 5000 --state sqlite,postgresql --no-terraform --grading none

`--state postgresql` keeps the state in a PostgreSQL server the benchmark starts itself (as the
tests do: tests/postgres_server.py) and stops at the end; with two backends the ratios of
their medians are printed.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # the tests' PostgreSQL server, for --state postgresql
ENV = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1", "TF_IN_AUTOMATION": "1",
       "CHECKPOINT_DISABLE": "1"}


@dataclass
class Sample:
    seconds: float
    rss_mb: float


def measure(argv: list[str], cwd: Path, expect: tuple[int, ...] = (0,)) -> Sample:
    """Run a command; its wall time and peak resident memory (from wait4's rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in expect:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"{' '.join(argv)} exited {code}: {err[-2000:]}")
    return Sample(seconds, usage.ru_maxrss / 1024)


def taskform(*args: str) -> list[str]:
    return [sys.executable, "-m", "runner", *args]


SHAPES = ("depends_on", "template")


def spec_text(shape: str, n: int, leaf: int) -> str:
    """N `value` steps in chains of 10. `depends_on`: step i depends on i-1 by name;
    `template`: step i's input reads i-1's output through a template (the edge comes from it).
    The last step's input carries `leaf`, which the changes edit."""
    lines = ["apiVersion: taskform/v1", "kind: Pipeline", "metadata: {name: bench}", "spec:",
             "  steps:"]
    for i in range(n):
        lines.append(f"    s{i}:")
        chained = i % 10 != 0
        if shape == "template" and chained:
            tail = f"-{leaf}" if i == n - 1 else ""
            lines.append(f'      value: {{input: "{{{{ steps.s{i - 1}.value }}}}{tail}"}}')
            continue
        lines.append(f"      value: {{input: {leaf if i == n - 1 else i}}}")
        if chained:
            lines.append(f"      depends_on: [s{i - 1}]")
    return "\n".join(lines) + "\n"


def terraform_text(shape: str, n: int, leaf: int) -> str:
    """The same shape with `terraform_data` (its `output` is its `input`, like `value`)."""
    out = []
    for i in range(n):
        chained = i % 10 != 0
        if shape == "template" and chained:
            tail = f"-{leaf}" if i == n - 1 else ""
            body = f'  input = "${{terraform_data.s{i - 1}.output}}{tail}"'
        else:
            dep = f"\n  depends_on = [terraform_data.s{i - 1}]" if chained else ""
            body = f"  input = {leaf if i == n - 1 else i}{dep}"
        out.append(f'resource "terraform_data" "s{i}" {{\n{body}\n}}\n')
    return "\n".join(out)


@dataclass
class Tool:
    """How to run one tool on one workspace: the commands and how a spec file is written."""

    name: str
    validate: list[str]
    apply: list[str]
    plan: list[str]
    write: Callable[[int], None]


def taskform_tool(shape: str, n: int, root: Path, state_yaml: str = "") -> tuple[Tool, Path]:
    ws = root / f"taskform-{shape}-{n}-{uuid.uuid4().hex[:8]}"
    (ws / "specs").mkdir(parents=True)
    (ws / "taskform.yaml").write_text(state_yaml)
    spec = ws / "specs" / "bench.yaml"
    return Tool("taskform", taskform("validate"), taskform("apply", "-auto-approve"),
                taskform("plan", "-detailed-exitcode"),
                lambda leaf: spec.write_text(spec_text(shape, n, leaf))), ws


def terraform_tool(shape: str, n: int, root: Path) -> tuple[Tool, Path]:
    ws = root / f"terraform-{shape}-{n}"
    ws.mkdir()
    main = ws / "main.tf"
    tool = Tool("terraform", ["terraform", "validate"],
                ["terraform", "apply", "-auto-approve", "-input=false"],
                ["terraform", "plan", "-input=false", "-detailed-exitcode"],
                lambda leaf: main.write_text(terraform_text(shape, n, leaf)))
    tool.write(n - 1)
    measure(["terraform", "init", "-input=false"], ws)
    return tool, ws


def run(tool: Tool, ws: Path, n: int, rounds: int) -> dict[str, Sample]:
    """validate cold and warm, the first apply; then, `rounds` times each (medians): a no-op
    plan, a plan with the leaf changed, and an apply (plan + apply) with it changed again.
    Each change writes a value not seen before, so the file is read cold every time."""
    tool.write(n - 1)
    out = {"validate (cold)": measure(tool.validate, ws),
           "validate (warm)": measure(tool.validate, ws),
           "first apply": measure(tool.apply, ws)}
    noop, plans, applies = [], [], []
    for r in range(rounds):
        noop.append(measure(tool.plan, ws))
        tool.write(-2 * r - 1)
        plans.append(measure(tool.plan, ws, expect=(2,)))
        tool.write(-2 * r - 2)
        applies.append(measure(tool.apply, ws))
    out["no-op plan"] = median(noop)
    out["plan, one leaf changed"] = median(plans)
    out["apply, one leaf changed"] = median(applies)
    return out


def median(samples: list[Sample]) -> Sample:
    """The median time; the largest peak RSS."""
    return Sample(statistics.median(s.seconds for s in samples), max(s.rss_mb for s in samples))


def state_settings(backend: str, server: object) -> str:
    if backend == "sqlite":
        return ""
    url = server.url()  # type: ignore[attr-defined]
    return f"state: {{backend: postgresql, url: '{url}', workspace: bench-{uuid.uuid4().hex[:8]}}}\n"


def compare(title: str, by_backend: dict[str, dict[str, Sample]]) -> None:
    (base, first), (other, second) = list(by_backend.items())[:2]
    print(f"\n{title}: {other} against {base} (medians)")
    print(f"  {'operation':<24} {base:>10} {other:>11} {'ratio':>7}")
    for name, s in first.items():
        t = second[name]
        print(f"  {name:<24} {s.seconds:>9.2f}s {t.seconds:>10.2f}s {t.seconds / s.seconds:>6.2f}x")


def report(title: str, ours: dict[str, Sample], theirs: dict[str, Sample] | None) -> None:
    print(f"\n{title}")
    head = f"  {'operation':<24} {'taskform':>10} {'RSS':>8}"
    if theirs:
        head += f" {'terraform':>11} {'RSS':>8} {'faster':>8}"
    print(head)
    for name, s in ours.items():
        line = f"  {name:<24} {s.seconds:>9.3f}s {s.rss_mb:>6.0f}MB"
        if theirs:
            t = theirs[name]
            line += f" {t.seconds:>10.3f}s {t.rss_mb:>6.0f}MB {t.seconds / s.seconds:>7.1f}x"
        print(line)
    peak = max(s.rss_mb for s in ours.values())
    print(f"  peak RSS of any taskform command: {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--shapes", default=",".join(SHAPES))
    parser.add_argument("--rounds", type=int, default=3, help="repeats of the plan and apply "
                        "figures (medians are printed)")
    parser.add_argument("--grading", default="10x500", help="criteria x solutions of the "
                        "grading-scale shape (needs Docker), or `none`")
    parser.add_argument("--no-terraform", action="store_true")
    parser.add_argument("--state", default="sqlite",
                        help="state backends to measure, comma-separated: sqlite, postgresql")
    args = parser.parse_args()
    # measured as installed: from bytecode (pip compiles a regular install; scripts/setup.sh
    # compiles the editable one), not compiling every module in every command
    compileall.compile_dir(REPO / "runner", quiet=1)
    backends = args.state.split(",")
    server = None
    if "postgresql" in backends:
        from postgres_server import start_server
        server = start_server("taskform-bench-pg-", durable=True)  # fsync on, as in production
    try:
        measure_all(args, backends, server)
    finally:
        if server is not None:
            server.stop()


def measure_all(args: argparse.Namespace, backends: list[str], server: object) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    use_terraform = not args.no_terraform and shutil.which("terraform") is not None
    helps = [measure(taskform("--help"), REPO) for _ in range(args.rounds)]
    print(f"taskform --help: {median(helps).seconds:.3f}s, {median(helps).rss_mb:.0f} MB")
    if not use_terraform:
        print("terraform: not compared (not on PATH, or --no-terraform)")
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        root = Path(tmp)
        for n in sizes:
            for shape in args.shapes.split(","):
                by_backend = {backend: run(*taskform_tool(shape, n, root, state_settings(
                    backend, server)), n, args.rounds) for backend in backends}
                theirs = run(*terraform_tool(shape, n, root), n, args.rounds) \
                    if use_terraform else None
                for backend, ours in by_backend.items():
                    state = "" if backends == ["sqlite"] else f", state: {backend}"
                    report(f"N = {n}, {shape} shape{state}", ours, theirs)
                if len(by_backend) > 1:
                    compare(f"N = {n}, {shape} shape", by_backend)
        if args.grading != "none":
            from grading_scale import report as grading_report
            from grading_scale import run_grading

            criteria, solutions = (int(x) for x in args.grading.split("x"))
            grading_report(criteria, solutions,
                           run_grading(criteria, solutions, root, args.rounds))


if __name__ == "__main__":
    main()
