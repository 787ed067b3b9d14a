"""Quality gates of a generated task. Each gate returns the problems it found; any problem
blocks the task (it is recorded failed with the reasons and never published)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from runner.content.deploy_scripts import deploy_problems
from runner.content.keys import canonical_name
from runner.content.models import Solution, TaskDraft

README_SECTIONS = ("Task Overview", "Objectives", "How to Verify", "Helpful Tips")
_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.M)
_PATH = re.compile(r"^(?:\./)?[\w.-]+(?:/[\w.-]+)*\.(?:py|js|jsx|ts|tsx|java|kt|go|rb|sql|md|"
                   r"json|ya?ml|sh|txt|toml|cfg|ini|html|css|xml|properties|gradle|env)$")
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LEAK_NAMES = re.compile(r"(^|/)(solution|solutions|answers?|golden)(\.[a-z]+)?(/|$)|\.patch$|"
                         r"(^|/)rubrics?\.json$", re.I)


def readme_sections(text: str) -> dict[str, str]:
    """Section title -> body, for every heading of a Markdown text."""
    matches = list(_HEADING.finditer(text))
    out: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        out.setdefault(match.group(2).strip(), text[match.end():end].strip())
    return out


def readme_summary(text: str) -> dict[str, Any]:
    """The seed's `readme_content`: overview text and the bullet lists of the other sections."""
    sections = {k.casefold(): v for k, v in readme_sections(text).items()}

    def bullets(title: str) -> list[str]:
        body = sections.get(title.casefold(), "")
        items = re.split(r"^\s*(?:[-*]|\d+[.)])\s+", body, flags=re.M)
        return [" ".join(i.split()) for i in items if i.strip()]
    return {"task_overview": sections.get("task overview", ""), "objectives": bullets("Objectives"),
            "how_to_verify": bullets("How to Verify"), "helpful_tips": bullets("Helpful Tips")}


def readme_problems(draft: TaskDraft) -> list[str]:
    text = draft.code_files.get("README.md", "")
    found = {k.casefold(): v for k, v in readme_sections(text).items()}
    problems = []
    for title in README_SECTIONS:
        if title.casefold() not in found:
            problems.append(f"README.md has no section {title!r}")
        elif not found[title.casefold()]:
            problems.append(f"README.md section {title!r} is empty")
    return problems


def reference_problems(draft: TaskDraft, solution: Solution) -> list[str]:
    """Files named in the README, question and rubric commands must exist."""
    known = set(draft.code_files) | set(solution.files) | set(solution.tests)
    texts = {"README.md": draft.code_files.get("README.md", ""), "question": draft.question}
    problems = []
    for where, text in texts.items():
        for span in _CODE_SPAN.findall(text):
            for token in span.split():
                if _PATH.match(token) and _normal(token) not in known:
                    problems.append(f"{where} refers to {token}, which is not among the files")
    for criterion in solution.rubric:
        for target in test_targets(criterion.command):
            if target not in solution.tests and target not in draft.code_files:
                problems.append(f"rubric criterion {criterion.id!r} runs {target}, which is "
                                "not among the held-out tests")
    return sorted(set(problems))


def test_targets(command: str) -> list[str]:
    """The test files a grading command names: paths, or `a.b.test_x[.Class.test_y]` modules."""
    out = []
    for token in command.split():
        token = token.split("::")[0]
        if _PATH.match(token):
            out.append(_normal(token))
        elif re.match(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$", token):
            parts = token.split(".")
            for i, part in enumerate(parts):
                # the module is the first test* part followed by nothing or by a TestCase class
                if part.startswith("test") and (i == len(parts) - 1 or parts[i + 1][:1].isupper()):
                    out.append("/".join(parts[: i + 1]) + ".py")
                    break
    return out


def leak_problems(draft: TaskDraft, solution: Solution, golden_patch: str) -> list[str]:
    """The starter must not already hold the solution, its tests or grading material."""
    problems = []
    for path in draft.code_files:
        if path in solution.tests:
            problems.append(f"held-out test {path} is part of the starter")
        elif _LEAK_NAMES.search(path):
            problems.append(f"starter file {path} looks like solution or grading material")
    if not golden_patch.strip():
        problems.append("the solution changes nothing: the starter already contains it")
    answer = " ".join(draft.answer.split())
    if len(answer) >= 80:
        for path, content in draft.code_files.items():
            if answer in " ".join(content.split()):
                problems.append(f"starter file {path} contains the private answer text")
    return problems


def grading_problems(solution: Solution, grading: str = "tests") -> list[str]:
    """Tests-graded: every criterion runs a held-out test. Review-graded: nothing pretends to
    be a test (a word count is passed by filler)."""
    problems = []
    ids = [c.id for c in solution.rubric]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"rubric criterion ids are not unique: {', '.join(duplicates)}")
    if not any(c.required for c in solution.rubric):
        problems.append("no rubric criterion is required: a solution could fail them all and pass")
    if grading == "review":
        if solution.tests or any(c.command for c in solution.rubric):
            problems.append("the task is graded by review, yet it has held-out tests or test "
                            "commands; a review-graded task has none")
        return problems
    if not solution.tests:
        problems.append("there are no held-out tests")
    problems += [f"rubric criterion {c.id!r} has no test command" for c in solution.rubric
                 if not c.command.strip()]
    return problems


def mentions(text: str, names: list[str]) -> list[str]:
    """The names that do not occur in `text` (compared case- and spacing-insensitively)."""
    haystack = canonical_name(text)
    return [n for n in names if canonical_name(n) not in haystack]


def all_problems(draft: TaskDraft, solution: Solution, golden_patch: str, *,
                 grading: str = "tests", deploy: str = "none") -> dict[str, list[str]]:
    """The static gates, by name (the review gate, and the rubric review of a review-graded
    task, ask a provider and run separately)."""
    return {"readme": readme_problems(draft),
            "references": reference_problems(draft, solution),
            "leaks": leak_problems(draft, solution, golden_patch),
            "grading": grading_problems(solution, grading),
            "deploy": deploy_problems(draft.code_files, deploy)}


def _normal(path: str) -> str:
    return path.removeprefix("./")


def files_summary(files: Mapping[str, str]) -> dict[str, int]:
    return {"files": len(files), "bytes": sum(len(v.encode()) for v in files.values())}
