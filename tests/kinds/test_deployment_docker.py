"""A deployment whose run starts Docker containers on its droplet's engine (the droplets here
share this machine's engine): containers labelled for it are its, and only those are removed,
on a rerun and on destroy. Another tenant's container is never touched."""

from __future__ import annotations

import subprocess
import uuid

import pytest
from docker_fixtures import BASE_IMAGE
from droplet_fixtures import Lab

pytestmark = [pytest.mark.ssh, pytest.mark.docker]

RUN = f"""#!/bin/sh
set -e
docker run -d --label "$TASKFORM_LABEL" --network none {BASE_IMAGE} sleep 600 > container.id
echo started
"""
KILL = "#!/bin/sh\n# nothing: taskform removes the containers labelled $TASKFORM_LABEL itself\n"
WEB = ("apiVersion: taskform/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n"
       "  source: {dir: app}\n  droplet: lab-1\n  timeout: 60s\n"
       "  health: {command: 'docker ps -q --filter id=$(cat container.id) --filter "
       "status=running | grep -q .'}\n")


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120,
                          check=True).stdout


def labelled(label: str) -> list[str]:
    return docker("ps", "-aq", "--filter", f"label={label}").split()


def test_only_the_deployments_labelled_containers_are_removed(lab: Lab, docker_client) -> None:  # type: ignore[no-untyped-def]
    tenant = f"taskform.test=tenant-{uuid.uuid4().hex[:8]}"
    other = docker("run", "-d", "--label", tenant, "--network", "none", BASE_IMAGE,
                   "sleep", "600").strip()
    try:
        lab.app(run=RUN, kill=KILL)
        lab.spec(lab.droplet(0, "lab-1", docker=True) + "---\n" + WEB)
        result = lab.cli("apply", "-auto-approve")
        assert result.exit_code == 0, result.output
        out = lab.state().records()["deployment.web[0]"].outputs
        assert lab.state().records()["droplet.lab-1"].outputs["docker_version"]
        mine = labelled(out["label"])
        assert len(mine) == 1
        lab.write("app/index.html", "changed\n")
        assert lab.cli("apply", "-auto-approve").exit_code == 0
        again = labelled(out["label"])
        assert len(again) == 1 and again != mine  # the old one was removed before run ran
        assert lab.cli("destroy", "-auto-approve").exit_code == 0
        assert labelled(out["label"]) == []
        assert labelled(tenant) == [other[:12]]
    finally:
        docker("rm", "-f", other)
