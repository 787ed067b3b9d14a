"""The deploy gate reads run.sh and kill.sh: the seed's machine-wide cleanup (a prune, removing
whatever `docker ps -q` lists, deleting a fixed path) fails it with the line; a script scoped to
its own directory, Compose project and label passes."""

from __future__ import annotations

import pytest

from runner.content.deploy_scripts import deploy_problems, script_problems

SCOPED = """#!/bin/sh
# Remove what run.sh made, and nothing else.
DIR="$(cd "$(dirname "$0")" && pwd)"
PROJECT="tf-items"
cd "$DIR" && docker compose -p "$PROJECT" down --volumes --remove-orphans --rmi local || true
docker rm -f $(docker ps -aq --filter "label=taskform.task=items") 2>/dev/null || true
docker volume rm $(docker volume ls -q --filter label=taskform.task=items) || true
docker container prune -f --filter label=taskform.task=items
rm -rf "$DIR/data" logs
cd / && rm -rf -- "$DIR"
echo "Cleanup completed"
"""

PRUNE = ("a machine-wide prune removes other tasks' containers, images and volumes on the same "
         "host; remove only this task's (`docker compose down --volumes`, or filter by its label)")
EVERY = ("acts on every container (or image, volume, network) the listing finds on the host, "
         "not only this task's; filter it by the task's label (`--filter label=...`) or use "
         "`docker compose down`")


def test_a_scoped_kill_script_passes() -> None:
    assert script_problems("kill.sh", SCOPED) == []
    assert deploy_problems({"run.sh": "#!/bin/sh\ndocker compose up -d\n", "kill.sh": SCOPED},
                           "docker") == []


@pytest.mark.parametrize("line, why", [
    ("docker system prune -a --volumes -f", PRUNE),
    ("docker image prune -af", PRUNE),
    ("docker rm -f $(docker ps -aq)", EVERY),
    ("docker stop $(docker ps -q) 2>/dev/null || true", EVERY),
    ("docker rm -f `docker ps -aq`", EVERY),
    ("docker ps -aq | xargs docker rm -f", EVERY),
    ("docker rmi $(docker images -q)", EVERY),
    ("rm -rf /root/task", "removes /root/task, outside the task's own directory; refer to it "
     "through the script's location (DIR=\"$(cd \"$(dirname \"$0\")\" && pwd)\")"),
    ("rm -rf \"$DIR/../other-task\"", "removes $DIR/../other-task, which climbs out of the "
     "task's own directory"),
    ("rm -rf \"$TASK_HOME\"", "removes $TASK_HOME, which the script does not derive from its "
     "own directory (dirname \"$0\")"),
])
def test_an_unscoped_line_fails_the_gate_naming_it(line: str, why: str) -> None:
    script = SCOPED.replace('echo "Cleanup completed"', line)
    assert script_problems("kill.sh", script) == [f"kill.sh:11: `{line}`: {why}"]


def test_a_relative_removal_needs_the_script_to_be_in_its_directory() -> None:
    script = "#!/bin/sh\nrm -rf data\n"
    assert script_problems("kill.sh", script) == [
        "kill.sh:2: `rm -rf data`: removes data relative to wherever the script is run from; "
        "cd to its own directory first (cd \"$(dirname \"$0\")\")"]
    assert script_problems("kill.sh", '#!/bin/sh\ncd "$(dirname "$0")"\nrm -rf data\n') == []


def test_the_seeds_kill_script_fails_on_every_line_that_reaches_beyond_the_task() -> None:
    seed = """#!/bin/bash
# Stop and remove all Docker containers
docker stop $(docker ps -aq) 2>/dev/null || true
docker rm $(docker ps -aq) 2>/dev/null || true
docker system prune -f
"""
    assert [p.split(": `")[0] for p in script_problems("kill.sh", seed)] == [
        "kill.sh:3", "kill.sh:4", "kill.sh:5"]


def test_continuation_lines_and_comments() -> None:
    script = "#!/bin/sh\n# docker system prune -f is what we never do\ndocker system \\\n  prune -f\n"
    assert script_problems("kill.sh", script) == [f"kill.sh:3: `docker system prune -f`: {PRUNE}"]


def test_run_sh_is_read_by_the_same_rules() -> None:
    problems = deploy_problems({"run.sh": "#!/bin/sh\ndocker system prune -f\n",
                                "kill.sh": SCOPED}, "docker")
    assert problems == [f"run.sh:2: `docker system prune -f`: {PRUNE}"]
