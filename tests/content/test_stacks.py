"""The prompt-stack table decides a competency set's stack, category and scaffold; a
competency no stack covers is an error that names the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from runner.content import stacks
from runner.errors import SpecError, TaskformError
from runner.workspace import Workspace, WorkspaceConfig


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    return Workspace(root=tmp_path, config=WorkspaceConfig())


def comp(name: str, level: str = "BASIC", **extra: str) -> dict[str, str]:
    return {"name": name, "proficiency": level, **extra}


@pytest.mark.parametrize("names, stack, category, via", [
    (["Python - FastAPI"], "python-fastapi", "BACKEND", "covers"),
    (["python-fastapi"], "python-fastapi", "BACKEND", "covers"),
    (["Java", "Kafka"], "java-kafka", "BACKEND", "covers"),
    (["SQL", "PostgreSQL"], "sql-postgresql", "DATABASE", "covers"),
    (["ReactJs"], "reactjs", "FRONTEND", "covers"),
    (["Prompt Engineering"], "non-code", "NON_CODE", "covers"),
    (["Python", "Kafka"], "mixed-stack", "BACKEND", "fallback"),
    (["ReactJs", "PostgreSQL"], "mixed-stack", "MIXED_STACK", "fallback"),
])
def test_shipped_table(workspace: Workspace, names: list[str], stack: str, category: str,
                       via: str) -> None:
    found = stacks.resolve(workspace, [comp(n) for n in names])
    assert (found.stack.name, found.category, found.via) == (stack, category, via)


def test_non_code_wins_the_category(workspace: Workspace) -> None:
    found = stacks.resolve(workspace, [comp("Python"), comp("AI Literacy")])
    assert found.category == "NON_CODE"


def test_uncovered_competency_names_the_table(workspace: Workspace) -> None:
    with pytest.raises(TaskformError) as info:
        stacks.resolve(workspace, [comp("Java"), comp("Rust")])
    assert str(info.value) == (
        "competency 'Rust' has no prompt stack: no entry of taskform:templates/prompts/"
        "stacks.yaml covers it (stacks: python-fastapi, java-kafka, sql-postgresql, reactjs, "
        "non-code, mixed-stack); add its name to a stack's `covers`, or add a stack with its "
        "prompts")


def test_workspace_table_overrides_and_is_validated(workspace: Workspace) -> None:
    table = workspace.root / "templates" / "prompts" / "stacks.yaml"
    table.parent.mkdir(parents=True)
    table.write_text("stacks:\n  - name: rust\n    category: BACKEND\n    covers: [Rust]\n"
                     "fallbacks:\n  BACKEND: nope\n")
    with pytest.raises(SpecError) as info:
        stacks.resolve(workspace, [comp("Rust")])
    assert str(info.value) == (
        "1 error in the specs:\n  templates/prompts/stacks.yaml:6:12: fallbacks.BACKEND: names "
        "stack 'nope', which is not declared; stacks: rust")
    table.write_text("stacks:\n  - name: rust\n    category: BACKEND\n    covers: [Rust]\n")
    assert stacks.resolve(workspace, [comp("Rust")]).stack.name == "rust"
    table.write_text("stacks:\n  - name: rust\n    category: BACKND\n")
    with pytest.raises(SpecError) as info:
        stacks.load_table(workspace)
    assert "templates/prompts/stacks.yaml:3:15: stacks[0].category: expected 'BACKEND', " \
        "'FRONTEND', 'DATABASE', 'MIXED_STACK' or 'NON_CODE', got \"BACKND\"" in str(info.value)


def test_minutes_follow_the_highest_level(workspace: Workspace) -> None:
    table, _ = stacks.load_table(workspace)
    assert stacks.minutes_for(table, [comp("Java"), comp("Kafka", "INTERMEDIATE")]) == "20-25"
