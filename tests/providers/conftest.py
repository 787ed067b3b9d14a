"""SSH droplet fixtures for the door tests (see tests/droplet_fixtures.py)."""

from droplet_fixtures import fleet, lone_droplet  # noqa: F401
