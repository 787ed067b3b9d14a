"""The PostgreSQL settings in taskform.yaml, and the password: from libpq's PGPASSWORD or from
a declared secret variable, it never shows in output, plans, logs, errors or the state."""

from __future__ import annotations

import uuid

import pytest
from postgres_server import PASSWORD_ROLE

SPEC = """
apiVersion: taskform/v1
kind: Pipeline
metadata: {name: s}
spec:
  steps:
    use:
      shell: {command: "echo connected as {{ var.who }}"}
"""


def errors_of(ws, config: str) -> str:  # type: ignore[no-untyped-def]
    ws.write("taskform.yaml", config)
    result = ws.cli("validate")
    assert result.exit_code == 1
    return str(result.output)


def test_postgresql_needs_a_url(ws) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(ws, "state: {backend: postgresql}\n") == (
        "Error: 1 error in the specs:\n  taskform.yaml:1:8: state: backend postgresql needs "
        "url: postgresql://USER@HOST:PORT/DATABASE\n")


def test_a_url_with_a_password_is_refused_without_showing_it(ws) -> None:  # type: ignore[no-untyped-def]
    for url in ("postgresql://ci:hunter2@db/taskform", "postgresql://ci@db/taskform?password=hunter2"):
        assert errors_of(ws, f"state:\n  backend: postgresql\n  url: {url}\n") == (
            "Error: 1 error in the specs:\n  taskform.yaml:3:8: state.url: the URL carries a "
            "password: put it in PGPASSWORD or ~/.pgpass, or in a secret variable named by "
            "password_variable\n")


def test_settings_of_the_other_backend_are_refused(ws) -> None:  # type: ignore[no-untyped-def]
    assert errors_of(ws, "state: {url: 'postgresql://db/x', schema: s}\n") == (
        "Error: 1 error in the specs:\n  taskform.yaml:1:8: state: schema, url: only backend "
        "postgresql reads them\n")
    assert errors_of(ws, "state: {backend: postgresql, url: 'postgresql://db/x', path: a.db}\n") \
        == ("Error: 1 error in the specs:\n  taskform.yaml:1:8: state: path: only backend "
            "sqlite reads it\n")
    assert errors_of(ws, "state: {backend: postgresql, url: 'mysql://db/x'}\n") == (
        "Error: 1 error in the specs:\n  taskform.yaml:1:35: state.url: expected a "
        "postgresql://USER@HOST:PORT/DATABASE URL, got a mysql one\n")


@pytest.fixture
def pw_ws(ws, postgres):  # type: ignore[no-untyped-def]
    """A workspace whose state is in PostgreSQL as a role that must give its password."""
    ws.backend = "postgresql"
    ws.spec(SPEC)
    return ws, postgres.password_of()


def configure(ws, postgres, variables: str, password_variable: str = "") -> None:  # type: ignore[no-untyped-def]
    """taskform.yaml: the state as PASSWORD_ROLE, in a schema of its own (the role may not use
    the shared one), then `variables`."""
    ws.state_yaml = (f"state:\n  backend: postgresql\n  url: '{postgres.url(PASSWORD_ROLE)}'\n"
                     f"  schema: pw_{uuid.uuid4().hex[:8]}\n")
    if password_variable:
        ws.state_yaml += f"  password_variable: {password_variable}\n"
    ws.configure(variables)


def everything_shown(ws, env: dict[str, str]) -> list[str]:  # type: ignore[no-untyped-def]
    """What a user or a CI log sees of a whole session: plan, saved plan, apply -v, state."""
    plan_file = ws.root / "plan.json"
    shown = [ws.cli("plan", "-out", str(plan_file), env=env).output]
    applied = ws.run("apply", "-auto-approve", "-v", env=env)
    assert applied.returncode == 0, applied.stderr
    shown += [plan_file.read_text(), applied.stdout, applied.stderr]
    for args in (["state", "list"], ["state", "show", "pipeline.s.use"], ["state", "history"],
                 ["state", "history", "--json"], ["plan", "--json"]):
        result = ws.cli(*args, env=env)
        assert result.exit_code == 0, result.output
        shown.append(result.output)
    return shown


def test_a_password_from_pgpassword_never_shows(pw_ws, postgres) -> None:  # type: ignore[no-untyped-def]
    ws, password = pw_ws
    configure(ws, postgres, "variables: {who: ci}\n")
    shown = everything_shown(ws, {"PGPASSWORD": password})
    assert [password in text for text in shown] == [False] * len(shown)
    assert password.encode() not in ws.stored_bytes()
    assert "connected as ci" in shown[2]


def test_a_password_from_a_secret_variable_never_shows(pw_ws, postgres) -> None:  # type: ignore[no-untyped-def]
    ws, password = pw_ws
    # the step prints the same value, so redaction has something to do
    configure(ws, postgres, "variables:\n  who: {env: TF_DB_PASSWORD, secret: true}\n"
              "  db_password: {env: TF_DB_PASSWORD, secret: true}\n", "db_password")
    shown = everything_shown(ws, {"TF_DB_PASSWORD": password, "PGPASSWORD": ""})
    assert [password in text for text in shown] == [False] * len(shown)
    assert "connected as (sensitive)" in shown[2]
    assert password.encode() not in ws.stored_bytes()


def test_a_wrong_password_is_named_as_such_and_not_shown(pw_ws, postgres) -> None:  # type: ignore[no-untyped-def]
    ws, _ = pw_ws
    configure(ws, postgres, "variables: {who: ci}\n")
    result = ws.cli("state", "list", env={"PGPASSWORD": "wrong-and-secret"})
    assert (result.exit_code, result.output) == (1, (
        f"Error: cannot connect to the state database {postgres.url(PASSWORD_ROLE)}: connection "
        f'failed: connection to server at "127.0.0.1", port {postgres.port} failed: FATAL:  '
        f'password authentication failed for user "{PASSWORD_ROLE}"\n'))


def test_the_password_variable_must_be_declared_secret(pw_ws, postgres) -> None:  # type: ignore[no-untyped-def]
    ws, password = pw_ws
    configure(ws, postgres, "variables:\n  who: ci\n  db_password: {env: TF_DB_PASSWORD}\n",
              "db_password")
    result = ws.cli("state", "list", env={"TF_DB_PASSWORD": password})
    assert (result.exit_code, result.output) == (1, (
        "Error: variable 'db_password' holds the PostgreSQL password: declare it with secret: "
        "true so it is redacted everywhere\n"))
