"""Benchmark: 40 docker_shell steps over a pool of 4 containers, applied by taskform at
parallelism 1, 4 and 8, against a raw `docker exec` of the same command in the same run.

Prints a table of figures; asserts nothing. Needs a running engine and the base image
(`bash scripts/docker-up.sh`). Usage: python bench/docker_steps.py [--steps 40] [--sleep 0.25]

Figures:
  raw exec        mean wall time of `docker exec <container> sh -c CMD` (the docker CLI),
                  one after another, and of the same exec through the Docker API (SDK)
  apply wall      `taskform apply` as a subprocess: start, load, plan (fingerprint and
                  refresh of all 41 resources), run the 40 steps, commit each, summary
  fixed cost      the same apply when nothing changed (start, load, plan, no steps)
  per-step overhead = (apply wall - fixed cost) / steps - raw exec, at parallelism 1, against
                  the CLI (what a person or a script would run) and against the bare API call
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import BASE_IMAGE, taskform

POOL = 4


def spec(steps: int, command: str, round_no: int) -> str:
    lines = ["apiVersion: taskform/v1", "kind: Pipeline", "metadata: {name: bench}", "spec:",
             "  steps:", "    pool:",
             f"      docker_pool: {{image_tag: {BASE_IMAGE}, pool_size: {POOL}, "
             "parameters: [\"--network none\", \"--init\"]}"]
    for i in range(steps):
        lines += [f"    s{i:02d}:", "      docker_shell:",
                  f"        container: '{{{{ ref(\"pipeline.bench.pool[{i % POOL}]\").container_id }}}}'",
                  f"        command: [{{work: \"{command}  # round {round_no}\"}}]"]
    return "\n".join(lines) + "\n"


def raw_cli(containers: list[str], command: str, steps: int) -> float:
    times = []
    for i in range(steps):
        started = time.perf_counter()
        subprocess.run(["docker", "exec", containers[i % POOL], "sh", "-c", command], check=True,
                       capture_output=True)
        times.append(time.perf_counter() - started)
    return statistics.mean(times)


def raw_sdk(containers: list[str], command: str, steps: int) -> float:
    import docker

    client = docker.from_env()
    times = []
    for i in range(steps):
        started = time.perf_counter()
        code, _ = client.containers.get(containers[i % POOL]).exec_run(["sh", "-c", command])
        assert code == 0
        times.append(time.perf_counter() - started)
    client.close()
    return statistics.mean(times)


def measure(ws: Path, steps: int, command: str, label: str, rounds: list[int]) -> dict[int, float]:
    out = {}
    for parallelism in rounds:
        (ws / "specs" / "bench.yaml").write_text(spec(steps, command, parallelism))
        out[parallelism] = taskform(ws, "apply", "-auto-approve", "-parallelism", str(parallelism))
        print(f"  {label:<10} parallelism {parallelism}: apply {out[parallelism]:.2f}s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--sleep", type=float, default=0.25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        ws = Path(tmp)
        (ws / "taskform.yaml").write_text("parallelism: 8\n")
        (ws / "specs").mkdir()
        (ws / "specs" / "bench.yaml").write_text(spec(args.steps, "true", 0))
        try:
            run(ws, args.steps, args.sleep)
        finally:
            taskform(ws, "destroy", "-auto-approve")


def run(ws: Path, steps: int, sleep: float) -> None:
    print(f"setting up a pool of {POOL} and {steps} docker_shell steps...", flush=True)
    taskform(ws, "apply", "-auto-approve")
    import json
    import sqlite3

    db = sqlite3.connect(ws / ".taskform" / "state.db")
    row = db.execute("SELECT outputs FROM resources WHERE address = 'pipeline.bench.pool'").fetchone()
    db.close()
    containers = [m["container_name"] for m in json.loads(row[0])["members"]]
    fixed = statistics.median(taskform(ws, "apply", "-auto-approve") for _ in range(3))
    quick = measure(ws, steps, "true", "true", [1, 4, 8])
    cli_true, sdk_true = raw_cli(containers, "true", steps), raw_sdk(containers, "true", steps)
    slow_cmd = f"sleep {sleep}"
    slow = measure(ws, steps, slow_cmd, slow_cmd, [1, 4, 8])
    cli_slow, sdk_slow = raw_cli(containers, slow_cmd, steps), raw_sdk(containers, slow_cmd, steps)
    print()
    print(f"{steps} docker_shell steps over a pool of {POOL}; fixed cost of a no-change apply "
          f"(start, load, plan): {fixed:.2f}s")
    print(f"raw docker exec, one after another: CLI {cli_true * 1000:.1f} ms/step, "
          f"API (SDK) {sdk_true * 1000:.1f} ms/step for `true`; CLI {cli_slow * 1000:.1f}, "
          f"API {sdk_slow * 1000:.1f} ms/step for `{slow_cmd}`")
    print()
    print(f"{'command':<12} {'parallelism':>11} {'apply wall':>11} {'steps only':>11} "
          f"{'per step':>9} {'overhead vs CLI':>16} {'vs API':>10} {'speed-up vs 1':>14}")
    for label, table, cli, api in (("true", quick, cli_true, sdk_true),
                                   (slow_cmd, slow, cli_slow, sdk_slow)):
        for parallelism, wall in table.items():
            body = wall - fixed
            per_step = body / steps
            vs_cli = f"{(per_step - cli) * 1000:+.1f} ms" if parallelism == 1 else "-"
            vs_api = f"{(per_step - api) * 1000:+.1f} ms" if parallelism == 1 else "-"
            print(f"{label:<12} {parallelism:>11} {wall:>10.2f}s {body:>10.2f}s "
                  f"{per_step * 1000:>7.1f}ms {vs_cli:>16} {vs_api:>10} "
                  f"{table[1] / wall:>13.2f}x")


if __name__ == "__main__":
    main()
