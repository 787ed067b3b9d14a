"""Keys for the SSH door: the private key that logs in (from text held in memory) and the host
keys a connection trusts (a key line, or the entries of a known_hosts file for this host)."""

from __future__ import annotations

import base64
import binascii
import io
from typing import Any

from runner.errors import ProviderError
from runner.providers.ssh.door import Endpoint, PrivateKey

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
             "ssh-rsa")


def check_key_line(line: str) -> str | None:
    """What is wrong with a public key line (`ssh-ed25519 AAAA... [comment]`), or None."""
    parts = line.split()
    if len(parts) < 2:
        return "expected a key line like 'ssh-ed25519 AAAA...' (the key type, then its base64)"
    if parts[0] not in KEY_TYPES:
        return f"unknown key type {parts[0]!r}; expected one of: {', '.join(KEY_TYPES)}"
    try:
        base64.b64decode(parts[1], validate=True)
    except (ValueError, binascii.Error):
        return "the key's base64 does not decode"
    return None


def load_private_key(key: PrivateKey) -> Any:
    """A paramiko key from the text (OpenSSH or PEM; Ed25519, ECDSA or RSA; not encrypted).
    A failure names where the key came from, never its content."""
    import paramiko

    for cls in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return cls.from_private_key(io.StringIO(key.text))
        except paramiko.PasswordRequiredException:
            raise ProviderError(f"the private key from {key.origin} is encrypted: taskform needs "
                                "one without a passphrase (keep it in a secret variable)") from None
        except (paramiko.SSHException, ValueError, TypeError, IndexError):
            continue
    raise ProviderError(f"the private key from {key.origin} is not an OpenSSH or PEM private key "
                        "(Ed25519, ECDSA or RSA)")


def host_name(ep: Endpoint) -> str:
    """How known_hosts names the host: `addr`, or `[addr]:port` off port 22."""
    return ep.address if ep.port == 22 else f"[{ep.address}]:{ep.port}"


def host_keys_for(ep: Endpoint, into: Any) -> None:
    """Put the keys `ep.trust` accepts for this host into paramiko's `HostKeys` `into`."""
    import paramiko

    name = host_name(ep)
    if ep.trust.host_key:
        problem = check_key_line(ep.trust.host_key)
        if problem:
            raise ProviderError(f"{ep.name}: host_key: {problem}")
        kind, data = ep.trust.host_key.split()[:2]
        into.add(name, kind, paramiko.PKey.from_type_string(kind, base64.b64decode(data)))
    elif ep.trust.known_hosts is not None:
        try:
            known = paramiko.HostKeys(str(ep.trust.known_hosts))
        except (OSError, paramiko.SSHException) as exc:
            raise ProviderError(f"known_hosts file {ep.trust.known_hosts} cannot be read: "
                                f"{getattr(exc, 'strerror', None) or exc}") from None
        for kind, key in (known.lookup(name) or {}).items():
            into.add(name, kind, key)
