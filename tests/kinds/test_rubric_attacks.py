"""A hostile candidate, on the real engine: every attack is a real solution patch graded in the
default mode (a fresh sandbox per grading), and none of them comes out PASS. The candidate
knows how taskform grades and its code runs in the test process (`import calc`).

Classes: ending the process early with exit 0 (at import, inside a test, from a thread),
changing the test framework from the candidate's own module, forging results, shadowing by
added files (modules, empty packages, bytecode, .pth files, binary patches), leaving things
behind for the next grading (files in every writable place, System V and POSIX IPC objects,
processes), fork bombs (with and without setsid, ignoring signals), output floods, memory
exhaustion and network access. After the suite no container, volume or process of it is
left."""

from __future__ import annotations

import py_compile
import tempfile
from pathlib import Path

import pytest
from grading_workspace import FIXED, PROJECT, cell, processes, statuses, write_spec, write_task

from tests.rubric.grading_kit import git, make_repo

pytestmark = pytest.mark.docker

ADD = "python3 -m unittest tests.test_hidden.Add"
TIMEOUT = 4
HONEST = "def add(a, b):\n    return a + b\n"


def patch(files: dict[str, bytes | str | None]) -> str:
    """The patch real git makes (binary included) for `files` against the project."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "r", PROJECT)
        for rel, content in files.items():
            path = repo / rel
            if content is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
        git(repo, "add", "-A")
        return git(repo, "diff", "--cached", "--binary")


def calc(prelude: str) -> dict[str, bytes | str | None]:
    """calc.py with `prelude` run at import (the held-out tests import it), and add() wrong."""
    return {"calc.py": prelude + "\n\ndef add(a, b):\n    return a - b\n"}


def passing_bytecode() -> bytes:
    """A compiled tests/test_hidden.py whose test passes, checked against no source."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "test_hidden.py"
        source.write_text("import unittest\n\n\nclass Add(unittest.TestCase):\n"
                          "    def test_add(self):\n        pass\n")
        out = Path(tmp) / "out.pyc"
        py_compile.compile(str(source), str(out),
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        return out.read_bytes()


TAG = "cpython-311"  # the grading image's python3 (Debian bookworm)
BOMB = ("import os, signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "while True:\n    try:\n        if os.fork() == 0:\n            {child}\n"
        "    except OSError:\n        time.sleep(0.001)")
FORGED = ('import os\nd = os.environ.get("TASKFORM_RESULTS", "/tmp")\n'
          'open(os.path.join(d, "unittest-1-forged.xml"), "w").write(\n'
          '    \'<testsuite><testcase classname="tests.test_hidden.Add" name="test_add"/>\'\n'
          '    \'</testsuite>\')\nos._exit(0)')

# (solution, files, status, reason): the reason exactly, or its start when it ends with "…"
ATTACKS = [
    ("exit-at-import", calc("import os\nos._exit(0)"), "FAIL",
     "no test results: the process ended before the tests ran (exit code 0)"),
    ("sys-exit-at-import", calc("import sys\nsys.exit(0)"), "FAIL",
     "no test results: the process ended before the tests ran (exit code 0)"),
    ("exit-inside-the-test", {"calc.py": "import os\n\n\ndef add(a, b):\n    os._exit(0)\n"},
     "FAIL", "no test results: the process ended before the tests ran (exit code 0)"),
    ("exit-from-a-thread", calc("import os, threading, time\n"
                                "threading.Thread(target=lambda: os._exit(0)).start()\n"
                                "time.sleep(1)"), "FAIL",
     "no test results: the process ended before the tests ran (exit code 0)"),
    ("patched-testcase-run", calc(
        "import unittest\n\n\ndef run(self, result=None):\n    result.startTest(self)\n"
        "    result.addSuccess(self)\n    result.stopTest(self)\n    return result\n\n\n"
        "unittest.TestCase.run = run"), "ERROR",
     "test framework tampered with: the canary test passed"),
    ("neutered-assertions", calc("import unittest\nunittest.TestCase.assertEqual = "
                                 "lambda self, *a, **k: None"), "ERROR",
     "test framework tampered with: the canary test passed"),
    ("forged-results", calc(FORGED), "ERROR",
     "test framework tampered with: the canary test is missing from unittest-1-forged.xml"),
    ("shadowing-module", {"unittest.py": "raise SystemExit(0)\n", **FIXED}, "ERROR",
     "solution adds a module named like the test framework, which the work dir would shadow: "
     "unittest.py"),
    ("empty-package", {"unittest/__init__.py": "", **FIXED}, "ERROR",
     "solution adds a module named like the test framework, which the work dir would shadow: "
     "unittest/__init__.py"),
    ("held-out-shadow", {"tests/test_hidden/__init__.py": "", **FIXED}, "ERROR",
     "solution adds a module that shadows a held-out test module: tests/test_hidden/__init__.py "
     "(tests.test_hidden)"),
    ("bytecode", {f"tests/__pycache__/test_hidden.{TAG}.pyc": passing_bytecode(), **FIXED},
     "ERROR", "solution adds compiled bytecode (Python would load it instead of the source): "
              f"tests/__pycache__/test_hidden.{TAG}.pyc"),
    ("path-configuration", {"calc_setup.pth": "import os; os._exit(0)\n", **FIXED}, "ERROR",
     "solution modifies test-harness files: calc_setup.pth (protected: conftest.py, "
     "sitecustomize.py, usercustomize.py, *.pth, pytest.ini)"),
    ("binary-patch", {"calc.py": b"\x7fELF\x02\x01\x01\x00" + HONEST.encode()}, "ERROR",
     "solution adds binary content: calc.py"),
    ("fork-bomb", calc(BOMB.format(child="continue")), "TIMEOUT", "timed out after 4s…"),
    ("fork-bomb-setsid", calc(BOMB.format(child="os.setsid()")), "TIMEOUT",
     "timed out after 4s…"),
    ("output-flood", calc("import os\nfor _ in range(1000):\n    os.write(1, b'x' * 65536)"),
     "FAIL", "1 of 1 tests failed: tests.test_hidden.Add.test_add (AssertionError: -1 != 5)"),
    ("memory", calc("hog = bytearray(1024 ** 3)"), "FAIL",
     "no test results: the process ended before the tests ran (exit code 137)"),
    ("network", calc("import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), 2)\n"
                     "except OSError as exc:\n    print('network:', exc)"), "FAIL",
     "1 of 1 tests failed: tests.test_hidden.Add.test_add (AssertionError: -1 != 5)"),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, docker_client):
    """One apply grading every attack (as solution1, solution2, ...) next to golden and
    original, then the check that nothing of it is left."""
    from docker_fixtures import DockerWorkspace, clean

    from tests.conftest import Workspace

    base = tmp_path_factory.mktemp("attacks")
    ws = Workspace(base / "ws")
    ws.write("taskform.yaml", "")
    dws = DockerWorkspace(ws, docker_client)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("XDG_CACHE_HOME", str(base / "xdg-cache"))  # never the developer's
        try:
            write_task(dws, [("add", ADD, 1, True)],
                       {f"solution{n}": patch(files) for n, (_, files, _, _) in
                        enumerate(ATTACKS, 1)})
            write_spec(dws, pool_size=2, extra=f"timeout_seconds: {TIMEOUT}")
            result = dws.cli("apply", "-auto-approve")
            assert result.exit_code == 0, "\n".join(
                line for line in result.output.splitlines() if "FAILED" in line)[-4000:]
            yield dws
            left(dws)
        finally:
            clean(docker_client, dws)


def left(dws) -> None:
    """Nothing of the gradings is left: no sandbox, no volume, no process in the members."""
    members = {m["container_name"] for m in dws.outputs("pipeline.g.pool")["members"]}
    assert {c.name for c in dws.labelled("containers")} == members
    assert dws.labelled("volumes") == []
    assert processes(dws) == {name: [] for name in members}


@pytest.mark.parametrize(("solution", "status", "reason"),
                         [(f"solution{n}", a[2], a[3]) for n, a in enumerate(ATTACKS, 1)],
                         ids=[a[0] for a in ATTACKS])
def test_no_attack_passes(graded, solution, status, reason):
    found = cell(graded, "add", solution)
    assert found["status"] == status, (found["reason"], found["output"][-2000:])
    if reason.endswith("…"):
        assert found["reason"].startswith(reason[:-1])
    else:
        assert found["reason"] == reason


def test_the_honest_columns_are_right_beside_them(graded):
    found = statuses(graded)
    assert (found[("add", "golden")], found[("add", "original")]) == ("PASS", "FAIL")


@pytest.mark.parametrize("solution", [f"solution{n}" for n, a in enumerate(ATTACKS, 1)
                                      if a[0].startswith("fork-bomb")])
def test_a_fork_bomb_ends_within_a_second_of_its_deadline(graded, solution):
    found = cell(graded, "add", solution)
    assert found["seconds"] <= TIMEOUT + 1, found["reason"]


def test_an_output_flood_is_cut_to_the_limit(graded):
    n = [a[0] for a in ATTACKS].index("output-flood") + 1
    found = cell(graded, "add", f"solution{n}")
    assert found["output_truncated"] is True
    assert found["output_bytes"] > 1000 * 65536  # 64 MiB counted, 1 MiB kept
    assert len(found["output"].encode()) < 1024 * 1024 + 4096


def test_the_network_is_unreachable(graded):
    n = [a[0] for a in ATTACKS].index("network") + 1
    assert "network: [Errno 101] Network is unreachable" in cell(graded, "add",
                                                                  f"solution{n}")["output"]


PLANT = ("echo x > /tmp/left; echo x > /var/tmp/left; echo x > /run/lock/left; "
         "echo x > /dev/shm/left; echo x > /app/left; "
         "ipcmk -M 4096 > /dev/null; ipcmk -Q > /dev/null; ipcmk -S 1 > /dev/null; "
         "python3 -c \"import ctypes, os; ctypes.CDLL(None).mq_open(b'/left', "
         "os.O_CREAT | os.O_RDWR, 0o600, None)\"; "
         "setsid sleep 300 < /dev/null > /dev/null 2>&1 & "
         "ls -A /tmp /var/tmp /run/lock /dev/shm /dev/mqueue; ipcs -m -q -s | grep -c '^0x'; "
         "exit 1")
# the grading user's processes running `sleep` (what PLANT left behind), counted from /proc
SLEEPERS = ("python3 -c \"import os; print(sum(open(f'/proc/{p}/cmdline', 'rb').read()"
            ".startswith(b'sleep') and os.stat(f'/proc/{p}').st_uid != 0 for p in "
            "os.listdir('/proc') if p.isdigit()), 'sleeping')\"")
LOOK = ("ls -A /var/tmp /run/lock /dev/shm /dev/mqueue; ls -A /app | grep -x left; "
        f"ipcs -m -q -s | grep -c '^0x'; {SLEEPERS}; exit 1")


def test_what_a_grading_leaves_is_invisible_to_the_next_one(dws):
    write_task(dws, [("plant", PLANT, 1, False)], {})
    write_spec(dws, pool_size=1, extra="original: false")
    dws.apply()
    planted = cell(dws, "plant", "golden")["output"]
    assert "left" in planted and "/dev/mqueue:\nleft\n" in planted and "\n3\n" in planted
    write_task(dws, [("plant", PLANT, 1, False), ("look", LOOK, 1, False)], {})
    dws.apply()
    assert cell(dws, "look", "golden")["output"] == (
        "/dev/mqueue:\n\n/dev/shm:\n\n/run/lock:\n\n/var/tmp:\n0\n0 sleeping\n")
    left(dws)


def test_reuse_mode_is_not_tamper_resistant_as_documented(dws):
    # isolation: reuse resets the repository and sweeps the user's processes and temp files,
    # but IPC objects and other writable places outlive the grading that made them
    write_task(dws, [("plant", PLANT, 1, False)], {})
    write_spec(dws, pool_size=1, extra="original: false\nisolation: reuse")
    dws.apply()
    write_task(dws, [("plant", PLANT, 1, False), ("look", LOOK, 1, False)], {})
    dws.apply()
    # swept: the user's processes, /var/tmp and /dev/shm, the repository; left: a POSIX
    # message queue, a file in /run/lock and three System V objects
    assert cell(dws, "look", "golden")["output"] == (
        "/dev/mqueue:\nleft\n\n/dev/shm:\n\n/run/lock:\nleft\n\n/var/tmp:\n3\n0 sleeping\n")
