"""Docker fixtures for the example tests (see tests/docker_fixtures.py)."""

from docker_fixtures import docker_client, dws  # noqa: F401
