"""SSH droplet fixtures for the door tests (see tests/droplet_fixtures.py), and a Docker
workspace for the engine door's (tests/docker_fixtures.py)."""

from docker_fixtures import docker_client, dws  # noqa: F401
from droplet_fixtures import fleet, lone_droplet  # noqa: F401
