"""The prompt-stack table (`templates/prompts/stacks.yaml`): which prompts and which offline
scaffold a competency set uses, and its category. Declared data, resolved here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from runner.content import templates
from runner.content.keys import canonical_name
from runner.errors import SpecError, TaskformError
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_file
from runner.strict import StrictModel
from runner.workspace import Workspace

TABLE = "prompts/stacks.yaml"
Category = Literal["BACKEND", "FRONTEND", "DATABASE", "MIXED_STACK", "NON_CODE"]


class Stack(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    category: Category
    covers: list[str] = Field(default_factory=list)
    scaffold: str = "generic"
    description: str = ""


class StacksTable(StrictModel):
    stacks: list[Stack] = Field(min_length=1)
    fallbacks: dict[Category, str] = Field(default_factory=dict)
    minutes: dict[str, str] = Field(default_factory=dict)
    focus: dict[Category, str] = Field(default_factory=dict)


@dataclass(frozen=True)
class Resolution:
    """The stack a competency set uses, the set's category, and how it was chosen."""

    stack: Stack
    category: str
    via: str  # "covers" or "fallback"
    table: str


def load_table(ws: Workspace) -> tuple[StacksTable, str]:
    """The table and where it was read; a malformed table is a SpecError naming its lines."""
    path = templates.require(ws, TABLE, "the prompt-stack table")
    where = templates.shown(ws, path)
    docs, issues = parse_file(path, where)
    if issues:
        raise SpecError(issues)
    doc = docs[0] if docs else SourceDoc(where, 0, {})
    model, issues = validate(StacksTable, doc.value or {}, doc, ())
    if issues or not isinstance(model, StacksTable):
        raise SpecError(issues)
    names = [s.name for s in model.stacks]
    for category, target in model.fallbacks.items():
        if target not in names:
            raise SpecError([doc.issue(("fallbacks", category), f"names stack {target!r}, which "
                                       f"is not declared; stacks: {', '.join(names)}")])
    return model, where


def category_of(table: StacksTable, competency: Mapping[str, Any]) -> str | None:
    """A competency's own `category`, else that of the first stack covering it."""
    if competency.get("category"):
        return str(competency["category"])
    stack = next((s for s in table.stacks if _covers(s, competency)), None)
    return stack.category if stack else None


def set_category(categories: Sequence[str]) -> str:
    distinct = set(categories)
    if "NON_CODE" in distinct:
        return "NON_CODE"
    return distinct.pop() if len(distinct) == 1 else "MIXED_STACK"


def resolve(ws: Workspace, competencies: Sequence[Mapping[str, Any]],
            override: str | None = None) -> Resolution:
    """The stack of a competency set; an uncovered competency is an error naming the table."""
    table, where = load_table(ws)
    categories = []
    for competency in competencies:
        category = category_of(table, competency)
        if category is None or not any(_covers(s, competency) for s in table.stacks):
            raise TaskformError(
                f"competency {competency['name']!r} has no prompt stack: no entry of {where} "
                f"covers it (stacks: {', '.join(s.name for s in table.stacks)}); add its name to "
                "a stack's `covers`, or add a stack with its prompts")
        categories.append(category)
    category = set_category(categories)
    if override:
        stack = next((s for s in table.stacks if s.name == override), None)
        if stack is None:
            raise TaskformError(f"stack {override!r} is not declared in {where}; stacks: "
                                f"{', '.join(s.name for s in table.stacks)}")
        return Resolution(stack, category, "setting", where)
    for stack in table.stacks:
        if all(_covers(stack, c) for c in competencies):
            return Resolution(stack, category, "covers", where)
    fallback = table.fallbacks.get(category)  # type: ignore[call-overload]
    if fallback is None:
        names = " + ".join(str(c["name"]) for c in competencies)
        raise TaskformError(f"no stack in {where} covers all of {names}, and it declares no "
                            f"fallback for category {category}")
    stack = next(s for s in table.stacks if s.name == fallback)
    return Resolution(stack, category, "fallback", where)


def minutes_for(table: StacksTable, competencies: Sequence[Mapping[str, Any]]) -> str:
    """The time budget of the highest proficiency in the set."""
    order = ["BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED"]
    levels = [str(c.get("proficiency") or "BASIC") for c in competencies]
    top = max(levels, key=lambda lv: order.index(lv) if lv in order else 1)
    return table.minutes.get(top, "15-20")


def _covers(stack: Stack, competency: Mapping[str, Any]) -> bool:
    name = canonical_name(str(competency["name"]))
    return any(canonical_name(c) == name for c in stack.covers)
