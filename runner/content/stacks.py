"""The prompt-stack table (`templates/prompts/stacks.yaml`): which prompts and which offline
scaffold a competency set uses, its category, how its tasks are graded and deployed, and the
toolchain its grading image carries. Declared data, resolved here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from runner.content import templates
from runner.content.keys import canonical_name
from runner.errors import SpecError, SpecIssue, TaskformError
from runner.spec.validation import validate
from runner.spec.yamlsrc import SourceDoc, parse_file
from runner.strict import StrictModel
from runner.workspace import Workspace

TABLE = "prompts/stacks.yaml"
Category = Literal["BACKEND", "FRONTEND", "DATABASE", "MIXED_STACK", "NON_CODE"]
Grading = Literal["tests", "review"]
Deploy = Literal["docker", "none"]
FALLBACK_SETTING = "content: {unknown_technology: category_fallback}"


class Toolchain(StrictModel):
    """What a grading image adds to the base image, from Debian packages (no other network)."""

    describe: str = Field(description="what the held-out tests can use, told to the model")
    packages: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    setup: list[str] = Field(default_factory=list, description="commands run as root once")


class Stack(StrictModel):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    category: Category
    covers: list[str] = Field(default_factory=list)
    scaffold: str = "generic"
    toolchain: str | None = None
    grading: Grading = "tests"
    deploy: Deploy = "none"
    description: str = ""


class StacksTable(StrictModel):
    stacks: list[Stack] = Field(min_length=1)
    fallbacks: dict[Category, str] = Field(default_factory=dict)
    minutes: dict[str, str] = Field(default_factory=dict)
    focus: dict[Category, str] = Field(default_factory=dict)
    toolchains: dict[str, Toolchain] = Field(default_factory=dict)

    def stack(self, name: str) -> Stack | None:
        return next((s for s in self.stacks if s.name == name), None)


@dataclass(frozen=True)
class Resolution:
    """The stack a competency set uses, the set's category, and how it was chosen."""

    stack: Stack
    category: str
    via: str  # "covers", "stack" (named by the competencies), "fallback" or "setting"
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
    raise_issues(_dangling(model, doc))
    return model, where


def _dangling(model: StacksTable, doc: SourceDoc) -> list[SpecIssue]:
    names = [s.name for s in model.stacks]
    issues = [doc.issue(("fallbacks", category), f"names stack {target!r}, which is not "
                        f"declared; stacks: {', '.join(names)}")
              for category, target in model.fallbacks.items() if target not in names]
    issues += [doc.issue(("stacks", n, "toolchain"), f"names toolchain {s.toolchain!r}, which "
                         f"is not declared; toolchains: {', '.join(model.toolchains) or 'none'}")
               for n, s in enumerate(model.stacks)
               if s.toolchain and s.toolchain not in model.toolchains]
    return issues


def raise_issues(issues: list[SpecIssue]) -> None:
    if issues:
        raise SpecError(issues)


def set_category(categories: Sequence[str]) -> str:
    distinct = set(categories)
    if "NON_CODE" in distinct:
        return "NON_CODE"
    return distinct.pop() if len(distinct) == 1 else "MIXED_STACK"


def resolve(ws: Workspace, competencies: Sequence[Mapping[str, Any]],
            override: str | None = None) -> Resolution:
    """The stack of a competency set; an uncovered competency is an error naming the table
    (unless the workspace opted into its category's fallback)."""
    table, where = load_table(ws)
    fallback_ok = ws.config.content.unknown_technology == "category_fallback"
    categories = [_category(table, where, c, fallback_ok) for c in competencies]
    category = set_category(categories)
    if override:
        return Resolution(_named(table, where, override, "stack"), category, "setting", where)
    for stack in table.stacks:
        if all(_takes(stack, c) for c in competencies):
            via = "stack" if any(c.get("stack") for c in competencies) else "covers"
            return Resolution(stack, category, via, where)
    fallback = table.fallbacks.get(category)  # type: ignore[call-overload]
    if fallback is None:
        names = " + ".join(str(c["name"]) for c in competencies)
        raise TaskformError(f"no stack in {where} covers all of {names}, and it declares no "
                            f"fallback for category {category}")
    return Resolution(_named(table, where, fallback, "fallback"), category, "fallback", where)


def minutes_for(table: StacksTable, competencies: Sequence[Mapping[str, Any]]) -> str:
    """The time budget of the highest proficiency in the set."""
    order = ["BEGINNER", "BASIC", "INTERMEDIATE", "ADVANCED"]
    levels = [str(c.get("proficiency") or "BASIC") for c in competencies]
    top = max(levels, key=lambda lv: order.index(lv) if lv in order else 1)
    return table.minutes.get(top, "15-20")


def _category(table: StacksTable, where: str, competency: Mapping[str, Any],
              fallback_ok: bool) -> str:
    """A competency's category: its own, else its stack's; no stack at all is an error unless
    the workspace lets it fall back on its (declared) category."""
    named = competency.get("stack")
    if named:
        stack = _named(table, where, str(named), f"competency {competency['name']!r} names stack")
        return str(competency.get("category") or stack.category)
    covering = next((s for s in table.stacks if _covers(s, competency)), None)
    if covering is not None:
        return str(competency.get("category") or covering.category)
    if fallback_ok and competency.get("category"):
        return str(competency["category"])
    raise TaskformError(_uncovered(table, where, competency, fallback_ok))


def _uncovered(table: StacksTable, where: str, competency: Mapping[str, Any],
               fallback_ok: bool) -> str:
    head = (f"competency {competency['name']!r} has no prompt stack: no entry of {where} "
            f"covers it (stacks: {', '.join(s.name for s in table.stacks)}); ")
    if fallback_ok:
        return head + ("give it a `category` to use that category's fallback stack "
                       "(content.unknown_technology is category_fallback), name one with "
                       "`stack:`, or add its name to a stack's `covers`")
    return head + ("add its name to a stack's `covers`, or add a stack with its prompts, or "
                   "name one with `stack:` on the Competency (or set "
                   f"`{FALLBACK_SETTING}` in taskform.yaml to use its category's fallback)")


def _named(table: StacksTable, where: str, name: str, what: str) -> Stack:
    stack = table.stack(name)
    if stack is None:
        raise TaskformError(f"{what} {name!r}, which is not declared in {where}; stacks: "
                            f"{', '.join(s.name for s in table.stacks)}")
    return stack


def _takes(stack: Stack, competency: Mapping[str, Any]) -> bool:
    """A competency naming its stack goes only there; others go where they are covered."""
    named = competency.get("stack")
    return stack.name == named if named else _covers(stack, competency)


def _covers(stack: Stack, competency: Mapping[str, Any]) -> bool:
    name = canonical_name(str(competency["name"]))
    return any(canonical_name(c) == name for c in stack.covers)
