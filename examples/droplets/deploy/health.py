"""Healthy when the server answers with the task's README."""

import urllib.request

with open("server.port") as fh:
    port = fh.read().strip()
with urllib.request.urlopen(f"http://127.0.0.1:{port}/README.md", timeout=5) as reply:
    assert b"Task Overview" in reply.read()
