"""Convert Utkrushta's input files (competencies JSON, background JSON, scenarios JSON keyed like
`Java (BASIC), Kafka (BASIC)`) into taskform spec YAML: Competency and Background documents, a
ScenarioSet with the scenarios stored under the competencies' key, and a Task using them.
Every problem of every file is reported with file:line:column; a missing key is an error."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from runner.content.keys import KeyNotFound, find_scenarios, key_of
from runner.errors import SpecError, SpecIssue, TaskformError
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_text


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the seed's files carry ids and more


class CompetencyIn(_In):
    name: str = Field(min_length=1)
    proficiency: Literal["BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED"]
    description: str = ""
    scope: str = ""
    competency_id: str | None = None
    id: str | None = None
    category: Literal["BACKEND", "FRONTEND", "DATABASE", "MIXED_STACK", "NON_CODE"] | None = None


class CompetencyList(BaseModel):
    items: list[CompetencyIn] = Field(min_length=1)


class Organization(_In):
    organization_background: str = Field(min_length=1)


class BackgroundIn(_In):
    organization: Organization | None = None
    organization_background: str | None = None
    role_context: str = ""
    yoe: str = ""
    questions_prompt: str = ""

    @model_validator(mode="after")
    def _org(self) -> BackgroundIn:
        if not self.organization and not self.organization_background:
            raise ValueError("expected organization.organization_background (or "
                             "organization_background)")
        return self


class ScenarioFile(BaseModel):
    table: dict[str, list[str]]


@dataclass(frozen=True)
class Imported:
    name: str
    text: str
    documents: int
    scenarios: int
    extra: dict[str, str]  # more files to write beside the spec (relative name -> content)


def read_json(path: Path) -> tuple[Any, SourceDoc]:
    """A JSON file with the position of every value; invalid JSON names its line and column."""
    display = str(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TaskformError(f"cannot read {display}: {exc.strerror}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError([SpecIssue(display, exc.lineno, exc.colno, "",
                                   f"invalid JSON: {exc.msg}")]) from None
    docs, issues = parse_text(text, display)  # JSON is YAML: this gives the positions
    doc = docs[0] if docs and not issues else SourceDoc(display, 0, value)
    doc.value = value
    return value, doc


def convert(competencies: Path, background: Path, scenarios: Path | None,
            name: str | None, folder: str = "specs/imported") -> Imported:
    """The spec text (and any file to write beside it, in `folder` of the workspace)."""
    issues: list[SpecIssue] = []
    comps = _competencies(competencies, issues)
    back = _background(background, issues)
    table = _scenarios(scenarios, issues) if scenarios else None
    if issues:
        raise SpecError(issues)
    assert comps is not None and back is not None
    key = key_of([c.model_dump() for c in comps])
    found: list[str] = []
    if table is not None and scenarios is not None:
        try:
            _, found = find_scenarios(table, key, str(scenarios))
        except KeyNotFound as exc:
            raise TaskformError(str(exc)) from None
    base = name or slug("-".join(c.name for c in comps) + "-" + comps[0].proficiency)
    extra: dict[str, str] = {}
    if any(_is_template(s) for s in found):
        # spec strings are Jinja templates: scenarios that look like templates stay in a file
        extra[f"{base}.scenarios.json"] = json.dumps({key: found}, indent=2) + "\n"
    docs = _documents(base, comps, back, found, f"{folder}/{base}.scenarios.json" if extra else None)
    _refuse_templates(docs)
    text = "".join(f"---\n{_dump(d)}" for d in docs)
    sources = ", ".join(str(p) for p in (competencies, background, scenarios) if p)
    header = f"# Imported from Utkrushta files: {sources}\n# Scenario key: {key}\n"
    return Imported(base, header + text, len(docs), len(found), extra)


def _competencies(path: Path, issues: list[SpecIssue]) -> list[CompetencyIn] | None:
    value, doc = read_json(path)
    if not isinstance(value, list):
        issues.append(doc.issue((), "expected a JSON list of competencies"))
        return None
    model, errors = validate(CompetencyList, {"items": value}, _shifted(doc), ())
    issues.extend(_unshift(e) for e in errors)
    return model.items if isinstance(model, CompetencyList) else None


def _background(path: Path, issues: list[SpecIssue]) -> BackgroundIn | None:
    value, doc = read_json(path)
    model, errors = validate(BackgroundIn, value, doc, ())
    issues.extend(errors)
    return model if isinstance(model, BackgroundIn) else None


def _scenarios(path: Path, issues: list[SpecIssue]) -> dict[str, list[str]] | None:
    value, doc = read_json(path)
    if not isinstance(value, dict):
        issues.append(doc.issue((), "expected a JSON object mapping keys like \"Java (BASIC), "
                                "Kafka (BASIC)\" to lists of scenarios"))
        return None
    model, errors = validate(ScenarioFile, {"table": value}, _shifted(doc, "table"), ())
    issues.extend(_unshift(e) for e in errors)
    return model.table if isinstance(model, ScenarioFile) else None


def _shifted(doc: SourceDoc, prefix: str = "items") -> SourceDoc:
    """The document seen under one wrapping key, so positions line up with the wrapper."""
    return SourceDoc(doc.file, doc.index, {prefix: doc.value},
                     {(prefix, *k): v for k, v in doc.positions.items()},
                     {(prefix, *k): v for k, v in doc.key_positions.items()})


def _unshift(issue: SpecIssue) -> SpecIssue:
    path = re.sub(r"^(items|table)\.?", "", issue.path)
    return SpecIssue(issue.file, issue.line, issue.col, path or "", issue.message)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.casefold()).strip("-")[:60] or "imported"


def _documents(base: str, comps: list[CompetencyIn], back: BackgroundIn, scenarios: list[str],
               scenario_file: str | None) -> list[dict[str, Any]]:
    refs = [slug(f"{c.name}-{c.proficiency}") for c in comps]
    docs: list[dict[str, Any]] = []
    for ref, c in zip(refs, comps, strict=True):
        spec = {"name": c.name, "proficiency": c.proficiency, "description": c.description,
                "scope": c.scope, "category": c.category,
                "competency_id": c.competency_id or c.id}
        docs.append(_doc("Competency", ref, {k: v for k, v in spec.items() if v}))
    org = back.organization.organization_background if back.organization else \
        back.organization_background
    docs.append(_doc("Background", f"{base}-background", {k: v for k, v in {
        "organization_background": org, "role_context": back.role_context, "yoe": back.yoe,
        "questions_prompt": back.questions_prompt}.items() if v}))
    task: dict[str, Any] = {"competencies": refs, "background": f"{base}-background"}
    if scenarios:
        source = {"files": [scenario_file]} if scenario_file else {"scenarios": scenarios}
        docs.append(_doc("ScenarioSet", base, {"competencies": refs, **source}))
        task["scenario"] = {"set": base, "index": 0}
    docs.append(_doc("Task", base, task))
    return docs


def _doc(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "taskform/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


def _refuse_templates(docs: list[dict[str, Any]]) -> None:
    for doc in docs:
        for key, value in doc["spec"].items():
            if isinstance(value, str) and _is_template(value):
                raise TaskformError(f"{doc['kind']} {doc['metadata']['name']}: {key} contains "
                                    "'{{' or '{%', which spec files treat as a template; edit "
                                    "the input and import again")


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def _dump(doc: dict[str, Any]) -> str:
    return yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
