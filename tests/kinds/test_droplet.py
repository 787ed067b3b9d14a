"""The Droplet kind on real sshd droplets: what apply records, and the plan errors an
unreachable droplet or a changed host key make (never a silent skip)."""

from __future__ import annotations

import re

import pytest
from droplet_fixtures import Lab

from runner.providers.ssh.door import key_line_fingerprint

pytestmark = pytest.mark.ssh


def test_apply_records_how_to_reach_the_droplet_and_makes_its_folder(lab: Lab) -> None:
    lab.spec(lab.droplet(0, "lab-1", capacity=3))
    result = lab.cli("apply", "-auto-approve")
    assert result.exit_code == 0, result.output
    sshd = lab.fleet[0]
    out = lab.state().records()["droplet.lab-1"].outputs
    assert out == {"name": "lab-1", "address": sshd.address, "port": sshd.port, "user": "root",
                   "ssh_key": {"path": "keys/id_ed25519"}, "host_key": sshd.host_key,
                   "host_key_sha256": key_line_fingerprint(sshd.host_key), "trust": "host_key",
                   "capacity": 3, "remote_dir": f"{lab.remote}/lab-1", "docker": False,
                   "docker_version": None, "slots_in_use": 0}
    assert lab.tree() == ["lab-1", "lab-1/.taskform", "lab-1/.taskform/slots",
                          "lab-1/.taskform/tmp", "lab-1/deployments"]
    assert lab.fleet.key_text not in (lab.root / ".taskform/state.db").read_bytes().decode(
        "utf-8", "replace")


def test_accept_new_takes_the_first_key_and_pins_it(lone_lab: Lab) -> None:
    sshd = lone_lab.fleet[0]
    lone_lab.spec(lone_lab.droplet(0, "lab-1", trust="accept_new: true"))
    assert lone_lab.cli("apply", "-auto-approve").exit_code == 0
    out = lone_lab.state().records()["droplet.lab-1"].outputs
    assert (out["trust"], out["host_key"]) == ("accept_new", sshd.host_key)
    old = sshd.host_key
    sshd.stop()
    sshd.start(new_host_key=True)
    result = lone_lab.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        f"Error: droplet.lab-1: root@{sshd.address}:{sshd.port} presented host key ssh-ed25519 "
        f"{key_line_fingerprint(sshd.host_key)}, but the host_key setting trusts "
        f"{key_line_fingerprint(old)}: refused, nothing was sent. If the machine was rebuilt on "
        "purpose, put its new key in host_key (or known_hosts); plan with -refresh=false to "
        "plan without looking at droplets\n"))


def test_a_changed_host_key_is_refused_by_plan_and_apply(lone_lab: Lab) -> None:
    sshd = lone_lab.fleet[0]
    lone_lab.app()
    lone_lab.spec(lone_lab.droplet(0, "lab-1"))
    assert lone_lab.cli("apply", "-auto-approve").exit_code == 0
    old = sshd.host_key
    sshd.stop()
    sshd.start(new_host_key=True)
    refused = (f"root@{sshd.address}:{sshd.port} presented host key ssh-ed25519 "
               f"{key_line_fingerprint(sshd.host_key)}, but the host_key setting trusts "
               f"{key_line_fingerprint(old)}: refused, nothing was sent. If the machine was "
               "rebuilt on purpose, put its new key in host_key (or known_hosts)")
    result = lone_lab.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        f"Error: droplet.lab-1: {refused}; plan with -refresh=false to plan without looking at "
        "droplets\n"))
    # planned without looking, a change is still refused when apply connects
    lone_lab.spec(lone_lab.droplet(0, "lab-1", trust=f'host_key: "{old}"', capacity=2))
    result = lone_lab.cli("apply", "-auto-approve", "-refresh=false")
    untimed = re.sub(r" \[[0-9.]+s\]", "", result.output)  # how long it took varies
    assert (result.exit_code, untimed.splitlines()[-5:]) == (1, [
        "droplet.lab-1: updating...", f"droplet.lab-1: FAILED: droplet lab-1: {refused}", "",
        "Failed: 0 created, 0 updated, 0 replaced, 0 destroyed; 1 failed.",
        f"  droplet.lab-1: droplet lab-1: {refused}"])


def test_a_stopped_droplet_is_a_plan_error_naming_it(lone_lab: Lab) -> None:
    sshd = lone_lab.fleet[0]
    lone_lab.spec(lone_lab.droplet(0, "lab-1"))
    assert lone_lab.cli("apply", "-auto-approve").exit_code == 0
    sshd.stop()
    result = lone_lab.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        f"Error: droplet.lab-1: root@{sshd.address}:{sshd.port}: unreachable: Connection "
        "refused; plan with -refresh=false to plan without looking at droplets\n"))
    result = lone_lab.cli("plan", "-refresh=false")
    assert (result.exit_code, result.output) == (0, "No changes. 1 resource matches the specs.\n")
    sshd.start()


def test_a_droplet_whose_docker_does_not_answer_is_refused(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import shutil
    import uuid

    from droplet_fixtures import start_fleet

    if not shutil.which("docker"):
        pytest.skip("the docker CLI is missing (scripts/setup.sh installs docker.io)")
    # this droplet's sessions point Docker at a socket where no engine listens
    dead = f"unix:///tmp/tf-no-engine-{uuid.uuid4().hex[:8]}.sock"
    fleet = start_fleet(tmp_path / "fleet", count=1, extra=f"SetEnv DOCKER_HOST={dead}\n")
    lab = Lab(ws, fleet, tmp_path / "remote")
    try:
        lab.spec(lab.droplet(0, "lab-1", docker=True))
        result = lab.cli("apply", "-auto-approve")
        assert result.exit_code == 1
        failed = next(line for line in result.output.splitlines()
                      if line.startswith("droplet.lab-1: FAILED"))
        assert re.sub(r" \[[0-9.]+s\]", "", failed) == (
            "droplet.lab-1: FAILED: droplet lab-1: Docker does not answer on it: Cannot connect "
            f"to the Docker daemon at {dead}. Is the docker daemon running? (set docker: false "
            "for a droplet without Docker)")
        lab.spec(lab.droplet(0, "lab-1", docker=False))
        assert lab.cli("apply", "-auto-approve").exit_code == 0
    finally:
        fleet[0].stop()
