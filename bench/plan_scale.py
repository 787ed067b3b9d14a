"""Plan/apply at scale: N `value` steps in chains of 10 (step i depends on i-1 unless i % 10 == 0).

For each N: validate (cold, then warm: the same files again, so whatever taskform caches is
reused), first apply, no-op plan, plan after changing one leaf, and apply (which plans, then
applies) after changing that leaf again; wall time and peak RSS of each command. Each change
edits the spec file, so both of those parse it cold. When `terraform` is on PATH the same shape runs
with `terraform_data` resources in the same run, and the ratios are printed.

    python3 bench/plan_scale.py                    # N = 100, 1000, 5000
    python3 bench/plan_scale.py --sizes 1000 --no-terraform
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
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


def run_taskform(n: int, root: Path) -> dict[str, Sample]:
    ws = root / f"taskform-{n}"
    (ws / "specs").mkdir(parents=True)
    (ws / "taskform.yaml").write_text("")
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


def report(n: int, ours: dict[str, Sample], theirs: dict[str, Sample] | None) -> None:
    print(f"\nN = {n}")
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
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    use_terraform = not args.no_terraform and shutil.which("terraform") is not None
    help_time = measure(taskform("--help"), REPO)
    print(f"taskform --help: {help_time.seconds:.3f}s, {help_time.rss_mb:.0f} MB")
    if not use_terraform:
        print("terraform: not compared (not on PATH, or --no-terraform)")
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        for n in sizes:
            ours = run_taskform(n, Path(tmp))
            theirs = run_terraform(n, Path(tmp)) if use_terraform else None
            report(n, ours, theirs)


if __name__ == "__main__":
    main()
