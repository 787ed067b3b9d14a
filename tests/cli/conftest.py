"""Docker fixtures for the CLI tests (see tests/docker_fixtures.py)."""

from docker_fixtures import docker_client, dws  # noqa: F401
