"""YAML documents with the file, line and column of every value.

Parsing uses libyaml when present. The spec loader keeps what unchanged files parse to in
`parsecache` (as authenticated JSON: never anything that constructs objects when read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runner.errors import SpecIssue
from runner.spec.readlimit import MAX_FILE_BYTES as MAX_FILE_BYTES
from runner.spec.readlimit import read_limited as read_limited
from runner.spec.yamlplaces import Path_ as Path_
from runner.spec.yamlplaces import format_path as format_path


@dataclass
class SourceDoc:
    """One YAML document: its plain value and where each value sits (1-based line and column)."""

    file: str
    index: int
    value: Any
    positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    key_positions: dict[Path_, tuple[int, int]] = field(default_factory=dict)

    def position(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """Where `path`'s value starts (or its key, with `key`), else its nearest ancestor's."""
        path = tuple(path)
        if key and path in self.key_positions:
            return self.key_positions[path]
        while True:
            pos = self.positions.get(path)
            if pos is not None:
                return pos
            if not path:
                return (1, 1)
            path = path[:-1]

    def issue(self, path: Path_, message: str, key: bool = False) -> SpecIssue:
        """An issue at `path`; `key` places it on the mapping key rather than its value."""
        line, col = self.position(path, key)
        return SpecIssue(self.file, line, col, format_path(path), message)


@dataclass(frozen=True)
class Measure:
    """What `yamlbuild`'s limits counted in one text: its values, and those aliases and merge
    keys copied."""

    values: int
    copied: int


def parse_text(text: str, file: str) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """Parse every document of one YAML text, within the limits of `yamlbuild`."""
    docs, issues, _ = parse_measured(text, file)
    return docs, issues


def parse_measured(text: str, file: str
                   ) -> tuple[list[SourceDoc], list[SpecIssue], Measure]:
    """`parse_text`, and what the limits counted (`splice` reads one step of a file apart)."""
    import yaml  # where used: a run whose files are all cached parses nothing

    from runner.spec.yamlbuild import Builder

    # `cachestore.yaml_loader` names this choice in every cache entry's name: keep them in step
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    builder = Builder(file)
    parser = loader(text)
    try:
        builder.run(parser)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = " ".join(p for p in (exc.context, exc.problem) if p)
        return [], [SpecIssue(file, line, col, "", f"invalid YAML: {reason}")], Measure(0, 0)
    except yaml.YAMLError as exc:
        return [], [SpecIssue(file, 1, 1, "", f"invalid YAML: {exc}")], Measure(0, 0)
    finally:
        parser.dispose()
    docs = [SourceDoc(file=file, index=b.index, value=b.value, positions=b.positions,
                      key_positions=b.key_positions) for b in builder.docs]
    return docs, builder.issues, Measure(builder.values, builder.copied)


def parse_file(path: Path, display: str) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """Parse every document of one YAML file, refusing one past MAX_FILE_BYTES unread."""
    data, issue = read_limited(path, display)
    return ([], [issue]) if issue else parse_bytes(data, display)


def parse_bytes(data: bytes, display: str) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """Parse every document of one YAML file's content, which must be UTF-8."""
    docs, issues, _ = parse_measured_bytes(data, display)
    return docs, issues


def parse_measured_bytes(data: bytes, display: str
                         ) -> tuple[list[SourceDoc], list[SpecIssue], Measure | None]:
    """`parse_bytes`, and what the limits counted (None for text that is not UTF-8)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [SpecIssue(display, 1, 1, "", f"not UTF-8 text: {exc}")], None
    return parse_measured(text, display)
