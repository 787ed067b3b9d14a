"""Instructions a taskform command runs, counted by valgrind: a measure this shared VM does not
move.

Wall time here drifts by 25-40 % within an hour at load 0 on our side (the host's neighbours),
which hides a 5 % change. `valgrind --tool=cachegrind --cache-sim=no` counts every instruction
the process runs, the same from run to run within 0.1 % (a run takes ~20× its wall time). The
peer is taskform at another git revision (`--against REV`), checked out in a temporary
worktree; each tree runs on its own copy of the workspace (a workspace's spec cache and memos
are keyed by the code that wrote them), never on the workspace itself.

    python3 bench/instructions.py --workspace /var/tmp/graded --against 49f59f3 -- plan
    python3 bench/instructions.py --workspace specs-dir --rounds 1 -- plan -refresh=false

Each tree's command runs once unmeasured first (a new code digest refills the spec cache), then
`--rounds` times under valgrind; the median count is printed, with the ratio to the peer. A plan
reuses memos keyed by the code that wrote them (a recorded expansion's, say): with `--settle
apply` the unmeasured run is `apply -auto-approve` instead, which renews them, so each tree
plans from its own (on a workspace in sync it changes nothing else; it does act on the copy's
real resources otherwise). Needs `valgrind` (Debian's package).
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COUNT = re.compile(r"I\s+refs:\s+([\d,]+)")


def run(tree: Path, workspace: Path, command: list[str], counted: bool) -> int | None:
    """Run `taskform COMMAND` from `tree` in `workspace`; its instruction count if `counted`."""
    env = {**os.environ, "PYTHONPATH": str(tree), "NO_COLOR": "1"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    argv = [sys.executable, "-m", "runner", *command]
    if counted:
        argv = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
                "--cachegrind-out-file=/dev/null", *argv]
    proc = subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 2):  # 2: `plan -detailed-exitcode` with changes
        raise SystemExit(f"{' '.join(command)} in {workspace} (code of {tree}) exited "
                         f"{proc.returncode}:\n{proc.stderr[-2000:]}")
    if not counted:
        return None
    found = COUNT.search(proc.stderr)
    if found is None:
        raise SystemExit(f"valgrind printed no instruction count:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))


def measure(tree: Path, workspace: Path, command: list[str], rounds: int,
            settle: list[str]) -> int:
    compileall.compile_dir(str(tree / "runner"), quiet=1)  # imports read bytecode, as installed
    run(tree, workspace, settle or command, counted=False)
    return int(statistics.median(run(tree, workspace, command, counted=True) or 0
                                 for _ in range(rounds)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, required=True,
                        help="a workspace to copy (its state and caches come along)")
    parser.add_argument("--against", metavar="REV", help="a git revision to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--settle", choices=("command", "apply"), default="command",
                        help="the unmeasured first run: the command, or `apply -auto-approve`")
    parser.add_argument("command", nargs=argparse.REMAINDER,
                        help="the taskform command, after `--` (default: plan)")
    args = parser.parse_args()
    command = [a for a in args.command if a != "--"] or ["plan"]
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    if not (args.workspace / "taskform.yaml").is_file():
        raise SystemExit(f"{args.workspace} has no taskform.yaml")
    with tempfile.TemporaryDirectory(prefix="taskform-instructions-") as tmp:
        trees = [("this tree", REPO)]
        if args.against:
            peer = Path(tmp) / "peer"
            subprocess.run(["git", "-C", str(REPO), "worktree", "add", "--detach", "--quiet",
                            str(peer), args.against], check=True)
            trees.append((args.against, peer))
        try:
            counts = []
            for i, (name, tree) in enumerate(trees):
                copy = Path(tmp) / f"workspace-{i}"
                shutil.copytree(args.workspace, copy, symlinks=True)
                settle = ["apply", "-auto-approve"] if args.settle == "apply" else []
                counts.append((name, measure(tree, copy, command, args.rounds, settle)))
        finally:
            if args.against:
                subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force",
                                str(Path(tmp) / "peer")], check=False)
    print(f"taskform {' '.join(command)} in {args.workspace}, median of {args.rounds}")
    for name, count in counts:
        print(f"  {name:<20} {count / 1e9:8.3f} G instructions")
    if len(counts) == 2:
        print(f"  ratio                {counts[0][1] / counts[1][1]:8.3f}")


if __name__ == "__main__":
    main()
