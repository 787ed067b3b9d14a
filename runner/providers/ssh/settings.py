"""The SSH door's settings (`ssh:` in taskform.yaml)."""

from __future__ import annotations

from pydantic import Field

from runner.strict import StrictModel


class SshSettings(StrictModel):
    connect_timeout: float = Field(default=10.0, gt=0, le=600, description="seconds to connect, "
                                   "exchange keys and log in before a host counts as unreachable")
    command_timeout: float = Field(default=600.0, gt=0, description="seconds a remote command "
                                   "may run when nothing sets its own timeout")
    max_sessions: int = Field(default=8, ge=1, le=64, description="commands and file sessions "
                              "at once over one connection (OpenSSH's MaxSessions is 10)")
    keepalive: float = Field(default=30.0, ge=0, description="seconds between keepalives on an "
                             "idle connection (0: none)")
