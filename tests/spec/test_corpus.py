"""The malformed-workspace corpus (tests/spec/corpus.py): every case fails `validate` and
`plan` with exit code 1 and an error naming its file (and field), never a traceback.

The whole corpus runs each case as two real processes under a memory limit, reading their peak
memory; it is slow (CI runs it). The fast lane runs a sample of it in-process.
bench/spec_corpus.py prints the figures (counts, time and memory)."""

from __future__ import annotations

import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # corpus.py lives beside this file

from corpus import Case, cases, run  # noqa: E402

from runner.spec.budget import RENDER_MEMORY_MB  # noqa: E402

CASES = cases()
SAMPLE = CASES[::9]
PEAK_MB = 200


def test_the_corpus_is_large_and_covers_every_kind():
    from runner.kinds.registry import DOCUMENTS, STEP_TYPES

    names = {case.name.split(":")[0] for case in CASES}
    assert len(CASES) >= 400
    assert set(STEP_TYPES) | set(DOCUMENTS) <= names


def test_the_corpus_starts_from_a_valid_workspace(tmp_path, ws):
    """Each case breaks one thing of a workspace that is valid without it."""
    from corpus import DOCUMENT_SPECS, STEPS, document, pipeline

    for i, step in enumerate(STEPS):
        ws.write(f"specs/step{i}.yaml", pipeline(step, STEPS[step]).replace("name: x", f"name: p{i}"))
    for kind, spec in DOCUMENT_SPECS.items():
        ws.write(f"specs/{kind}.yaml", document(kind, spec, name=f"{kind.lower()}-x"))
    Case("valid").write(ws.root)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (0, "Valid: 23 documents, 25 resources in 22 "
                                                    "files.\n")


def problems(case: Case, code: int, output: str) -> list[str]:
    """What is wrong with how taskform answered `case` (nothing, when all is well)."""
    found = []
    lines = output.splitlines()
    if code != 1:
        found.append(f"exit code {code}")
    if "Traceback" in output or "internal error" in output:
        found.append("a traceback or an internal error")
    if not lines or not re.fullmatch(r"Error: \d+ errors? in the specs:", lines[0]):
        found.append(f"not a spec error: {lines[:1]}")
    named = [line for line in lines[1:] if re.match(rf"  {re.escape(case.file)}:\d+:\d+: ", line)]
    if not named:
        found.append(f"no error names {case.file} with a line and column")
    elif case.path and not any(_names_path(line, case.path) for line in named):
        found.append(f"no error names {case.path}")
    return found


def _names_path(line: str, path: str) -> bool:
    rest = line.split(": ", 1)[1]
    return rest.startswith(path) and rest[len(path):len(path) + 1] in (".", "[", ":")


@pytest.mark.parametrize("case", SAMPLE, ids=[c.name for c in SAMPLE])
def test_a_sample_of_the_corpus_in_process(tmp_path, case):
    from click.testing import CliRunner

    from runner.cli import cli

    case.write(tmp_path / "ws")
    answers = {}
    for verb in ("validate", "plan"):
        result = CliRunner().invoke(cli, ["-C", str(tmp_path / "ws"), verb],
                                    env={"NO_COLOR": "1"}, catch_exceptions=False)
        assert problems(case, result.exit_code, result.output) == [], result.output
        answers[verb] = result.output
    assert answers["plan"] == answers["validate"]


@pytest.mark.slow
def test_every_case_of_the_corpus_as_a_real_process(tmp_path):
    """Each validate and plan of each case: exit 1, its file:line, no traceback, and a peak
    memory under 200 MB (a process over its memory limit fails with a MemoryError)."""
    def check(index: int) -> list[str]:
        case = CASES[index]
        root = tmp_path / f"case{index}" / "ws"
        case.write(root)
        found, stderr = [], {}
        for verb in ("validate", "plan"):
            outcome = run(root, verb)
            found += [f"{verb}: {p}" for p in problems(case, outcome.code, outcome.stderr)]
            if outcome.rss_mb > PEAK_MB:
                found.append(f"{verb}: peak memory {outcome.rss_mb:.0f} MB")
            stderr[verb] = outcome.stderr
        if stderr["plan"] != stderr["validate"]:
            found.append("plan and validate disagree")
        return [f"{case.name}: {p}\n    {stderr['validate'][:300]!r}" for p in found]

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        failures = [f for found in pool.map(check, range(len(CASES))) for f in found]
    assert failures == [], f"{len(failures)} problems:\n" + "\n".join(failures[:40])


def test_the_render_memory_limit_is_below_the_corpus_limit():
    assert RENDER_MEMORY_MB < PEAK_MB  # a template may grow memory by this much, at most
