"""What a deployment's scripts may not do on a shared droplet: the seed's own kill.sh and
cleanup.sh are refused line by line; scripts scoped to their deployment pass."""

from __future__ import annotations

import pytest

from runner.deploy.scripts import ADVICE, check, refusal

SEED_KILL = """#!/bin/bash
# Stop and remove all Docker containers
docker stop $(docker ps -aq) 2>/dev/null || true
docker rm $(docker ps -aq) 2>/dev/null || true
docker system prune -f
"""
SEED_CLEANUP = """#!/bin/bash
# Kill specific processes
pkill -f "your_application"
rm -rf /tmp/app_data
"""

REFUSED = [
    ("docker system prune -af", "prunes Docker on the whole machine (every tenant's stopped "
     "containers, images, volumes or networks)"),
    ("docker image prune -f", "prunes Docker on the whole machine (every tenant's stopped "
     "containers, images, volumes or networks)"),
    ("docker volume rm $(docker volume ls -q)", "lists every container (or volume, network, "
     "image) on the machine, not only this deployment's: add --filter label=$TASKFORM_LABEL"),
    ("docker ps -q | xargs docker kill", "lists every container (or volume, network, image) on "
     "the machine, not only this deployment's: add --filter label=$TASKFORM_LABEL"),
    ("killall python3", "killall kills processes by name on the whole machine (other tenants' "
     "too): keep a pid file in the deployment's folder and kill that pid"),
    ("sudo reboot", "reboot stops the whole machine"),
    ("rm -rf ~/cache", "removes ~/cache, outside the deployment's folder"),
    ("cd data && rm -f ../../other/x", "removes ../../other/x, outside the deployment's folder"),
    ('rm -rf "$HOME/x"', 'removes "$HOME/x", outside the deployment\'s folder'),
    ('rm -rf "$TASKFORM_DIR/../x"', 'removes "$TASKFORM_DIR/../x", outside the deployment\'s '
     "folder"),
]
ALLOWED = [
    "docker rm -f $(docker ps -aq --filter label=$TASKFORM_LABEL) 2>/dev/null || true",
    "docker compose down -v",
    'kill "$(cat app.pid)" 2>/dev/null || true',
    'rm -rf data logs/*.log "$TASKFORM_DIR/cache" ./tmp',
    "rm -f app.pid # rm -rf / is only a comment",
    "echo 'docker system prune' > notes.txt # quoted words are still words: see below",
]


@pytest.mark.parametrize(("line", "why"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_line_reaching_beyond_the_deployment_is_refused(line, why) -> None:  # type: ignore[no-untyped-def]
    findings = check(f"#!/bin/sh\n{line}\n", resets=True)
    assert [f.describe("kill.sh") for f in findings] == [f"kill.sh:2: `{line}` {why}"]


@pytest.mark.parametrize("line", ALLOWED[:-1])
def test_a_line_scoped_to_the_deployment_passes(line) -> None:  # type: ignore[no-untyped-def]
    assert check(f"#!/bin/sh\n{line}\n", resets=True) == []


def test_words_in_quotes_are_not_told_from_commands() -> None:
    # a guard, not a shell parser: text that reads like a prune is refused even when quoted
    assert [f.line for f in check(ALLOWED[-1], resets=True)] == [1]


def test_only_the_reset_script_is_held_to_its_folder() -> None:
    assert check("rm -rf /tmp/build-cache\n", resets=False) == []
    assert [f.line for f in check("rm -rf /tmp/build-cache\n", resets=True)] == [1]
    assert [f.line for f in check("docker system prune -f\n", resets=False)] == [1]


def test_the_seeds_scripts_are_refused_with_every_line_named() -> None:
    findings = check(SEED_KILL, resets=True) + check(SEED_CLEANUP, resets=True)
    assert [f.describe("kill.sh") for f in findings] == [
        "kill.sh:3: `docker stop $(docker ps -aq) 2>/dev/null || true` lists every container "
        "(or volume, network, image) on the machine, not only this deployment's: add --filter "
        "label=$TASKFORM_LABEL",
        "kill.sh:4: `docker rm $(docker ps -aq) 2>/dev/null || true` lists every container (or "
        "volume, network, image) on the machine, not only this deployment's: add --filter "
        "label=$TASKFORM_LABEL",
        "kill.sh:5: `docker system prune -f` prunes Docker on the whole machine (every tenant's "
        "stopped containers, images, volumes or networks)",
        "kill.sh:3: `pkill -f \"your_application\"` pkill kills processes by name on the whole "
        "machine (other tenants' too): keep a pid file in the deployment's folder and kill "
        "that pid",
        "kill.sh:4: `rm -rf /tmp/app_data` removes /tmp/app_data, outside the deployment's folder",
    ]
    assert refusal("kill.sh", findings[2:3]) == (
        "kill.sh is refused before anything is sent: kill.sh:5: `docker system prune -f` prunes "
        "Docker on the whole machine (every tenant's stopped containers, images, volumes or "
        f"networks). {ADVICE}")
