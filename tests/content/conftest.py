"""Docker fixtures for the content tests that grade in containers (see tests/docker_fixtures.py)."""

from docker_fixtures import docker_client, dws  # noqa: F401
