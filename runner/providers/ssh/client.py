"""The SSH door's implementation over paramiko: one connection per host and run, host keys
always checked, commands with a deadline enforced on the host, files over SFTP.

paramiko directly rather than fabric: fabric's `Connection` accepts unknown host keys
(`AutoAddPolicy`) and reads the user's ~/.ssh files; here the host key is exactly the one the
spec trusts, and nothing else decides. paramiko is imported inside the functions that use it."""

from __future__ import annotations

import math
import re
import shlex
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from runner.errors import Cancelled, ProviderError
from runner.providers.call import Call
from runner.providers.ssh.door import (
    CommandResult,
    Endpoint,
    HostKeyMismatch,
    RemoteFiles,
    Stream,
    key_line_fingerprint,
    sha256_fingerprint,
)
from runner.providers.ssh.keys import host_keys_for, load_private_key
from runner.providers.ssh.pump import PID_MARK, Pump
from runner.providers.ssh.settings import SshSettings
from runner.providers.ssh.sftp import SftpFiles

KILL_AFTER_SECONDS = 5  # the host's `timeout -k`: TERM first, KILL this much later
LOCAL_GRACE_SECONDS = 10.0  # past the deadline, how long the host gets to report the kill
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def wrap(command: str, seconds: float, env: Mapping[str, str] | None = None) -> str:
    """The command as the host runs it: its process group's id on stderr's first line (so a
    cancellation can kill the group), then under coreutils' `timeout`, which runs it in a
    group of its own and kills the whole group at the deadline, whatever happens here."""
    exports = []
    for name, value in (env or {}).items():
        if not _ENV_NAME.match(name):
            raise ValueError(f"environment variable name {name!r} is not valid")
        exports.append(f"export {name}={shlex.quote(value)}; ")
    limit = max(1, math.ceil(seconds))
    return (f"printf '{PID_MARK}%s\\n' \"$$\" >&2; {''.join(exports)}"
            f"exec timeout -k {KILL_AFTER_SECONDS} {limit} sh -c {shlex.quote(command)}")


class SshHost:
    """A `Host` over paramiko. Thread-safe: commands and SFTP sessions share one connection,
    at most `max_sessions` at once (sshd refuses more than its MaxSessions)."""

    def __init__(self, endpoint: Endpoint, settings: SshSettings):
        self._endpoint, self.settings = endpoint, settings
        self._lock = threading.Lock()
        self._client: Any = None
        self._presented = ""
        self._sessions = threading.BoundedSemaphore(settings.max_sessions)

    @property
    def endpoint(self) -> Endpoint:
        return self._endpoint

    def host_key(self) -> str:
        self._transport()
        return self._presented

    def _transport(self) -> Any:
        """The live transport, connecting (again, if the last one dropped) on demand."""
        with self._lock:
            client = self._client
            if client is None or not client.get_transport() or \
                    not client.get_transport().is_active():
                self._client = client = self._connect()
            return client.get_transport()

    def _connect(self) -> Any:
        import paramiko

        ep, seconds = self._endpoint, self.settings.connect_timeout
        client = paramiko.SSHClient()
        policy = _Policy(ep.trust.accept_new)
        host_keys_for(ep, client.get_host_keys())
        client.set_missing_host_key_policy(policy)
        try:
            client.connect(ep.address, ep.port, username=ep.user,
                           pkey=load_private_key(ep.key), timeout=seconds,
                           banner_timeout=seconds, auth_timeout=seconds, channel_timeout=seconds,
                           look_for_keys=False, allow_agent=False)
        except paramiko.BadHostKeyException as exc:
            client.close()
            raise HostKeyMismatch(
                f"{ep.name} presented host key {exc.key.get_name()} "
                f"{sha256_fingerprint(exc.key.asbytes())}, but {ep.trust.describe()} trusts "
                f"{sha256_fingerprint(exc.expected_key.asbytes())}: refused, nothing was sent. "
                "If the machine was rebuilt on purpose, put its new key in host_key (or "
                "known_hosts)") from None
        except Exception as exc:  # noqa: BLE001 - every failure to connect is one message
            client.close()
            raise ProviderError(f"{ep.name}: {_why(exc, ep, seconds, policy)}") from None
        transport = client.get_transport()
        key = transport.get_remote_server_key()
        self._presented = f"{key.get_name()} {key.get_base64()}"
        if self.settings.keepalive:
            transport.set_keepalive(max(1, int(self.settings.keepalive)))
        return client

    @contextmanager
    def _session(self) -> Iterator[Any]:
        with self._sessions:
            transport = self._transport()
            try:
                channel = transport.open_session(timeout=self.settings.connect_timeout)
            except Exception as exc:  # noqa: BLE001 - the connection broke between commands
                raise ProviderError(f"{self._endpoint.name}: could not open a session: "
                                    f"{exc or type(exc).__name__}") from None
            try:
                yield channel
            finally:
                channel.close()

    def run(self, command: str, call: Call, *, timeout: float | None = None,
            env: Mapping[str, str] | None = None, stdin: bytes | None = None) -> CommandResult:
        seconds = timeout or self.settings.command_timeout
        remaining = call.remaining()
        if remaining is not None:
            seconds = min(seconds, max(1.0, remaining))
        started = time.monotonic()
        with self._session() as channel:
            channel.exec_command(wrap(command, seconds, env))
            if stdin:
                channel.sendall(stdin)
            channel.shutdown_write()
            pump = Pump(call)
            timed_out = pump.until_exit(channel, started + seconds + LOCAL_GRACE_SECONDS)
            stopped = timed_out or call.cancelled.is_set()
            code = -1 if stopped else channel.recv_exit_status()
        if stopped and pump.pid:  # after its session is given back: the kill needs one
            self._kill(pump.pid)
        if call.cancelled.is_set():
            raise Cancelled(call.what)
        elapsed = time.monotonic() - started
        timed_out = timed_out or (code in (124, 137) and elapsed >= seconds - 0.5)
        return CommandResult(code, pump.out.text(), pump.err.text(), timed_out, elapsed)

    def _kill(self, pid: int) -> None:
        """Best effort: the command's process group, TERM then KILL, from a session of its own."""
        try:
            with self._session() as channel:
                channel.exec_command(f"kill -TERM -- -{pid} 2>/dev/null; sleep 2; "
                                     f"kill -KILL -- -{pid} 2>/dev/null; true")
                channel.recv_exit_status()
        except ProviderError:
            pass

    @contextmanager
    def files(self) -> Iterator[RemoteFiles]:
        with self._sessions:
            transport = self._transport()
            import paramiko

            sftp = paramiko.SFTPClient.from_transport(transport)
            try:
                yield SftpFiles(sftp)
            finally:
                sftp.close()

    def dial(self, command: str) -> Stream:
        channel = self._transport().open_session(timeout=self.settings.connect_timeout)
        channel.exec_command(command)
        return channel  # type: ignore[no-any-return]

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None


class _Policy:
    """What to do with a host key nobody trusts yet: take it (accept_new) or refuse it; either
    way remember it, so a refusal can say which key the host presented."""

    def __init__(self, accept_new: bool):
        self.accept_new, self.presented = accept_new, ""

    def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
        import paramiko

        self.presented = f"{key.get_name()} {key.get_base64()}"
        if not self.accept_new:
            raise paramiko.SSHException("unknown host key")
        client.get_host_keys().add(hostname, key.get_name(), key)


def _why(exc: Exception, ep: Endpoint, seconds: float, policy: _Policy) -> str:
    """A failure to connect, in words; never the key itself."""
    import paramiko

    if policy.presented and not policy.accept_new:
        return (f"presented host key {key_line_fingerprint(policy.presented)} "
                f"({policy.presented.split()[0]}), which {ep.trust.describe()} does not hold: "
                "refused (add it there, or set accept_new: true to take the key a new host "
                "presents the first time)")
    if isinstance(exc, paramiko.AuthenticationException):
        return f"refused the login of {ep.user} with the key from {ep.key.origin}"
    if isinstance(exc, TimeoutError | paramiko.ssh_exception.NoValidConnectionsError) or \
            "timed out" in str(exc).lower():
        if isinstance(exc, paramiko.ssh_exception.NoValidConnectionsError):
            return f"unreachable: {_connection_error(exc)}"
        return f"unreachable: no answer within {seconds:g}s"
    if isinstance(exc, ProviderError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"unreachable: {exc.strerror or exc}"
    return f"SSH failed: {exc or type(exc).__name__}"


def _connection_error(exc: Any) -> str:
    errors = getattr(exc, "errors", {}) or {}
    for error in errors.values():
        return str(getattr(error, "strerror", None) or error)
    return str(exc)
