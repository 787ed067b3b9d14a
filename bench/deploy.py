"""Deployments over SSH: N deployments over 3 real sshd droplets (first apply, no-op plan and
apply, one file changed), against the seed's way (one deployment after another: connect, send
every file, run); and in the same run, bench/grading.py's 48 cells graded on one engine (a pool
of 4 on the local engine) against two (the same pool spread over the local engine and a second
dockerd reached through a droplet's SSH sessions, as tests/engine_fixtures.py starts it).

`python3 bench/deploy.py [--deployments 20] [--files 12] [--repeat 1]` (needs openssh-server,
docker.io and root: the droplets are sshd processes on 127.0.0.2-4, as in the tests). On one
machine both engines share its CPUs: the two-engine figure is the cost of the SSH hop, the
image send and the second daemon, not a speed-up."""

from __future__ import annotations

import argparse
import base64
import io
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, taskform

sys.path.insert(0, str(REPO / "tests"))

RUN = "#!/bin/sh\nset -e\necho started > started.txt\n"
KILL = "#!/bin/sh\nrm -f started.txt\n"


def workspace(root: Path, fleet: object, n: int, files: int, remote: Path) -> Path:
    ws = root / "ws"
    (ws / "specs").mkdir(parents=True)
    (ws / "keys").mkdir()
    (ws / "keys" / "id").write_text(fleet.key_text)  # type: ignore[attr-defined]
    (ws / "taskform.yaml").write_text("parallelism: 10\n")
    docs = []
    for i, sshd in enumerate(fleet.droplets):  # type: ignore[attr-defined]
        docs.append(f"apiVersion: taskform/v1\nkind: Droplet\nmetadata: {{name: lab-{i + 1}, "
                    f"labels: {{region: lab}}}}\nspec:\n  address: {sshd.address}\n"
                    f"  port: {sshd.port}\n  ssh_key: {{path: keys/id}}\n"
                    f'  host_key: "{sshd.host_key}"\n  capacity: {n}\n'
                    f"  remote_dir: {remote}/lab-{i + 1}\n  docker: false\n")
    for d in range(n):
        app = ws / "apps" / f"app-{d:02d}"
        app.mkdir(parents=True)
        (app / "run.sh").write_text(RUN)
        (app / "kill.sh").write_text(KILL)
        for f in range(files - 2):
            (app / f"module_{f:02d}.py").write_text(f"# module {f}\n" + "x = 1\n" * 200)
        docs.append(f"apiVersion: taskform/v1\nkind: Deployment\nmetadata: {{name: app-{d:02d}}}"
                    f"\nspec:\n  source: {{dir: apps/app-{d:02d}}}\n  pool: {{labels: "
                    "{region: lab}}\n  health: {command: 'test -f started.txt'}\n")
    (ws / "specs" / "bench.yaml").write_text("---\n".join(docs))
    return ws


def seed_way(fleet: object, ws: Path, remote: Path, n: int) -> float:
    """One deployment after another, as the seed deploys: connect, send every file, run.sh."""
    import paramiko

    started = time.perf_counter()
    droplets = fleet.droplets  # type: ignore[attr-defined]
    for d in range(n):
        sshd = droplets[d % len(droplets)]
        client = paramiko.SSHClient()
        kind, data = sshd.host_key.split()
        client.get_host_keys().add(f"[{sshd.address}]:{sshd.port}", kind,
                                   paramiko.PKey.from_type_string(kind, base64.b64decode(data)))
        client.connect(sshd.address, sshd.port, "root", look_for_keys=False, allow_agent=False,
                       pkey=paramiko.Ed25519Key.from_private_key(io.StringIO(
                           fleet.key_text)))  # type: ignore[attr-defined]
        target = f"{remote}/seed/app-{d:02d}"
        client.exec_command(f"mkdir -p {target}")[1].channel.recv_exit_status()
        sftp = client.open_sftp()
        for path in sorted((ws / "apps" / f"app-{d:02d}").iterdir()):
            sftp.put(str(path), f"{target}/{path.name}")
        sftp.close()
        client.exec_command(f"cd {target} && sh run.sh")[1].channel.recv_exit_status()
        client.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--files", type=int, default=12, help="files per deployment")
    parser.add_argument("--repeat", type=int, default=1,
                        help="grading rounds (one engine, then two); figures are medians")
    args = parser.parse_args()
    from droplet_fixtures import sshd_available, start_fleet

    reason = sshd_available()
    if reason:
        sys.exit(f"cannot run: {reason}")
    n = args.deployments
    with tempfile.TemporaryDirectory(prefix="taskform-bench-deploy-") as tmp:
        root = Path(tmp)
        remote = Path(f"/tmp/tf-bench-deploy-{os.getpid()}")
        fleet = start_fleet(root / "fleet")
        try:
            ws = workspace(root, fleet, n, args.files, remote)
            first = taskform(ws, "apply", "-auto-approve")
            plan = taskform(ws, "plan")
            plan_fast = taskform(ws, "plan", "-refresh=false")
            noop = taskform(ws, "apply", "-auto-approve")
            changed = ws / "apps" / "app-07" / "module_03.py"
            changed.write_text(changed.read_text() + "y = 2\n")
            one = taskform(ws, "apply", "-auto-approve")
            sent = uploads(ws)
            destroy = taskform(ws, "destroy", "-auto-approve")
            seed = seed_way(fleet, ws, remote, n)
        finally:
            for sshd in fleet.droplets:
                sshd.stop()
            shutil.rmtree(remote, ignore_errors=True)
    files = n * args.files
    print(f"{n} deployments x {args.files} files ({files} files) over 3 sshd droplets, "
          "parallelism 10")
    rows = [("first apply (lease, send all, run, health)", first),
            ("no-op plan (refresh: lease, folder, health)", plan),
            ("no-op plan -refresh=false", plan_fast),
            ("no-op apply", noop),
            ("apply, one file of one deployment changed", one),
            ("destroy (reset, remove, give slots back)", destroy),
            ("seed's way: connect, send all, run, in turn", seed)]
    for label, seconds in rows:
        print(f"  {label:<46} {seconds:7.2f}s  ({seconds / n * 1000:6.0f} ms/deployment)")
    print(f"  files sent by the one-file change: {sent}")
    grading_engines(args.repeat)


def uploads(ws: Path) -> str:
    sys.path.insert(0, str(REPO))
    from runner.state import open_state
    from runner.workspace import open_workspace

    state = open_state(open_workspace(ws))
    try:
        sent = {a: r.outputs.get("uploaded") for a, r in state.records().items()
                if r.kind == "deployment_replica" and r.outputs.get("uploaded")
                and r.run_id == max(x.run_id for x in state.records().values())}
    finally:
        state.close()
    return ", ".join(f"{a}: {v}" for a, v in sorted(sent.items())) or "none"


def grading_engines(repeat: int) -> None:
    """bench/grading.py's 48 cells (12 criteria x 4 solutions, fresh sandboxes, parallelism 8)
    on a pool of 4 on the local engine, then spread over the local engine and a second one."""
    import statistics

    from droplet_fixtures import start_fleet
    from engine_fixtures import SecondEngine, engine_unavailable
    from grading import gradings, make_task, spec

    reason = engine_unavailable()
    if reason:
        sys.exit(f"cannot run the grading part: {reason}")
    second = SecondEngine()
    with tempfile.TemporaryDirectory(prefix="taskform-bench-engines-") as tmp:
        ws = Path(tmp) / "ws"
        (ws / "specs").mkdir(parents=True)
        (ws / "taskform.yaml").write_text("parallelism: 8\n")
        make_task(ws, 12, 4)
        try:
            second.start()
            fleet = start_fleet(Path(tmp) / "fleet", count=1,
                                extra=f"SetEnv DOCKER_HOST={second.url}\n")
            sshd = fleet[0]
            (ws / "id").write_text(fleet.key_text)
            droplet = (f"apiVersion: taskform/v1\nkind: Droplet\nmetadata: {{name: lab-1}}\n"
                       f"spec:\n  address: {sshd.address}\n  port: {sshd.port}\n"
                       f'  ssh_key: {{path: id}}\n  host_key: "{sshd.host_key}"\n'
                       f"  remote_dir: {tmp}/remote\n---\n")

            def write(timeout: int, engines: bool) -> None:
                text = spec(timeout)
                if engines:
                    text = text.replace("pool_size: 4\n",
                                        "pool_size: 4\n        engines: [local, lab-1]\n")
                (ws / "specs" / "bench.yaml").write_text(droplet + text)

            walls: dict[str, list[float]] = {"one": [], "two": []}
            spread: list[int] = []
            try:
                for n in range(repeat):
                    for k, key in enumerate(("one", "two")):
                        write(60, key == "two")  # the pool (and the image sent) first, untimed
                        taskform(ws, "apply", "-auto-approve", "-target", "pipeline.bench.pool")
                        write(61 + 2 * n + k, key == "two")  # a new timeout regrades every cell
                        walls[key].append(taskform(ws, "apply", "-auto-approve"))
                        graded = gradings(ws)
                        if key == "two":
                            spread.append(sum(1 for g in graded if g.get("engine") == "lab-1"))
                        assert len(graded) == 48, len(graded)
            finally:
                taskform(ws, "destroy", "-auto-approve")
                sshd.stop()
        finally:
            second.remove()
    one, two = statistics.median(walls["one"]), statistics.median(walls["two"])
    print(f"grading 48 cells (12 criteria x 4 solutions, fresh sandboxes, pool of 4, "
          f"parallelism 8), median of {repeat}:")
    print(f"  one engine (local)                              {one:7.2f}s")
    print(f"  two engines (local + a second dockerd over SSH) {two:7.2f}s  "
          f"({two / one:.2f}x; {statistics.median(spread):.0f} of 48 graded on the second)")


if __name__ == "__main__":
    main()
