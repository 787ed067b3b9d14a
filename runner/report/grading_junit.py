"""Grading results as JUnit XML (`taskform report --format junit`), so CI systems show them
natively: one `<testsuite>` per rubric step, one `<testcase>` per criterion × solution
(classname `<step address>.<solution>`, name `#<n> <criterion id>: <its text>`).

PASS is a passed test case, FAIL and TIMEOUT a `<failure>` (its type says which), ERROR an
`<error>`, a grading not made `<skipped>`. The original is expected to fail: its FAIL and
TIMEOUT are passed test cases ("fails as expected"), and its PASS a failure (the criterion
catches nothing)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from runner.report.grading import about, failed_test_lines
from runner.rubric.model import format_score
from runner.rubric.results import Cell, CriterionInfo, GradingMatrix
from runner.rubric.score import ORIGINAL
from runner.rubric.status import Status

# characters XML 1.0 cannot hold at all (a test's output may have any byte)
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def render_junit(matrices: Sequence[GradingMatrix]) -> str:
    root = ET.Element("testsuites", name="taskform grading")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for matrix in matrices:
        suite = _suite(matrix)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key) or 0)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(matrix: GradingMatrix) -> ET.Element:
    suite = ET.Element("testsuite", name=matrix.address)
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for criterion in matrix.criteria:
        for solution in matrix.solutions:
            case, kind = _case(matrix.address, criterion, solution,
                               matrix.cell(criterion.id, solution))
            suite.append(case)
            counts["tests"] += 1
            if kind:
                counts[kind] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", f"{matrix.seconds:.3f}")
    return suite


def _case(address: str, criterion: CriterionInfo, solution: str,
          cell: Cell | None) -> tuple[ET.Element, str]:
    name = f"#{criterion.counter} {criterion.id}" if criterion.counter else criterion.id
    text = about(criterion, 120)
    case = ET.Element("testcase", classname=xml_text(f"{address}.{solution}"),
                      name=xml_text(f"{name}: {text}" if text else name),
                      time=f"{cell.seconds:.3f}" if cell else "0")
    properties = ET.SubElement(case, "properties")
    for key, value in (("criterion", criterion.id), ("solution", solution),
                       ("score", format_score(criterion.score)),
                       ("required", "true" if criterion.required else "false"),
                       ("expected", "FAIL" if solution == ORIGINAL else "PASS")):
        ET.SubElement(properties, "property", name=key, value=xml_text(value))
    if cell is None or cell.status is None:
        ET.SubElement(case, "skipped", message=xml_text(cell.reason if cell else "not graded"))
        return case, "skipped"
    kind = _kind(cell.status, solution)
    if kind:
        tag = "error" if kind == "errors" else "failure"
        message = "the original passes: the criterion catches nothing" \
            if solution == ORIGINAL and cell.status is Status.PASS else cell.reason
        detail = ET.SubElement(case, tag, message=xml_text(message), type=str(cell.status))
        detail.text = xml_text("\n".join([*failed_test_lines(cell, ""), cell.reason]))
    if cell.output:
        ET.SubElement(case, "system-out").text = xml_text(cell.output)
    return case, kind


def _kind(status: Status, solution: str) -> str:
    """The counter a cell adds to: "" (passed), failures or errors."""
    if solution == ORIGINAL:  # the unmodified project is meant to fail
        return "failures" if status is Status.PASS else ("errors" if status is Status.ERROR
                                                         else "")
    if status is Status.PASS:
        return ""
    return "errors" if status is Status.ERROR else "failures"
