"""JUnit XML, as pytest (`--junitxml`), taskform's unittest runner, `node --test
--test-reporter=junit`, Maven, Gradle and most other runners write it: one result per
`<testcase>`. The file comes from inside the sandbox, so it is parsed as hostile input: no
DTD (entity expansion), a size the grading script already capped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from runner.rubric.evidence.model import Outcome, TestResult

MESSAGE_LIMIT = 2000  # characters of a failure kept per test


class ResultsError(ValueError):
    """A results file that cannot be read as its format."""


def parse_junit(data: bytes, suite: str = "") -> list[TestResult]:
    """Every `<testcase>` in the file, in order."""
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise ResultsError("it declares a DTD, which results never need")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ResultsError(f"not JUnit XML ({exc})") from None
    return [_case(case, suite) for case in root.iter("testcase")]


def _case(case: ET.Element, suite: str) -> TestResult:
    classname, name = case.get("classname") or "", case.get("name") or ""
    props = {p.get("name"): p.get("value") for p in case.iter("property")}
    test_id = props.get("nodeid") or (f"{classname}.{name}" if classname else name)
    outcome, message = Outcome.PASSED, ""
    for tag, found in (("failure", Outcome.FAILED), ("error", Outcome.ERROR),
                       ("skipped", Outcome.SKIPPED)):
        element = case.find(tag)
        if element is not None:
            outcome = found
            message = _message(element)
            break
    try:
        seconds = float(case.get("time") or 0)
    except ValueError:
        seconds = 0.0
    return TestResult(str(test_id), outcome, message, seconds, suite)


def _message(element: ET.Element) -> str:
    head = element.get("message") or ""
    body = (element.text or "").strip()
    text = head if not body else body if head and head in body else f"{head}\n{body}".strip()
    return cap(text)


def cap(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """At most `limit` characters: the start and the end, which say the most."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - limit} characters cut ...]\n{text[-half:]}"
