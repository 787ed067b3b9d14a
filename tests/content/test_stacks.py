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
    # the technologies the seed generates tasks for, alone and in the sets its keys name
    (["Go"], "go", "BACKEND", "covers"),
    (["Golang"], "go", "BACKEND", "covers"),
    (["Node.js"], "nodejs-express", "BACKEND", "covers"),
    (["Express"], "nodejs-express", "BACKEND", "covers"),
    (["Node.js", "Express"], "nodejs-express", "BACKEND", "covers"),
    (["Redis"], "redis", "BACKEND", "covers"),
    (["Docker"], "docker", "BACKEND", "covers"),
    (["React Native"], "react-native", "FRONTEND", "covers"),
    (["MongoDB"], "mongodb", "DATABASE", "covers"),
    (["TypeScript"], "typescript", "FRONTEND", "covers"),
    (["NextJs"], "nextjs", "FRONTEND", "covers"),
    (["Golang", "Redis"], "go", "BACKEND", "covers"),
    (["Java", "Redis"], "java-kafka", "BACKEND", "covers"),
    (["Node.js", "MongoDB"], "nodejs-express", "MIXED_STACK", "covers"),
    (["NextJs", "TypeScript"], "nextjs", "FRONTEND", "covers"),
    (["React Native", "TypeScript"], "react-native", "FRONTEND", "covers"),
    (["Go", "Kafka"], "mixed-stack", "BACKEND", "fallback"),
    (["TypeScript", "ReactJs", "MongoDB"], "mixed-stack", "MIXED_STACK", "fallback"),
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
        "stacks.yaml covers it (stacks: redis, docker, mongodb, sql-postgresql, python-fastapi, "
        "java-kafka, go, nodejs-express, typescript, reactjs, nextjs, react-native, non-code, "
        "mixed-stack); add its name to a stack's `covers`, or add a stack with its prompts, or "
        "name one with `stack:` on the Competency (or set `content: {unknown_technology: "
        "category_fallback}` in taskform.yaml to use its category's fallback)")


def test_a_competency_naming_its_stack_goes_there(workspace: Workspace) -> None:
    found = stacks.resolve(workspace, [comp("Rust", stack="go"), comp("Redis")])
    assert (found.stack.name, found.category, found.via) == ("go", "BACKEND", "stack")
    found = stacks.resolve(workspace, [comp("Redis", stack="python-fastapi"), comp("Go")])
    assert (found.stack.name, found.via) == ("mixed-stack", "fallback")


def test_the_category_fallback_is_an_opt_in(tmp_path: Path) -> None:
    from runner.content.settings import ContentSettings

    config = WorkspaceConfig(content=ContentSettings(unknown_technology="category_fallback"))
    workspace = Workspace(root=tmp_path, config=config)
    found = stacks.resolve(workspace, [comp("Rust", category="BACKEND")])
    assert (found.stack.name, found.category, found.via) == ("mixed-stack", "BACKEND", "fallback")
    found = stacks.resolve(workspace, [comp("Svelte", category="FRONTEND")])
    assert (found.stack.name, found.via) == ("reactjs", "fallback")
    with pytest.raises(TaskformError) as info:
        stacks.resolve(workspace, [comp("Rust")])
    assert str(info.value).endswith(
        "; give it a `category` to use that category's fallback stack (content.unknown_technology "
        "is category_fallback), name one with `stack:`, or add its name to a stack's `covers`")


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
    table.write_text("stacks:\n  - name: rust\n    category: BACKEND\n    toolchain: cargo\n")
    with pytest.raises(SpecError) as info:
        stacks.load_table(workspace)
    assert str(info.value) == (
        "1 error in the specs:\n  templates/prompts/stacks.yaml:4:16: stacks[0].toolchain: names "
        "toolchain 'cargo', which is not declared; toolchains: none")
    table.write_text("stacks:\n  - name: rust\n    category: BACKND\n")
    with pytest.raises(SpecError) as info:
        stacks.load_table(workspace)
    assert "templates/prompts/stacks.yaml:3:15: stacks[0].category: expected 'BACKEND', " \
        "'FRONTEND', 'DATABASE', 'MIXED_STACK' or 'NON_CODE', got \"BACKND\"" in str(info.value)


def test_minutes_follow_the_highest_level(workspace: Workspace) -> None:
    table, _ = stacks.load_table(workspace)
    assert stacks.minutes_for(table, [comp("Java"), comp("Kafka", "INTERMEDIATE")]) == "20-25"


SEED_LEVELS = ("BEGINNER", "BASIC", "INTERMEDIATE")


def test_every_stack_has_its_prompts_at_every_level_the_seed_uses(workspace: Workspace) -> None:
    from runner.content import templates

    table, _ = stacks.load_table(workspace)
    for stack in table.stacks:
        seen = set()
        for level in SEED_LEVELS:
            text = "\n".join(templates.render_file(workspace, templates.require(
                workspace, f"prompts/{stack.name}/{name}", stack.name), prompt_variables(
                    stack.name, level)) for name in ("context.j2", "input_and_ask.j2",
                                                     "instructions.j2"))
            line = next(x for x in text.splitlines() if x.startswith(f"Level ({level}): "))
            seen.add(line.split(": ", 1)[1])
            assert "Answer with one JSON object" in text, stack.name
        assert len(seen) == len(SEED_LEVELS), (stack.name, seen)


def test_turns_ask_for_understanding_before_the_task(workspace: Workspace) -> None:
    from runner.content import templates

    def render(name: str, conversation: str) -> str:
        return templates.render_file(workspace, templates.require(
            workspace, f"prompts/go/{name}", "go"), prompt_variables("go", "BASIC", conversation))
    assert render("context.j2", "turns").endswith(
        "Before writing anything, summarise in a few sentences what you understand about the "
        "organisation, the role and the stack. Do not write the task yet.\n")
    assert render("input_and_ask.j2", "turns").endswith(
        "Confirm your understanding of the competencies and the scenario in a few sentences. Do "
        "not write the task yet.\n")
    assert "summarise" not in render("context.j2", "single")
    assert "Confirm" not in render("input_and_ask.j2", "single")


def prompt_variables(stack: str, level: str, conversation: str = "single") -> dict[str, object]:
    return {"competencies": [{"name": "X", "proficiency": level}], "competency_names": "X",
            "background": {"organization_background": "A shop"}, "scenario": "",
            "scenario_key": f"X ({level})", "proficiency": level, "minutes_range": "15-20",
            "stack": stack, "category": "BACKEND", "repo": "x", "slug": "x", "feedback": [],
            "title": "X", "grading": "tests", "deploy": "docker", "toolchain": "Debian",
            "exercise_id": "", "conversation": conversation}
