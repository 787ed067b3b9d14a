"""Docker fixtures (see tests/docker_fixtures.py) and SSH droplets (tests/droplet_fixtures.py)
for the kind tests."""

from docker_fixtures import docker_client, dws  # noqa: F401
from droplet_fixtures import fleet, lab, lone_droplet, lone_lab  # noqa: F401
