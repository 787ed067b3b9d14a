"""Plan/apply at scale: N `value` steps in chains of 10 (step i depends on i-1 unless i % 10 == 0).

For each N: validate (cold, then warm: the same files again, so whatever taskform caches is
reused), first apply, no-op plan, plan after changing one leaf, and apply (which plans, then
applies) after changing that leaf again; wall time and peak RSS of each command. Each change
edits the spec file, so both of those parse it cold. When `terraform` is on PATH the same shape runs
with `terraform_data` resources in the same run, and the ratios are printed.

    python3 bench/plan_scale.py                    # N = 100, 1000, 5000
    python3 bench/plan_scale.py --sizes 1000 --no-terraform
    python3 bench/plan_scale.py --sizes 5000 --state sqlite,postgresql --runs 5 --no-terraform

`--state postgresql` keeps the state in a PostgreSQL server the benchmark starts itself (as the
tests do: tests/postgres_server.py) and stops at the end; with two backends the ratios of
their medians are printed. `--runs K` repeats every measurement K times and reports medians.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
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


def spec_text(n: int, leaf_value: int) -> str:
    lines = ["apiVersion: taskform/v1", "kind: Pipeline", "metadata: {name: bench}", "spec:",
             "  steps:"]
    for i in range(n):
        value = leaf_value if i == n - 1 else i
        lines.append(f"    s{i}:")
        lines.append(f"      value: {{input: {value}}}")
        if i % 10:
            lines.append(f"      depends_on: [s{i - 1}]")
    return "\n".join(lines) + "\n"


def terraform_text(n: int, leaf_value: int) -> str:
    out = []
    for i in range(n):
        value = leaf_value if i == n - 1 else i
        dep = f"\n  depends_on = [terraform_data.s{i - 1}]" if i % 10 else ""
        out.append(f'resource "terraform_data" "s{i}" {{\n  input = {value}{dep}\n}}\n')
    return "\n".join(out)


def run_taskform(n: int, root: Path, state_yaml: str = "") -> dict[str, Sample]:
    ws = root / f"taskform-{n}-{uuid.uuid4().hex[:8]}"
    (ws / "specs").mkdir(parents=True)
    (ws / "taskform.yaml").write_text(state_yaml)
    spec = ws / "specs" / "bench.yaml"
    spec.write_text(spec_text(n, n - 1))
    out = {"validate (cold)": measure(taskform("validate"), ws),
           "validate (warm)": measure(taskform("validate"), ws),
           "first apply": measure(taskform("apply", "-auto-approve"), ws),
           "no-op plan": measure(taskform("plan", "-detailed-exitcode"), ws)}
    spec.write_text(spec_text(n, -1))
    out["plan, one leaf changed"] = measure(taskform("plan", "-detailed-exitcode"), ws,
                                            expect=(2,))
    spec.write_text(spec_text(n, -2))
    out["apply, one leaf changed"] = measure(taskform("apply", "-auto-approve"), ws)
    return out


def run_terraform(n: int, root: Path) -> dict[str, Sample]:
    ws = root / f"terraform-{n}"
    ws.mkdir()
    main = ws / "main.tf"
    main.write_text(terraform_text(n, n - 1))
    measure(["terraform", "init", "-input=false"], ws)
    out = {"validate (cold)": measure(["terraform", "validate"], ws),
           "validate (warm)": measure(["terraform", "validate"], ws),
           "first apply": measure(["terraform", "apply", "-auto-approve", "-input=false"], ws),
           "no-op plan": measure(["terraform", "plan", "-input=false", "-detailed-exitcode"], ws)}
    main.write_text(terraform_text(n, -1))
    out["plan, one leaf changed"] = measure(["terraform", "plan", "-input=false",
                                             "-detailed-exitcode"], ws, expect=(2,))
    main.write_text(terraform_text(n, -2))
    out["apply, one leaf changed"] = measure(["terraform", "apply", "-auto-approve",
                                              "-input=false"], ws)
    return out


def median(samples: list[dict[str, Sample]]) -> dict[str, Sample]:
    """Per operation: the median wall time and the largest peak RSS of the runs."""
    return {name: Sample(statistics.median(s[name].seconds for s in samples),
                         max(s[name].rss_mb for s in samples)) for name in samples[0]}


def state_settings(backend: str, server: object) -> str:
    if backend == "sqlite":
        return ""
    url = server.url()  # type: ignore[attr-defined]
    return f"state: {{backend: postgresql, url: '{url}', workspace: bench-{uuid.uuid4().hex[:8]}}}\n"


def compare(n: int, by_backend: dict[str, dict[str, Sample]]) -> None:
    (base, first), (other, second) = list(by_backend.items())[:2]
    print(f"\nN = {n}: {other} against {base} (medians)")
    print(f"  {'operation':<24} {base:>10} {other:>11} {'ratio':>7}")
    for name, s in first.items():
        t = second[name]
        print(f"  {name:<24} {s.seconds:>9.2f}s {t.seconds:>10.2f}s {t.seconds / s.seconds:>6.2f}x")


def report(n: int, ours: dict[str, Sample], theirs: dict[str, Sample] | None,
           label: str = "") -> None:
    print(f"\nN = {n}{label}")
    head = f"  {'operation':<24} {'taskform':>10} {'RSS':>8}"
    if theirs:
        head += f" {'terraform':>11} {'RSS':>8} {'faster':>8}"
    print(head)
    for name, s in ours.items():
        line = f"  {name:<24} {s.seconds:>9.2f}s {s.rss_mb:>6.0f}MB"
        if theirs:
            t = theirs[name]
            line += f" {t.seconds:>10.2f}s {t.rss_mb:>6.0f}MB {t.seconds / s.seconds:>7.1f}x"
        print(line)
    peak = max(s.rss_mb for s in ours.values())
    print(f"  peak RSS of any taskform command: {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--no-terraform", action="store_true")
    parser.add_argument("--state", default="sqlite",
                        help="state backends to measure, comma-separated: sqlite, postgresql")
    parser.add_argument("--runs", type=int, default=1, help="repeat each measurement; medians")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.state.split(",")
    server = None
    if "postgresql" in backends:
        from postgres_server import start_server

        server = start_server("taskform-bench-pg-", durable=True)  # fsync on, as in production
    try:
        measure_all(sizes, backends, args.runs, server, not args.no_terraform)
    finally:
        if server is not None:
            server.stop()


def measure_all(sizes: list[int], backends: list[str], runs: int, server: object,
                terraform_wanted: bool) -> None:
    use_terraform = terraform_wanted and shutil.which("terraform") is not None
    help_time = measure(taskform("--help"), REPO)
    print(f"taskform --help: {help_time.seconds:.3f}s, {help_time.rss_mb:.0f} MB")
    if not use_terraform:
        print("terraform: not compared (not on PATH, or --no-terraform)")
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        for n in sizes:
            # the backends take turns, so a busy spell of the machine hits both alike
            samples: dict[str, list[dict[str, Sample]]] = {b: [] for b in backends}
            for _ in range(runs):
                for backend in backends:
                    samples[backend].append(run_taskform(n, Path(tmp),
                                                         state_settings(backend, server)))
            by_backend = {backend: median(s) for backend, s in samples.items()}
            theirs = run_terraform(n, Path(tmp)) if use_terraform else None
            for backend, ours in by_backend.items():
                label = f" (state: {backend}" + (f", medians of {runs} runs)" if runs > 1 else ")")
                report(n, ours, theirs, label)
            if len(by_backend) > 1:
                compare(n, by_backend)


if __name__ == "__main__":
    main()
