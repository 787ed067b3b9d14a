"""Droplet and Deployment documents that do not validate: every problem named with its place,
at validate, before anything reaches a droplet."""

from __future__ import annotations

import pytest

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILXMQZ4AXwCrVSB4ITmonAV2F2t7sNO8OZn/8Hl9aXnH"
DROPLET = f"""\
apiVersion: taskform/v1
kind: Droplet
metadata: {{name: lab-1, labels: {{region: lab}}}}
spec:
  address: 127.0.0.2
  ssh_key: {{path: keys/id}}
  host_key: "{KEY}"
"""


def deployment(spec: str) -> str:
    return DROPLET + "---\napiVersion: taskform/v1\nkind: Deployment\nmetadata: {name: web}\n" \
        "spec:\n" + "".join(f"  {line}\n" for line in spec.strip().splitlines())


CASES = [
    ("key both ways", DROPLET.replace("{path: keys/id}", "{path: keys/id, var: k}"),
     "specs/main.yaml:6:12: spec.ssh_key: give either path (a key file in the workspace) or var "
     "(a secret variable)"),
    ("host key not a key", DROPLET.replace(KEY, "ssh-ed25519 not-base64!"),
     "specs/main.yaml:7:13: spec.host_key: the key's base64 does not decode"),
    ("host key of an unknown type", DROPLET.replace(KEY, "ssh-dss AAAA"),
     "specs/main.yaml:7:13: spec.host_key: unknown key type 'ssh-dss'; expected one of: "
     "ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, ecdsa-sha2-nistp521, ssh-rsa"),
    ("no way to trust the host", DROPLET.replace(f'  host_key: "{KEY}"\n', ""),
     "specs/main.yaml:5:3: spec: give exactly one of host_key, known_hosts, or accept_new: true "
     "(host keys are always checked)"),
    ("two ways to trust the host", DROPLET + "  accept_new: true\n",
     "specs/main.yaml:5:3: spec: give exactly one of host_key, known_hosts, or accept_new: true "
     "(host keys are always checked)"),
    ("remote_dir is the root", DROPLET + "  remote_dir: /\n",
     "specs/main.yaml:8:15: spec.remote_dir: expected an absolute folder other than / (letters, "
     "digits, '.', '_', '-' and '/'), got '/'"),
    ("remote_dir climbs", DROPLET + "  remote_dir: /srv/../etc\n",
     "specs/main.yaml:8:15: spec.remote_dir: expected an absolute folder other than / (letters, "
     "digits, '.', '_', '-' and '/'), got '/srv/../etc'"),
    ("no capacity", DROPLET + "  capacity: 0\n",
     "specs/main.yaml:8:13: spec.capacity: expected greater than or equal to 1, got 0"),
    ("a pool no droplet is in", deployment("source: {dir: app}\npool: {labels: {region: mars}}"),
     "specs/main.yaml:14:18: spec.pool.labels: no droplet has the labels {region: mars} "
     "(1 droplet document(s); lab-1 {region: lab})"),
    ("a droplet not defined", deployment("source: {dir: app}\ndroplet: lab-9"),
     "specs/main.yaml:13:3: spec: references droplet.lab-9, which is not defined"),
    ("neither task nor source", deployment("droplet: lab-1"),
     "specs/main.yaml:13:3: spec: give either task (a Task address) or source: {dir: PATH}"),
    ("both droplet and pool",
     deployment("source: {dir: app}\ndroplet: lab-1\npool: {labels: {region: lab}}"),
     "specs/main.yaml:13:3: spec: give either droplet (a Droplet name) or pool: {labels: {...}}"),
    ("a task that is not one", deployment("task: competency.x\ndroplet: lab-1"),
     "specs/main.yaml:13:9: spec.task: expected a Task address like task.NAME or "
     "task_pool.NAME[ID], got 'competency.x'"),
    ("a script outside its folder", deployment("source: {dir: app}\ndroplet: lab-1\n"
                                               "reset: ../kill.sh"),
     "specs/main.yaml:15:10: spec.reset: the script must be a path inside the deployment's "
     "directory, got '../kill.sh'"),
    ("taskform's environment names", deployment("source: {dir: app}\ndroplet: lab-1\n"
                                                "env: {TASKFORM_DIR: /}"),
     "specs/main.yaml:15:8: spec.env: environment variable names must be letters, digits and "
     "'_', not starting with TASKFORM_: TASKFORM_DIR"),
    ("a health interval that is not a duration",
     deployment("source: {dir: app}\ndroplet: lab-1\nhealth: {command: 'true', interval: soon}"),
     "specs/main.yaml:15:39: spec.health.interval: expected a duration like 30s, 5m, 1h30m or a "
     "number of seconds, got 'soon'"),
]


@pytest.mark.parametrize(("text", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_problem_is_named_with_its_place(ws, text, expected) -> None:  # type: ignore[no-untyped-def]
    ws.spec(text)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, f"Error: 1 error in the specs:\n  {expected}\n")


def test_a_pool_depends_on_every_droplet_it_selects(ws) -> None:  # type: ignore[no-untyped-def]
    far = DROPLET.replace("lab-1", "far").replace("region: lab", "region: far")
    web = ("apiVersion: taskform/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
           "  source: {dir: app}\n  pool: {labels: {region: lab}}\n")
    ws.spec("---\n".join([DROPLET, DROPLET.replace("lab-1", "lab-2"), far, web]))
    result = ws.cli("graph")
    assert result.exit_code == 0, result.output
    edges = sorted(line.strip() for line in result.output.splitlines() if "->" in line)
    assert edges == ['"deployment.web[0]" -> "deployment.web";',
                     '"droplet.lab-1" -> "deployment.web";',
                     '"droplet.lab-1" -> "deployment.web[0]";',
                     '"droplet.lab-2" -> "deployment.web";',
                     '"droplet.lab-2" -> "deployment.web[0]";']
