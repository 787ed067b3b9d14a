"""The template provider's rubric review of a submission (tasks graded by review): explicit
rules a reader can check, and which filler does not pass. Every criterion first needs a
deliverable of substance: each section filled, not placeholder or repeated words, and about
this scenario (it shares its vocabulary). Criteria with a rule of their own (by id) add it:
`sections-filled`, `names-technologies`, `measurable-targets`, `addresses-scenario`."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from runner.content.keys import canonical_name

MIN_SECTION_WORDS = 40
_LOREM = frozenset("lorem ipsum dolor amet consectetur adipiscing elit eiusmod tempor incididunt "
                   "labore dolore magna aliqua".split())
_STOP = frozenset("about above after again against because before being below between could "
                  "during every other should their there these those through under until while "
                  "which would where whose within without".split())
_TARGET = re.compile(r"\d[\d,.]*\s*(?:ms|s\b|sec|seconds?|minutes?|hours?|%|percent|requests?|"
                     r"errors?|events?|messages?|per\b|rps|qps|mb|gb)|"
                     r"(?:under|below|above|at most|at least|within|<|>|≤|≥)\s*\d", re.I)


def submission_review(facts: Mapping[str, Any]) -> dict[str, Any]:
    files: Mapping[str, str] = facts["files"]
    sections = _sections(files)
    scenario = str(facts.get("scenario") or "")
    names = [str(n) for n in facts.get("competency_names") or []]
    base = _baseline(sections, scenario)
    verdicts = []
    for criterion in facts["criteria"]:
        rule = _RULES.get(str(criterion["id"]))
        why = base or (rule(sections, scenario, names) if rule else "")
        verdicts.append({"id": criterion["id"], "pass": not why,
                         "reason": why or "meets the criterion with content specific to the "
                         "scenario"})
    return {"criteria": verdicts}


def _sections(files: Mapping[str, str]) -> dict[str, str]:
    """`## Title` sections of every file (a file without headings is one section)."""
    out: dict[str, str] = {}
    for path, text in files.items():
        parts = re.split(r"^#{2,3}\s+(.+?)\s*$", text, flags=re.M)
        if len(parts) == 1:
            out[path] = text
        for i in range(1, len(parts) - 1, 2):
            out[parts[i]] = parts[i + 1]
    return out


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]+", text.lower())


def _substance(title: str, body: str) -> str:
    words = _words(body)
    if not words or "TODO" in body:
        return f"section {title!r} is empty or still a TODO"
    lorem = sum(1 for w in words if w in _LOREM)
    if lorem >= 3:
        return f"section {title!r} is placeholder text ({lorem} lorem-ipsum words)"
    if len(words) >= 20:
        distinct = len(set(words))
        if distinct / len(words) < 0.35:
            return (f"section {title!r} repeats the same words ({distinct} distinct of "
                    f"{len(words)})")
        word, count = Counter(w for w in words if len(w) > 3).most_common(1)[0] \
            if any(len(w) > 3 for w in words) else ("", 0)
        if count / len(words) > 0.2:
            return f"section {title!r} repeats {word!r} ({count} of {len(words)} words)"
    return ""


def _vocabulary(text: str) -> set[str]:
    return {w for w in _words(text) if len(w) >= 5 and w not in _STOP}


def _baseline(sections: Mapping[str, str], scenario: str) -> str:
    if not sections:
        return "the submission has no deliverable"
    for title, body in sections.items():
        why = _substance(title, body)
        if why:
            return why
    shared = _vocabulary(" ".join(sections.values())) & _vocabulary(scenario)
    if len(shared) < 3:
        return (f"the deliverable could be about any system: it shares {len(shared)} terms "
                "with the scenario")
    return ""


def _filled(sections: Mapping[str, str], scenario: str, names: list[str]) -> str:
    short = [t for t, body in sections.items() if len(_words(body)) < MIN_SECTION_WORDS]
    return f"sections with fewer than {MIN_SECTION_WORDS} words: {', '.join(short)}" \
        if short else ""


def _technologies(sections: Mapping[str, str], scenario: str, names: list[str]) -> str:
    text = canonical_name(" ".join(sections.values()))
    missing = [n for n in names if canonical_name(n) not in text]
    return f"never names {', '.join(missing)}" if missing else ""


def _targets(sections: Mapping[str, str], scenario: str, names: list[str]) -> str:
    verification = " ".join(b for t, b in sections.items()
                            if re.search(r"verif|target|success|measur", t, re.I))
    return "" if _TARGET.search(verification) else \
        "the verification plan states no measurable target (a number with its unit)"


def _scenario(sections: Mapping[str, str], scenario: str, names: list[str]) -> str:
    terms = _vocabulary(scenario)
    vague = [t for t, body in sections.items() if len(_vocabulary(body) & terms) < 2]
    return f"sections that do not address the scenario: {', '.join(vague)}" if vague else ""


_RULES: dict[str, Callable[[Mapping[str, str], str, list[str]], str]] = {
    "sections-filled": _filled, "names-technologies": _technologies,
    "measurable-targets": _targets, "addresses-scenario": _scenario}
