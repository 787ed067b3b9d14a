"""No secret value, nor anything a template derives from it, reaches a file taskform writes:
the state (records, events of failed steps, facts), the spec cache, saved plans, plan JSON."""

from __future__ import annotations

from pathlib import Path

import pytest
from docker_fixtures import BASE_IMAGE, docker_client, dws  # noqa: F401 - fixtures

TOKEN = "s3cr3t-T0KEN-4f9a"
DERIVED = {"the secret": TOKEN, "upper": TOKEN.upper(), "reversed": TOKEN[::-1],
           "a slice": TOKEN[2:12], "a concatenation's middle": f"x{TOKEN}y"}


def write(ws) -> None:
    ws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n"
             "  plain: {value: not-secret}\n")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            shout:
              value: {input: "{{ var.token | upper }}"}
            slice:
              value: {input: "key={{ var.token[2:12] }}"}
            echo:
              shell:
                command: "echo {{ var.token }}; echo {{ var.token | reverse }}; echo x{{ var.token }}y"
                env: {TOKEN: "{{ var.token }}"}
            reads:
              shell: {command: "echo got {{ steps.shout.value }} and $TOKEN", env: {TOKEN: "{{ var.token[2:12] }}"}}
            fails:
              shell: {command: "echo {{ var.token | reverse }} >&2; echo {{ var.token }}; exit 3"}
            plain:
              value: {input: "{{ var.plain | upper }}"}
        """)


def leaks(root: Path) -> list[str]:
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "specs" not in p.parts):
        data = path.read_bytes()
        found += [f"{path.relative_to(root)}: {what}" for what, value in DERIVED.items()
                  if value.encode() in data]
    return found


def test_no_secret_or_derived_value_reaches_any_file(ws, monkeypatch):
    monkeypatch.setenv("TF_TEST_TOKEN", TOKEN)
    write(ws)
    plan = ws.cli("plan", "-out", str(ws.root / "plan.json"))
    assert plan.exit_code == 0, plan.output
    assert ws.cli("plan", "--json").exit_code == 0
    applied = ws.cli("apply", "-auto-approve")
    assert applied.exit_code == 1  # `fails` fails, with the secret in its output and command
    assert all(value not in applied.output for value in DERIVED.values()), applied.output
    assert ws.cli("apply", "-auto-approve").exit_code == 1  # again: the retry's events too
    shown = ws.cli("state", "show", "pipeline.p.fails")
    assert "(sensitive)" in shown.output and TOKEN[::-1] not in shown.output
    assert (ws.root / ".taskform" / "state.db").is_file()
    assert leaks(ws.root) == []
    # the scan itself finds what it looks for: a value that is not secret is stored as is
    records = ws.state().records()
    assert records["pipeline.p.plain"].outputs == {"value": "NOT-SECRET"}
    assert records["pipeline.p.shout"].outputs == {"value": "(sensitive)"}
    assert records["pipeline.p.reads"].outputs["stdout"] == "got (sensitive) and (sensitive)\n"


def test_files_taskform_writes_are_private(ws, monkeypatch):
    monkeypatch.setenv("TF_TEST_TOKEN", TOKEN)
    write(ws)
    ws.cli("plan", "-out", str(ws.root / "plan.json"))
    ws.cli("apply", "-auto-approve")
    private = [ws.root / ".taskform" / "state.db", ws.root / "plan.json"]
    assert {str(p.relative_to(ws.root)): oct(p.stat().st_mode & 0o777) for p in private} == \
        {str(p.relative_to(ws.root)): "0o600" for p in private}


@pytest.mark.docker
def test_docker_settings_and_outputs_keep_no_secret(dws, monkeypatch):  # noqa: F811 - fixture
    monkeypatch.setenv("TF_TEST_TOKEN", TOKEN)
    dws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: d}}
        spec:
          steps:
            box:
              docker_run:
                image_tag: {BASE_IMAGE}
                keep_forever: true
                parameters: ["-e TOKEN={{{{ var.token | upper }}}}"]
            use:
              docker_shell:
                container: "{{{{ steps.box.container_id }}}}"
                command: ["echo {{{{ var.token }}}} $TOKEN", "echo {{{{ var.token | reverse }}}} >&2; exit 4"]
        """)
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1 and "command 'command 2' exited with code 4" in result.output
    assert leaks(dws.root) == []

