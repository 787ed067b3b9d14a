"""Classifying one grading, capping its output, and the cache key."""

from __future__ import annotations

import pytest

from runner.rubric.cache import cache_key
from runner.rubric.status import Markers, Status, cap_output, classify

TASKSYNC = Markers(pass_marker="#__PASS__#", fail_marker="#__FAIL__#",
                   timeout_marker="#__TIMEOUT__#")

CASES = [
    # (name, exit code, output, timed out, elapsed, markers, status, reason)
    ("exit 0 passes", 0, "ok", False, 1.0, Markers(), "PASS", "exit code 0"),
    ("exit 1 fails", 1, "boom", False, 1.0, Markers(), "FAIL", "exit code 1"),
    ("unset markers never match", 1, "#__PASS__#", False, 1.0, Markers(), "FAIL", "exit code 1"),
    ("empty markers never match", 0, "anything", False, 1.0,
     Markers(pass_marker="", fail_marker=""), "PASS", "exit code 0"),
    ("host watchdog", None, "", True, 50.0, Markers(), "TIMEOUT",
     "timed out after 45s; its processes were killed"),
    ("timeout's 124", 124, "", False, 45.1, Markers(), "TIMEOUT",
     "timed out after 45s (exit code 124)"),
    ("137 at the deadline is timeout -k's SIGKILL", 137, "", False, 47.0, Markers(), "TIMEOUT",
     "timed out after 45s (killed by SIGKILL)"),
    ("143 at the deadline", 143, "", False, 45.0, Markers(), "TIMEOUT",
     "timed out after 45s (killed by SIGTERM)"),
    ("137 before the deadline is a crash (OOM), not a timeout", 137, "", False, 3.0, Markers(),
     "FAIL", "killed by SIGKILL before the deadline (exit code 137)"),
    ("no exit code at all", None, "", False, 0.0, Markers(), "ERROR",
     "the command did not report an exit code"),
    ("pass marker and exit 0", 0, "x #__PASS__#\n", False, 1.0, TASKSYNC, "PASS",
     "last marker #__PASS__#; exit code 0"),
    ("pass marker but a non-zero exit is never a pass", 1, "#__PASS__#", False, 1.0, TASKSYNC,
     "FAIL", "printed the pass marker #__PASS__# but exit code 1"),
    ("the last marker wins: fail after pass", 0, "#__PASS__# ... #__FAIL__#", False, 1.0,
     TASKSYNC, "FAIL", "last marker #__FAIL__#; exit code 0"),
    ("the last marker wins: pass after fail", 0, "#__FAIL__# ... #__PASS__#", False, 1.0,
     TASKSYNC, "PASS", "last marker #__PASS__#; exit code 0"),
    ("timeout marker", 0, "#__TIMEOUT__# 12s", False, 1.0, TASKSYNC, "TIMEOUT",
     "last marker #__TIMEOUT__#; exit code 0"),
    ("a configured pass marker missing from a clean exit is a fail", 0, "done", False, 1.0,
     TASKSYNC, "FAIL", "exit code 0, but the pass marker #__PASS__# was not printed"),
    ("only a fail marker configured: exit code decides otherwise", 0, "done", False, 1.0,
     Markers(fail_marker="FAILED"), "PASS", "exit code 0"),
    ("overlapping markers: the one ending last, the longer on a tie", 0, "test: NOT OK", False,
     1.0, Markers(pass_marker="OK", fail_marker="NOT OK"), "FAIL", "last marker NOT OK; exit code 0"),
]


@pytest.mark.parametrize("exit_code,output,timed_out,elapsed,markers,status,reason",
                         [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_classify(exit_code, output, timed_out, elapsed, markers, status, reason):
    got = classify(exit_code, output, timed_out=timed_out, elapsed=elapsed, timeout=45,
                   markers=markers)
    assert (got.status, got.reason) == (Status(status), reason)


def test_output_under_the_limit_is_kept_whole():
    capped = cap_output("héllo\n", 100)
    assert (capped.text, capped.truncated, capped.total_bytes) == ("héllo\n", False, 7)


def test_output_over_the_limit_keeps_head_and_tail_with_a_note():
    data = b"".join(f"{i:04d}\n".encode() for i in range(1000))  # 5000 bytes
    capped = cap_output(data, 100)
    assert capped.truncated and capped.total_bytes == 5000
    assert capped.text == ("0000\n0001\n0002\n0003\n0004\n"
                           "\n[... taskform: 4900 bytes of output cut (limit 100 bytes) ...]\n"
                           + "".join(f"{i:04d}\n" for i in range(985, 1000)))


def test_capping_never_splits_a_character_into_garbage():
    capped = cap_output("é" * 100, 11)  # 200 bytes, 2 per character; keeps 2 + 9 bytes
    head, _, rest = capped.text.partition("\n[")
    assert head == "é"
    assert rest.rpartition("]\n")[2] == "éééé"  # the half character at the cut is dropped


KEY = dict(image_id="sha256:abc", patch="diff a", tests_patch="diff t", command="make test",
           timeout=45.0)


def test_cache_key_is_stable_and_changes_with_each_component():
    assert cache_key(**KEY) == cache_key(**{**KEY, "timeout": 45})
    changed = [{"image_id": "sha256:def"}, {"patch": "diff b"}, {"patch": None},
               {"tests_patch": "diff u"}, {"command": "make check"}, {"timeout": 46.0}]
    keys = {cache_key(**{**KEY, **change}) for change in changed}
    assert len(keys) == len(changed) and cache_key(**KEY) not in keys
    assert cache_key(**KEY, setup=("pip install .",)) != cache_key(**KEY)
    assert cache_key(**KEY, markers=TASKSYNC) != cache_key(**KEY)
