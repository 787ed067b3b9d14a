"""The evidence harness a grading installs in its sandbox (read-only to the grading user, on
the command's PATH): one stand-in script for `python3`, `python`, `pytest`, `py.test`, `go`
and `node` that makes a test run write machine-readable results into $TASKFORM_RESULTS and
runs anything else unchanged; taskform's unittest runner and pytest plugin; and this
grading's canary, a test that must fail with its nonce in the message.

The tar holds the stand-ins' links (`bin/<program>`, one per name in `STAND_INS`); the grading
script writes in `real/` where each program is on the grading user's PATH and removes the links
of programs it did not find. A command that names a program by its full path
(`/usr/bin/python3`) bypasses them (`commands.py` then finds no runner in it)."""

from __future__ import annotations

import functools
import io
import secrets
import tarfile
from dataclasses import dataclass
from pathlib import Path

HARNESS_FILES = Path(__file__).with_name("harness")
STAND_INS = ("python3", "python", "pytest", "py.test", "go", "node")  # what the shim stands in for
SHIM = r'''#!/bin/bash
# taskform's stand-in for python3, python, pytest, py.test, go and node: a known test run
# writes its results into $TASKFORM_RESULTS (with taskform's canary); anything else runs the
# real program unchanged.
name=${0##*/} h=$TASKFORM_HARNESS
read -r real < "$h/real/$name" || { echo "taskform: no $name to run" >&2; exit 127; }
results() { mktemp "$TASKFORM_RESULTS/$1-$$-XXXXXXXX.$2"; }
pytest_run() {  # the interpreter, its own options, --, then pytest's arguments
  local py=$1 opts=(); shift
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done; shift
  PYTHONSAFEPATH=1 PYTHONPATH="$h/py${PYTHONPATH:+:$PYTHONPATH}" PYTEST_ADDOPTS= PYTEST_PLUGINS= \
    exec "$py" "${opts[@]}" -m pytest -p taskform_evidence -p no:cacheprovider -c /dev/null \
      -o addopts= -o junit_family=xunit1 --rootdir="$TASKFORM_ROOTDIR" \
      --junitxml="$(results pytest xml)" "$@" ${TASKFORM_CANARY_PYTEST:+"$TASKFORM_CANARY_PYTEST"}
}
case $name in
  python*)
    opts=()
    while [ $# -gt 0 ] && [[ $1 == -?* ]] && [ "$1" != -m ] && [ "$1" != -c ]; do
      case $1 in -W|-X) opts+=("$1" "${2-}"); shift 2 ;; *) opts+=("$1"); shift ;; esac
    done
    if [ "${1-}" = -m ] && [ "${2-}" = unittest ]; then
      shift 2; exec "$real" "${opts[@]}" "$h/py/taskform_unittest.py" "$@"
    elif [ "${1-}" = -m ] && [ "${2-}" = pytest ]; then
      shift 2; pytest_run "$real" "${opts[@]}" -- "$@"
    fi
    exec "$real" "${opts[@]}" "$@" ;;
  pytest|py.test)
    read -r first < "$real"; read -r -a words <<< "${first#\#!}"
    py=${words[0]-}
    if [[ "$py" == */env ]] || [ ! -x "$py" ]; then read -r py < "$h/real/python3"; fi
    pytest_run "$py" -- "$@" ;;
  go)
    if [ "${1-}" = test ]; then
      shift; out=$(results go json); set -o pipefail
      "$real" test -json "$@" | tee "$out"; exit "${PIPESTATUS[0]}"
    fi ;;
  node)
    for arg in "$@"; do
      if [ "$arg" = --test ]; then
        exec "$real" --test-reporter=spec --test-reporter-destination=stdout \
          --test-reporter=junit --test-reporter-destination="$(results node xml)" "$@"
      fi
    done ;;
esac
exec "$real" "$@"
'''


@dataclass(frozen=True)
class Canary:
    """A test that must fail, carrying a nonce: results in which it passed, is missing, or
    failed without the nonce were not written by an untouched test framework."""

    nonce: str

    @property
    def name(self) -> str:
        return f"taskform_canary_{self.nonce[:12]}"

    def unittest_source(self) -> str:
        return ("import unittest\n\n\nclass TaskformCanary(unittest.TestCase):\n"
                "    def test_canary(self):\n"
                f"        self.assertEqual('taskform canary', '{self.nonce}')\n")

    def pytest_source(self) -> str:
        # named after the canary: pytest's node id of a file outside its rootdir keeps only
        # the function's name
        return (f"def test_{self.name}():\n"
                f"    assert 'taskform canary' == '{self.nonce}'\n")


def new_canary() -> Canary:
    return Canary(secrets.token_hex(16))


@functools.lru_cache(maxsize=4)
def _source(module: str) -> bytes:
    return (HARNESS_FILES / module).read_bytes()


def harness_tar(canary: Canary | None) -> bytes:
    """The harness as a tar the grading script unpacks (modes kept, owner its own): files
    readable by all and written by none but root, so nothing needs changing once unpacked."""
    files: dict[str, tuple[bytes, int]] = {"bin/taskform-shim": (SHIM.encode(), 0o755)}
    for module in ("taskform_unittest.py", "taskform_evidence.py"):
        files[f"py/{module}"] = (_source(module), 0o644)
    if canary is not None:
        files[f"canary/{canary.name}.py"] = (canary.unittest_source().encode(), 0o644)
        files[f"canary/test_{canary.name}.py"] = (canary.pytest_source().encode(), 0o644)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as archive:
        for folder in ("bin", "py", "canary", "real"):
            info = tarfile.TarInfo(folder)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            archive.addfile(info)
        for path, (data, mode) in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
        for name in STAND_INS:
            info = tarfile.TarInfo(f"bin/{name}")
            info.type, info.linkname, info.mode = tarfile.SYMTYPE, "taskform-shim", 0o777
            archive.addfile(info)
    return buffer.getvalue()
