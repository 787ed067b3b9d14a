"""A plan takes a recorded expansion instead of expanding again when nothing it depended on
changed (runner/planning/expansion_reuse.py), and expands again as soon as anything did: a file
or folder it read, its settings, taskform.yaml, a dependency's outputs, a `-replace`, a child
that failed. A parent whose settings hold templates always expands."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import pytest
from kind_kit import register

from runner.kinds.base import BaseKind, Can, Child, Context, Expansion, Settings
from runner.planning.expansion_reuse import EXPANSION_MEMO, EXPANSION_READS
from runner.state.base import Record


class FolderSettings(Settings):
    path: str
    prefix: str = ""


class FolderKind(BaseKind):
    """One `value` child per file of a folder, its input the file's text (read at expansion)."""

    name = "folder"
    settings_model = FolderSettings
    expansions = 0

    def expand(self, ctx: Context, settings: FolderSettings, expansion: Expansion) -> list[Child]:
        FolderKind.expansions += 1
        folder = ctx.path(settings.path)
        return [Child(key=(name,), kind="value", settings={
                    "input": settings.prefix + ctx.path(f"{settings.path}/{name}").read_text()})
                for name in sorted(os.listdir(folder))]

    def apply(self, ctx: Context, settings: FolderSettings, prior: Record | None) -> dict[str, Any]:
        return {"files": len(os.listdir(ctx.path(settings.path)))}


@pytest.fixture(autouse=True)
def folder_kind(monkeypatch):
    register(monkeypatch, FolderKind(), Can.EXPAND, reuse_expansion=True)
    FolderKind.expansions = 0


def specs(ws, settings: str = "{path: files}", source: str = "one") -> None:
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: p}}
        spec:
          steps:
            source:
              value: {{input: {source}}}
            each:
              folder: {settings}
              depends_on: [source]
        """)


def applied(ws, *args: str) -> None:
    result = ws.cli("apply", "-auto-approve", *args)
    assert result.exit_code == 0, result.output


def expansions_of_plan(ws, *args: str) -> tuple[int, str]:
    FolderKind.expansions = 0
    result = ws.cli("plan", *args)
    assert result.exit_code == 0, result.output
    return FolderKind.expansions, result.output


@pytest.fixture
def graded(ws):
    ws.write("files/a.txt", "A")
    ws.write("files/b.txt", "B")
    specs(ws)
    applied(ws)
    return ws


def test_a_no_op_plan_takes_the_recorded_expansion(graded):
    record = graded.state().records()["pipeline.p.each"]
    assert record.fingerprint[EXPANSION_READS] == '["files", "files/a.txt", "files/b.txt"]'
    assert len(record.fingerprint[EXPANSION_MEMO]) == 32
    assert expansions_of_plan(graded) == (0, "No changes. 4 resources match the specs.\n")
    assert expansions_of_plan(graded, "-refresh=false")[0] == 0


def test_a_no_op_plan_decodes_nothing_of_a_recorded_child_but_its_memo(graded):
    from runner.connections import Connections
    from runner.plan import PlanOptions
    from runner.planning import make_plan
    from runner.state import open_state
    from runner.workspace import open_workspace

    workspace = open_workspace(graded.root)
    state = open_state(workspace)
    try:
        planned = make_plan(workspace, state, Connections(), PlanOptions())
    finally:
        state.close()
    assert not planned.plan.has_changes
    children = sorted((r for r in planned.records.values() if r.parent == "pipeline.p.each"),
                      key=lambda r: r.address)
    assert len(children) == 2
    # their memos stood for them: no outputs, fingerprint or settings decoded, not even for
    # the resources, evaluations and changes the plan made of them
    assert [(c.address, field) for c in children for field in ("outputs", "fingerprint",
                                                                "settings") if field in vars(c)] == []
    changes = [c for c in planned.plan.changes if c.parent == "pipeline.p.each"]
    assert [vars(c).keys() & {"before", "after", "fingerprint"} for c in changes] == [set(), set()]
    assert [c for c in children if "settings" in vars(planned.resources[c.address])] == []
    # and what reads them gets what was recorded
    for change, record in zip(changes, children, strict=True):
        assert change.after == change.before == record.settings
        assert change.fingerprint == record.fingerprint and "memo:outputs" in record.fingerprint
        assert planned.resources[record.address].settings == record.settings


@pytest.mark.parametrize("change, shown", [
    (lambda ws: ws.write("files/b.txt", "B2"),
     '  ~ pipeline.p.each["b.txt"]  (value, update)\n'),
    (lambda ws: ws.write("files/c.txt", "C"),
     '  + pipeline.p.each["c.txt"]  (value, create)\n'),
    (lambda ws: (ws.root / "files/a.txt").unlink(),
     '  - pipeline.p.each["a.txt"]  (value, destroy)\n'),
    (lambda ws: specs(ws, "{path: files, prefix: x-}"),
     '  ~ pipeline.p.each["a.txt"]  (value, update)\n'),
])
def test_anything_the_expansion_depended_on_makes_it_expand_again(graded, change, shown):
    change(graded)
    count, output = expansions_of_plan(graded)
    assert count == 1
    assert shown in output
    applied(graded)
    assert expansions_of_plan(graded)[0] == 0  # the apply recorded the new expansion


def test_a_dependency_s_new_outputs_make_it_expand_again(graded):
    specs(graded, source="two")
    assert expansions_of_plan(graded)[0] == 0  # the recorded outputs: what expanding would see
    applied(graded, "-target", "pipeline.p.source")
    count, output = expansions_of_plan(graded)
    assert count == 1  # the recorded digest holds source's old outputs
    assert "  ~ pipeline.p.each  (folder, update)\n      # pipeline.p.source changed since this was applied" \
        in output


def test_taskform_yaml_counts_where_kinds_read_it(graded):
    graded.write("taskform.yaml", "parallelism: 3\nspecs: [\"specs/**/*.yaml\"]\n")
    assert expansions_of_plan(graded)[0] == 0
    graded.write("taskform.yaml", "grading: {timeout_seconds: 12}\n")
    assert expansions_of_plan(graded)[0] == 1


def test_a_replaced_child_or_a_failed_one_expands_again(graded):
    count, output = expansions_of_plan(graded, "-replace", 'pipeline.p.each["a.txt"]')
    assert count == 1
    assert '-/+ pipeline.p.each["a.txt"]  (value, replace)' in output
    state = graded.state()
    record = state.records()['pipeline.p.each["b.txt"]']
    state.commit(replace(record, status="failed", error="boom"), _event())
    count, output = expansions_of_plan(graded)
    assert count == 1
    assert '  ~ pipeline.p.each["b.txt"]  (value, update)\n      # the last apply failed: boom\n' \
        in output


def test_a_run_that_ended_between_a_child_and_its_parent_expands_and_applies_the_parent(graded):
    # the state a run killed after a child's commit and before its parent's leaves: the child
    # recorded with what the file says now, the parent with the digest of what it said before
    graded.write("files/b.txt", "B2")
    applied(graded, "-target", 'pipeline.p.each["b.txt"]')
    count, output = expansions_of_plan(graded)
    assert count == 1
    assert output.startswith("taskform will perform these actions:\n\n"
                             "  ~ pipeline.p.each  (folder, update)\n")
    assert "Plan: 0 to create, 1 to update, 0 to replace, 0 to destroy, 3 unchanged." in output
    applied(graded)
    assert expansions_of_plan(graded) == (0, "No changes. 4 resources match the specs.\n")


def test_a_read_file_swapped_for_a_link_out_of_the_workspace_is_refused(graded, tmp_path):
    outside = tmp_path / "secret.txt"
    outside.write_text("B")
    (graded.root / "files/b.txt").unlink()
    (graded.root / "files/b.txt").symlink_to(outside)
    result = graded.cli("plan")
    assert result.exit_code == 1
    assert "is outside the workspace" in result.output
    assert "Traceback" not in result.output


class ImageOnlyFolderKind(FolderKind):
    """As `folder`, but like a grading set with its pool: expands after its dependency applies,
    and only part of that dependency's outputs (none here: a pool's image, not its
    containers) decides it."""

    name = "image_only_folder"

    def expansion_reads(self, settings: Any, dependency: str) -> bool:
        return True

    def dependency_view(self, ctx: Context, settings: Any, dependency: str, outputs: Any) -> Any:
        return {}


def test_a_dependency_s_outputs_that_it_does_not_look_at_still_renew_its_expansion_memo(
        ws, monkeypatch):
    register(monkeypatch, ImageOnlyFolderKind(), Can.EXPAND, Can.DEFER_EXPANSION,
             Can.NARROW_DEPENDENCIES, reuse_expansion=True)
    ws.write("files/a.txt", "A")
    specs(ws, source="one")
    ws.write("specs/main.yaml", (ws.root / "specs/main.yaml").read_text().replace(
        "folder:", "image_only_folder:"))
    applied(ws)
    assert expansions_of_plan(ws)[0] == 0
    # the pool's containers replaced, its image the same: the set is deferred, then unchanged
    ws.write("specs/main.yaml", (ws.root / "specs/main.yaml").read_text().replace(
        "input: one", "input: two"))
    FolderKind.expansions = 0
    result = ws.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    assert FolderKind.expansions == 1  # during apply, once its dependency was applied
    state = ws.state()
    assert [e.event for e in state.events(address="pipeline.p.each")][-1] == "unchanged"
    # the record carries the memo of the expansion it now stands for
    assert expansions_of_plan(ws) == (0, "No changes. 3 resources match the specs.\n")


def test_an_apply_without_changes_renews_a_stale_expansion_memo(graded):
    import sqlite3

    # a state left by a taskform that did not renew it (or by a run that ended in between)
    with sqlite3.connect(graded.root / ".taskform" / "state.db") as db:
        db.execute("""UPDATE resources SET fingerprint = json_set(fingerprint,
                      '$."memo:expansion"', 'stale') WHERE address = 'pipeline.p.each'""")
    assert expansions_of_plan(graded) == (1, "No changes. 4 resources match the specs.\n")
    result = graded.cli("apply", "-auto-approve")
    assert (result.exit_code, result.output) == (0, "No changes. 4 resources match the specs.\n")
    events = graded.state().events(address="pipeline.p.each")
    assert [e.event for e in events][-1] == "memo-refreshed"
    assert expansions_of_plan(graded) == (0, "No changes. 4 resources match the specs.\n")
    result = graded.cli("apply", "-auto-approve")
    assert [e.event for e in graded.state().events(address="pipeline.p.each")] == \
        [e.event for e in events]  # nothing more to renew


def test_a_stale_expansion_memo_is_not_renewed_while_a_child_changes(graded):
    import sqlite3

    with sqlite3.connect(graded.root / ".taskform" / "state.db") as db:
        db.execute("""UPDATE resources SET fingerprint = json_set(fingerprint,
                      '$."memo:expansion"', 'stale') WHERE address = 'pipeline.p.each'""")
    graded.write("files/b.txt", "B2")
    applied(graded)
    record = graded.state().records()["pipeline.p.each"]
    assert record.fingerprint[EXPANSION_MEMO] != "stale"  # applied: the new expansion's memo
    assert expansions_of_plan(graded)[0] == 0


def test_a_parent_with_templates_always_expands(ws):
    ws.write("files/a.txt", "A")
    specs(ws, '{path: files, prefix: "{{ steps.source.value }}"}')
    applied(ws)
    assert "memo:expansion" not in ws.state().records()["pipeline.p.each"].fingerprint
    assert expansions_of_plan(ws)[0] == 1


def _event():  # type: ignore[no-untyped-def]
    from runner.state.base import Event

    return Event(run_id="test", event="commit", address="")
