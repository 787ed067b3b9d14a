"""A run's connections: made once per (part, endpoint), and a factory may ask for the
connections it builds on (a grading pool spanning engines connects to each while it is made)."""

from __future__ import annotations

import threading

from runner.connections import Connections


def test_a_factory_may_ask_for_another_connection() -> None:
    connections = Connections()
    made: list[str] = []

    def engine() -> str:
        made.append("engine")
        return "engine"

    def pool() -> str:
        made.append("pool")
        return "pool on " + connections.get("docker", "lab-1", engine)

    done = threading.Event()
    result: list[str] = []
    thread = threading.Thread(target=lambda: (result.append(connections.get("pool", "p", pool)),
                                              done.set()), daemon=True)
    thread.start()
    assert done.wait(timeout=5), "a nested get deadlocked"
    assert result == ["pool on engine"]
    assert connections.get("pool", "p", pool) == "pool on engine"
    assert made == ["pool", "engine"]  # each made once


def test_closed_newest_first() -> None:
    closed: list[str] = []

    class Client:
        def __init__(self, name: str):
            self.name = name

        def close(self) -> None:
            closed.append(self.name)

    connections = Connections()
    connections.get("pool", "p", lambda: (connections.get("docker", "e", lambda: Client("engine")),
                                          Client("pool"))[1])
    connections.close()
    assert closed == ["pool", "engine"]
