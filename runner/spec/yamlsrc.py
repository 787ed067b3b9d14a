"""YAML documents with the file, line and column of every value.

Parsing uses libyaml when present. The spec loader keeps what unchanged files parse to in
`parsecache` (as authenticated JSON: never anything that constructs objects when read).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor

from runner.errors import SpecIssue

Path_ = tuple[str | int, ...]
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
LOADER = f"{_Loader.__name__} of PyYAML {yaml.__version__}"  # what decides how text parses
_MERGE_TAG = "tag:yaml.org,2002:merge"


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


def format_path(path: Path_) -> str:
    """`spec.steps.build.docker_build.files[0]` style."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Converter:
    def __init__(self, doc: SourceDoc):
        self.doc = doc
        self.constructor = SafeConstructor()
        self.issues: list[SpecIssue] = []

    def convert(self, node: yaml.Node, path: Path_) -> Any:
        self.doc.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        if any(k.tag == _MERGE_TAG for k, _ in node.value):
            self.constructor.flatten_mapping(node)
        out: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                self.issues.append(self.doc.issue(path, "mapping keys must be plain strings"))
                continue
            key = str(key_node.value)
            if key in out:
                line = key_node.start_mark.line + 1
                self.issues.append(SpecIssue(
                    self.doc.file, line, key_node.start_mark.column + 1, format_path(path + (key,)),
                    f"duplicate key {key!r} (first defined at line {first_line[key]})"))
                continue
            first_line[key] = key_node.start_mark.line + 1
            mark = key_node.start_mark
            self.doc.key_positions[path + (key,)] = (mark.line + 1, mark.column + 1)
            out[key] = self.convert(value_node, path + (key,))
        return out

    def _scalar(self, node: yaml.Node) -> Any:
        if node.tag == "tag:yaml.org,2002:str":
            return node.value
        build = self.constructor.yaml_constructors.get(node.tag)
        if build is None:
            return node.value
        value = build(self.constructor, node)
        if isinstance(value, (datetime.date, datetime.datetime)):
            return value.isoformat()
        return value


def parse_text(text: str, file: str) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """Parse every document of one YAML text."""
    docs: list[SourceDoc] = []
    issues: list[SpecIssue] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        reason = " ".join(p for p in (exc.context, exc.problem) if p)
        return [], [SpecIssue(file, line, col, "", f"invalid YAML: {reason}")]
    except yaml.YAMLError as exc:
        return [], [SpecIssue(file, 1, 1, "", f"invalid YAML: {exc}")]
    for index, node in enumerate(nodes):
        if node is None:
            continue
        doc = SourceDoc(file=file, index=index, value=None)
        conv = _Converter(doc)
        doc.value = conv.convert(node, ())
        issues.extend(conv.issues)
        docs.append(doc)
    return docs, issues


def parse_file(path: Path, display: str) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """Parse every document of one YAML file."""
    return parse_bytes(path.read_bytes(), display)


def parse_bytes(data: bytes, display: str) -> tuple[list[SourceDoc], list[SpecIssue]]:
    """Parse every document of one YAML file's content, which must be UTF-8."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], [SpecIssue(display, 1, 1, "", f"not UTF-8 text: {exc}")]
    return parse_text(text, display)
