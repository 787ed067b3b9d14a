"""`TASK_DATA.md`: one `### <label>: <id>` section per criterion, carrying `**Score**:`,
`**Required**:`, `**Criterion**:` (may span paragraphs) and `**Held-out tests**:` followed by a
fenced command. A section that cannot be parsed is an error at its line, never dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from runner.errors import RubricError, RubricIssue
from runner.rubric.model import Criterion, Rubric

_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_HEADER = re.compile(r"^(?P<label>[^:]+?)\s*:\s*(?P<id>.*?)$")
_NUMBERED = re.compile(r"^#?\s*(\d+)$")
_FIELD = re.compile(r"^\s*(?:[-*+]\s+)?\*\*(?P<label>[^*]+?)(?::\*\*|\*\*\s*:)\s*(?P<rest>.*)$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_INLINE_CODE = re.compile(r"^(`+)\s*(.*?)\s*\1$")
_BOOLS = {"true": True, "yes": True, "false": False, "no": False}
_FIELDS = {"score": "score", "required": "required", "criterion": "criterion",
           "heldouttests": "command", "heldouttest": "command"}
_LABELS = {"score": "**Score**", "required": "**Required**", "criterion": "**Criterion**",
           "command": "**Held-out tests**"}
EXPECTED_HEADER = "expected a header like '### #1: <id>' or '### crit-01: <id>'"


@dataclass
class _Line:
    number: int
    text: str
    fenced: bool  # inside (or opening/closing) a fenced block: never a heading or a label


@dataclass
class _Section:
    header: _Line
    body: list[_Line] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return _HEADING.match(self.header.text).group(2) or ""  # type: ignore[union-attr]

    @property
    def where(self) -> str:
        return f'section "{self.header.text.strip()}"'


def parse_markdown(text: str, file: str) -> Rubric:
    """Parse `TASK_DATA.md` text; raise RubricError listing every problem of the file."""
    issues: list[RubricIssue] = []
    criteria: list[Criterion] = []
    sections = [s for s in _sections(_lines(text)) if _is_criterion(s)]
    for position, section in enumerate(sections, start=1):
        criterion = _criterion(section, position, file, issues)
        if criterion is not None:
            criteria.append(criterion)
    if not sections:
        issues.append(RubricIssue(file, 1, f"no rubric sections found: {EXPECTED_HEADER}, "
                                           "each with **Score**: and **Held-out tests**:"))
    issues.extend(_duplicates(sections, file))
    if issues:
        raise RubricError(file, issues)
    return Rubric(source=file, criteria=tuple(criteria))


def _lines(text: str) -> list[_Line]:
    """Number the lines and mark those inside fenced blocks (CommonMark's fence rules)."""
    out: list[_Line] = []
    opening: re.Match[str] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        match = _FENCE.match(line)
        out.append(_Line(number, line, fenced=bool(opening or match)))
        if opening is None:
            opening = match
        elif _closes(match, opening):
            opening = None
    return out


def _sections(lines: list[_Line]) -> list[_Section]:
    """`###` headings open a section; `#` and `##` headings close it (preamble, other parts)."""
    sections: list[_Section] = []
    current: _Section | None = None
    for line in lines:
        heading = None if line.fenced else _HEADING.match(line.text)
        if heading and len(heading.group(1)) <= 3:
            current = _Section(line) if len(heading.group(1)) == 3 else None
            if current is not None:
                sections.append(current)
        elif current is not None:
            current.body.append(line)
    return sections


def _is_criterion(section: _Section) -> bool:
    """Numbered headers always are; others only when they carry a rubric label (prose is not)."""
    header = _HEADER.match(section.heading)
    if header and _NUMBERED.match(header.group("label")):
        return True
    return any(_field_name(line) for line in section.body)


def _field_name(line: _Line) -> str | None:
    match = None if line.fenced else _FIELD.match(line.text)
    if match is None:
        return None
    return _FIELDS.get(re.sub(r"[^a-z]", "", match.group("label").lower()), "")


def _criterion(section: _Section, position: int, file: str,
               issues: list[RubricIssue]) -> Criterion | None:
    before = len(issues)
    identity = _identity(section, position)
    if identity is None:
        issues.append(RubricIssue(file, section.header.number, f"{section.where}: "
                                  f"{EXPECTED_HEADER}"))
    values, seen = _fields(section, file, issues)
    for name in ("score", "command"):
        if name not in seen:
            issues.append(RubricIssue(file, section.header.number,
                                      f"{section.where}: {_missing(name)}"))
    if len(issues) > before or identity is None:
        return None
    ident, counter, label = identity
    return Criterion(id=ident, counter=counter, score=float(str(values["score"])),
                     required=bool(values.get("required", False)),
                     criterion=str(values.get("criterion", "")), command=str(values["command"]),
                     title=label, line=section.header.number)


def _missing(name: str) -> str:
    if name == "score":
        return "**Score** is missing; expected a line like '**Score**: 10'"
    return ("**Held-out tests** is missing; expected '**Held-out tests**:' followed by a fenced "
            "command block")


def _fields(section: _Section, file: str, issues: list[RubricIssue]
            ) -> tuple[dict[str, object], dict[str, int]]:
    """The known labels of a section (valid values, and where each label was seen); text runs
    from a label to the next one."""
    values: dict[str, object] = {}
    seen: dict[str, int] = {}
    body = section.body
    starts = [i for i, line in enumerate(body) if _field_name(line) is not None]
    for n, start in enumerate(starts):
        name = _field_name(body[start])
        end = starts[n + 1] if n + 1 < len(starts) else len(body)
        if not name:
            continue  # an unknown label (`**Notes**:`) only ends the text before it
        line = body[start]
        where = f"{section.where}: {_LABELS[name]}"
        if name in seen:
            issues.append(RubricIssue(file, line.number, f"{where} is given twice (first at "
                                                         f"line {seen[name]})"))
            continue
        seen[name] = line.number
        rest = _FIELD.match(line.text).group("rest")  # type: ignore[union-attr]
        value = _value(name, rest, body[start + 1:end], line, file, where, issues)
        if value is not None:
            values[name] = value
    return values, seen


def _value(name: str, rest: str, following: list[_Line], line: _Line, file: str, where: str,
           issues: list[RubricIssue]) -> object | None:
    rest = rest.strip()
    if name == "score":
        if _NUMBER.match(rest) and float(rest) >= 0:
            return float(rest)
        got = f"got {rest!r}" if rest else "got nothing"
        issues.append(RubricIssue(file, line.number, f"{where}: expected a number of points "
                                                     f"like 10 or 2.5, {got}"))
        return None
    if name == "required":
        if rest.lower() in _BOOLS:
            return _BOOLS[rest.lower()]
        issues.append(RubricIssue(file, line.number, f"{where}: expected true or false, got "
                                                     f"{rest!r}"))
        return None
    if name == "criterion":
        text = "\n".join([rest, *(x.text for x in following)]).strip()
        return re.sub(r"\n\s*\n(\s*\n)+", "\n\n", text)
    return _command(rest, following, line, file, where, issues)


def _command(rest: str, following: list[_Line], line: _Line, file: str, where: str,
             issues: list[RubricIssue]) -> str | None:
    """A fenced block after the label (or inline code on the label's line)."""
    inline = _INLINE_CODE.match(rest)
    if rest:
        return inline.group(2) if inline else rest
    blocks = [x for x in following if x.text.strip()]
    opening = blocks[0] if blocks else None
    fence = _FENCE.match(opening.text) if opening else None
    if opening is None or fence is None:
        found = f", found {opening.text.strip()!r} at line {opening.number}" if opening else ""
        issues.append(RubricIssue(file, line.number, f"{where}: expected a fenced command block "
                                                     f"(```) after the label{found}"))
        return None
    start = following.index(opening) + 1
    inside: list[str] = []
    for x in following[start:]:
        close = _FENCE.match(x.text)
        if close and _closes(close, fence):
            command = "\n".join(inside).strip("\n")
            if command.strip():
                return command
            issues.append(RubricIssue(file, opening.number, f"{where}: the command block is "
                                                            "empty"))
            return None
        inside.append(x.text)
    issues.append(RubricIssue(file, opening.number, f"{where}: the command block opened here "
                                                    "is never closed"))
    return None


def _closes(line: re.Match[str] | None, opening: re.Match[str] | None) -> bool:
    """A closing fence: the opening's character, at least as long, nothing after it."""
    if line is None or opening is None:
        return False
    mark, start = line.group(1), opening.group(1)
    return mark[0] == start[0] and len(mark) >= len(start) and not line.group(2).strip()


def _unquote(text: str) -> str:
    text = text.strip()
    inline = _INLINE_CODE.match(text)
    return inline.group(2) if inline else text


def _identity(section: _Section, position: int) -> tuple[str, int, str] | None:
    """(id, counter, label) from a section's header, when it has the expected shape; the
    counter is the `#<n>` number, else the section's position."""
    header = _HEADER.match(section.heading)
    if header is None or not _unquote(header.group("id")):
        return None
    label = header.group("label").strip()
    numbered = _NUMBERED.match(label)
    return _unquote(header.group("id")), int(numbered.group(1)) if numbered else position, label


def _duplicates(sections: list[_Section], file: str) -> list[RubricIssue]:
    issues: list[RubricIssue] = []
    ids: dict[str, int] = {}
    counters: dict[int, int] = {}
    for position, section in enumerate(sections, start=1):
        identity = _identity(section, position)
        if identity is None:
            continue
        ident, counter, _ = identity
        line = section.header.number
        if ident in ids:
            issues.append(RubricIssue(file, line, f"{section.where}: criterion id {ident!r} is "
                                                  f"already used at line {ids[ident]}"))
        if counter in counters:
            issues.append(RubricIssue(file, line, f"{section.where}: criterion number {counter} "
                                                  f"is already used at line {counters[counter]}"))
        ids.setdefault(ident, line)
        counters.setdefault(counter, line)
    return issues
