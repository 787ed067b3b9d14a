"""`taskform state migrate`: SQLite to PostgreSQL, to another workspace name, and back, with
nothing lost on the way; into an empty target only, under both locks; taskform.yaml is
pointed at the copy only when asked, keeping its other lines."""

from __future__ import annotations

import uuid

import pytest

from runner.state.base import Event, Record, RunInfo, new_lock_info
from runner.state.migrate import state_block, with_state_block

pytestmark = pytest.mark.usefixtures("postgres")

SPEC = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: p}
spec:
  steps:
    greet: {value: {input: hello}}
    fail: {shell: {command: "printf 'half\\\\0way'; exit 3"}}
"""


def fill(store) -> None:  # type: ignore[no-untyped-def]
    """What no apply of the spec above leaves, so every column and table carries something."""
    store.begin_run(RunInfo("r-old", "destroy", user="ana", host="ci-1", pid=7))
    store.finish_run("r-old", "ok", {"destroyed": 1, "nested": {"a": [1, None]}})
    store.commit(Record(address='pipeline.p.grade["c1","s1"]', kind="value", status="ok",
                        fingerprint={"setting:input": "h"}, settings={"input": "ünï\x00"},
                        outputs={"value": [1, 2.5, None, True]}, depends_on=("pipeline.p.greet",),
                        parent="pipeline.p.grade", prevent_destroy=True, labels={"team": "x"},
                        run_id="r-old", created_at="2025-01-01T00:00:00.000Z",
                        updated_at="2025-02-01T00:00:00.000Z"),
                 Event("r-old", "done", 'pipeline.p.grade["c1","s1"]', "made", {"n": 1}, "t1"))
    store.next_id("task_pool.next_id", "task_pool.fastapi", Event("r-old", "fact"), count=4)
    store.set_fact("scenario_set.accepted", "scenario_set.s", {"accepted": ["a", "b"]},
                   Event("r-old", "fact", "scenario_set.s"))


def test_a_state_goes_to_postgresql_to_another_name_and_back_losslessly(ws, postgres) -> None:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", "# the team's workspace\nparallelism: 4\nvariables: {a: 1}\n")
    ws.spec(SPEC)
    assert ws.cli("apply", "-auto-approve").exit_code == 1  # one step fails: error and output
    fill(ws.state())
    original = ws.state().dump()
    first, second = f"mig-{uuid.uuid4().hex[:8]}", f"mig-{uuid.uuid4().hex[:8]}"
    result = ws.cli("state", "migrate", "--to", postgres.url(), "--workspace", first,
                    "--write-config")
    assert (result.exit_code, result.output) == (0, (
        f"Copied 3 records, 2 runs, 6 events and 2 facts (state version 6)\n"
        f"  from sqlite .taskform/state.db\n"
        f"  to   postgresql {postgres.url()} (workspace {first}, schema taskform).\n"
        "taskform.yaml now points at the copy; the source is left as it was.\n"))
    assert (ws.root / "taskform.yaml").read_text() == (
        f"# the team's workspace\nparallelism: 4\nvariables: {{a: 1}}\nstate:\n"
        f"  backend: postgresql\n  url: {postgres.url()}\n  workspace: {first}\n")
    assert ws.state().dump() == original
    assert ws.cli("state", "migrate", "--to", postgres.url(), "--workspace", second,
                  "--write-config").exit_code == 0
    assert ws.state().dump() == original
    back = ws.cli("state", "migrate", "--to", "sqlite:.taskform/back.db", "--write-config")
    assert back.exit_code == 0, back.output
    assert "state:\n  backend: sqlite\n  path: .taskform/back.db\n" in (
        ws.root / "taskform.yaml").read_text()
    assert ws.state().dump() == original
    # planning reads the copy as it read the original: the protected record still protects
    plan = ws.cli("plan", "-refresh=false")
    assert plan.output.startswith('Error: pipeline.p.grade["c1","s1"] has lifecycle.'
                                  'prevent_destroy set and would be destroyed (removed from '
                                  'specs)\n')


def test_without_write_config_the_block_to_use_is_shown(ws, postgres) -> None:  # type: ignore[no-untyped-def]
    name = f"mig-{uuid.uuid4().hex[:8]}"
    result = ws.cli("state", "migrate", "--to", postgres.url(), "--workspace", name)
    assert result.exit_code == 0
    assert result.output.endswith(
        f"taskform.yaml still points at the source. To use the copy, set:\n\nstate:\n"
        f"  backend: postgresql\n  url: {postgres.url()}\n  workspace: {name}\n\n")
    assert (ws.root / "taskform.yaml").read_text() == ""


def test_a_target_that_holds_a_state_is_refused(ws, postgres) -> None:  # type: ignore[no-untyped-def]
    fill(ws.state())
    name = f"mig-{uuid.uuid4().hex[:8]}"
    assert ws.cli("state", "migrate", "--to", postgres.url(), "--workspace", name).exit_code == 0
    again = ws.cli("state", "migrate", "--to", postgres.url(), "--workspace", name)
    assert (again.exit_code, again.output) == (1, (
        "Error: the target already holds 1 record, 1 run, 3 events and 2 facts (state version "
        "3): state migrate copies only into an empty state (choose another workspace name)\n"))


def test_migrate_waits_for_the_source_s_lock(ws, postgres) -> None:  # type: ignore[no-untyped-def]
    holder = ws.state()
    held = new_lock_info("r-apply", "apply")
    holder.acquire_lock(held, 0)
    result = ws.cli("state", "migrate", "--to", postgres.url(), "--workspace", "never")
    assert (result.exit_code, result.output) == (1, f"Error: state is locked: {held.describe()}. "
                                                    "Wait for it to finish, retry with "
                                                    "-lock-timeout, or if it is certainly dead "
                                                    f"run `taskform force-unlock {held.lock_id}`\n")


def test_a_target_url_with_a_password_or_the_state_itself_is_refused(ws) -> None:  # type: ignore[no-untyped-def]
    result = ws.cli("state", "migrate", "--to", "postgresql://ci:hunter2@db/taskform")
    assert (result.exit_code, result.output.splitlines()[-1]) == (
        1, "Error: Invalid value for --to: the URL carries a password: put it in PGPASSWORD "
           "or ~/.pgpass, or in a secret variable named by password_variable")
    itself = ws.cli("state", "migrate", "--to", "sqlite:")
    assert (itself.exit_code, itself.output.splitlines()[-1]) == (
        1, "Error: --to names the state itself (sqlite .taskform/state.db)")


@pytest.mark.parametrize(("config", "expected"), [
    ("", "state:\n  backend: sqlite\n"),
    ("parallelism: 2", "parallelism: 2\nstate:\n  backend: sqlite\n"),
    ("state: {backend: sqlite}\n# grading\ngrading: {timeout_seconds: 5}\n",
     "state:\n  backend: sqlite\n# grading\ngrading: {timeout_seconds: 5}\n"),
    ("a: 1\nstate:\n  backend: postgresql\n  # the team's\n  url: x\n\nb: 2\n",
     "a: 1\nstate:\n  backend: sqlite\n\nb: 2\n"),
])
def test_the_state_block_replaces_only_the_state_key(config: str, expected: str) -> None:
    assert with_state_block(config, state_block({"backend": "sqlite"})) == expected


def test_the_state_block_quotes_what_yaml_would_misread() -> None:
    assert state_block({"backend": "postgresql", "url": "postgresql://a@h/db",
                        "workspace": "team: prod #1"}) == (
        "state:\n  backend: postgresql\n  url: postgresql://a@h/db\n  workspace: 'team: prod #1'\n")


def test_a_database_sorting_words_not_bytes_still_compares_equal(ws, postgres) -> None:  # type: ignore[no-untyped-def]
    # the copy is read back and compared in SQLite's byte order, whatever the collation
    with postgres.connect() as conn:
        conn.execute("DROP DATABASE IF EXISTS words")
        conn.execute("CREATE DATABASE words TEMPLATE template0 LOCALE_PROVIDER icu "
                     "ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'")
    store = ws.state()
    for address in ("pipeline.p.a", "pipeline.p.B", "pipeline.p._c", "pipeline.p.é"):
        store.commit(Record(address=address, kind="value", status="ok", fingerprint={},
                            settings={}, outputs={}, run_id="r", created_at="t", updated_at="t"),
                     Event("r", "done", address))
    url = postgres.url(database="words")
    result = ws.cli("state", "migrate", "--to", url, "--workspace", "w", "--write-config")
    assert result.exit_code == 0, result.output
    assert [r.address for r in ws.state().dump().records] == [
        "pipeline.p.B", "pipeline.p._c", "pipeline.p.a", "pipeline.p.é"]
