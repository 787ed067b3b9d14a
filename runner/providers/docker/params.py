"""docker-run style flags (`-p 8080:80`, `--memory=256m`, `--cap-drop ALL`) parsed into the
keyword arguments of the Docker SDK's `containers.create`. Pure: no engine is touched.

The result is JSON-able (it is fingerprinted and hashed into the container's config label);
`sdk_arguments` turns the few values that need SDK types (ulimits) into them at call time."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from typing import Any

Handler = Callable[[dict[str, Any], str], None]


class ParamError(ValueError):
    """A flag taskform does not support, or a value it cannot read."""


def _set(key: str, convert: Callable[[str], Any] = str) -> Handler:
    def handle(out: dict[str, Any], value: str) -> None:
        out[key] = convert(value)
    return handle


def _append(key: str) -> Handler:
    def handle(out: dict[str, Any], value: str) -> None:
        out.setdefault(key, []).append(value)
    return handle


def _flag(key: str) -> Handler:
    def handle(out: dict[str, Any], value: str) -> None:
        out[key] = True
    return handle


def _pair(value: str, what: str) -> tuple[str, str]:
    key, sep, val = value.partition("=")
    if not sep or not key:
        raise ParamError(f"expected {what} as KEY=VALUE, got {value!r}")
    return key, val


def _env(out: dict[str, Any], value: str) -> None:
    key, val = _pair(value, "an environment variable")
    out.setdefault("environment", {})[key] = val


def _label(out: dict[str, Any], value: str) -> None:
    key, val = _pair(value, "a label")
    if key.startswith("taskform."):
        raise ParamError(f"label {key!r}: taskform.* labels are set by taskform itself")
    out.setdefault("labels", {})[key] = val


def _publish(out: dict[str, Any], value: str) -> None:
    parts = value.split(":")
    container = parts[-1] if "/" in parts[-1] else parts[-1] + "/tcp"
    if not container.split("/")[0].isdigit():
        raise ParamError(f"expected a port mapping like 8080:80 or 127.0.0.1:8080:80, got {value!r}")
    ports = out.setdefault("ports", {})
    if len(parts) == 1:
        ports[container] = None
    elif len(parts) == 2:
        ports[container] = int(parts[0]) if parts[0].isdigit() else None
    elif len(parts) == 3:
        ports[container] = [parts[0], int(parts[1])] if parts[1].isdigit() else [parts[0]]
    else:
        raise ParamError(f"expected a port mapping like 8080:80 or 127.0.0.1:8080:80, got {value!r}")


def _volume(out: dict[str, Any], value: str) -> None:
    parts = value.split(":")
    if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1].startswith("/"):
        raise ParamError(f"expected a volume like NAME:/path, /host/path:/path or "
                         f"/host/path:/path:ro, got {value!r}")
    out.setdefault("volumes", []).append(value)


def _tmpfs(out: dict[str, Any], value: str) -> None:
    path, _, options = value.partition(":")
    if not path.startswith("/"):
        raise ParamError(f"expected a tmpfs mount like /tmp or /tmp:size=64m, got {value!r}")
    out.setdefault("tmpfs", {})[path] = options


def _ulimit(out: dict[str, Any], value: str) -> None:
    name, limits = _pair(value, "a ulimit")
    soft, _, hard = limits.partition(":")
    try:
        entry = {"name": name, "soft": int(soft), "hard": int(hard or soft)}
    except ValueError:
        raise ParamError(f"expected a ulimit like nofile=1024:2048, got {value!r}") from None
    out.setdefault("ulimits", []).append(entry)


def _cpus(out: dict[str, Any], value: str) -> None:
    try:
        out["nano_cpus"] = int(float(value) * 1e9)
    except ValueError:
        raise ParamError(f"expected a number of CPUs like 1.5, got {value!r}") from None


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ParamError(f"expected a whole number, got {value!r}") from None


def _restart(out: dict[str, Any], value: str) -> None:
    name, _, count = value.partition(":")
    if name not in ("no", "always", "unless-stopped", "on-failure"):
        raise ParamError(f"expected no, always, unless-stopped or on-failure[:N], got {value!r}")
    policy: dict[str, Any] = {"Name": name}
    if count:
        policy["MaximumRetryCount"] = _int(count)
    out["restart_policy"] = policy


def _add_host(out: dict[str, Any], value: str) -> None:
    host, sep, ip = value.partition(":")
    if not sep or not host or not ip:
        raise ParamError(f"expected HOST:IP, got {value!r}")
    out.setdefault("extra_hosts", {})[host] = ip


def _entrypoint(out: dict[str, Any], value: str) -> None:
    out["entrypoint"] = shlex.split(value) if value else [""]


def _ignored(out: dict[str, Any], value: str) -> None:
    """`-d`: taskform always starts containers detached."""


# flag -> (takes a value, handler). Aliases share the handler.
FLAGS: dict[str, tuple[bool, Handler]] = {
    "--publish": (True, _publish), "-p": (True, _publish),
    "--env": (True, _env), "-e": (True, _env),
    "--volume": (True, _volume), "-v": (True, _volume),
    "--rm": (False, _flag("auto_remove")),
    "--network": (True, _set("network_mode")), "--net": (True, _set("network_mode")),
    "--memory": (True, _set("mem_limit")), "-m": (True, _set("mem_limit")),
    "--memory-swap": (True, _set("memswap_limit")),
    "--cpus": (True, _cpus),
    "--pids-limit": (True, _set("pids_limit", _int)),
    "--cap-drop": (True, _append("cap_drop")),
    "--cap-add": (True, _append("cap_add")),
    "--security-opt": (True, _append("security_opt")),
    "--init": (False, _flag("init")),
    "--user": (True, _set("user")), "-u": (True, _set("user")),
    "--workdir": (True, _set("working_dir")), "-w": (True, _set("working_dir")),
    "--tmpfs": (True, _tmpfs),
    "--read-only": (False, _flag("read_only")),
    "--ulimit": (True, _ulimit),
    "--entrypoint": (True, _entrypoint),
    "--label": (True, _label), "-l": (True, _label),
    "--hostname": (True, _set("hostname")), "-h": (True, _set("hostname")),
    "--platform": (True, _set("platform")),
    "--add-host": (True, _add_host),
    "--shm-size": (True, _set("shm_size")),
    "--restart": (True, _restart),
    "--interactive": (False, _flag("stdin_open")), "-i": (False, _flag("stdin_open")),
    "--tty": (False, _flag("tty")), "-t": (False, _flag("tty")),
    "--detach": (False, _ignored), "-d": (False, _ignored),
}
REFUSED = {
    "--name": "container names are deterministic (set container_name on the step instead)",
    "--privileged": "taskform does not start privileged containers",
}


def supported_flags() -> list[str]:
    return sorted(f for f in FLAGS if f.startswith("--"))


def tokens(parameters: Iterable[str]) -> list[str]:
    """task-sync writes both `["-p", "8080:80"]` and `["-p 8080:80"]`: an item that starts
    with a flag is split like a shell would; a value item (`/bin/sh -c`) is kept whole."""
    out: list[str] = []
    for item in parameters:
        if not item.lstrip().startswith("-"):
            out.append(item)
            continue
        try:
            out.extend(shlex.split(item))
        except ValueError as exc:
            raise ParamError(f"cannot split {item!r}: {exc}") from None
    return out


def parse_parameters(parameters: Iterable[str]) -> dict[str, Any]:
    """The SDK keyword arguments for docker-run flags; raise ParamError naming a bad flag."""
    out: dict[str, Any] = {}
    words = tokens(parameters)
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        name, value = _split(word)
        if name in REFUSED:
            raise ParamError(f"{name} is not allowed: {REFUSED[name]}")
        if name not in FLAGS and _is_short_cluster(name):
            for letter in name[1:]:
                FLAGS[f"-{letter}"][1](out, "")
            continue
        if name not in FLAGS:
            what = f"unsupported docker run flag {name!r}" if name.startswith("-") else \
                f"unexpected argument {name!r} (the image and command are separate settings)"
            raise ParamError(f"{what}; supported: {', '.join(supported_flags())}")
        takes_value, handler = FLAGS[name]
        if takes_value and value is None:
            if i >= len(words):
                raise ParamError(f"{name} needs a value")
            value = words[i]
            i += 1
        elif not takes_value and value is not None:
            raise ParamError(f"{name} takes no value, got {value!r}")
        handler(out, value or "")
    return out


def _split(word: str) -> tuple[str, str | None]:
    if word.startswith("--") and "=" in word:
        name, _, value = word.partition("=")
        return name, value
    if word.startswith("-") and not word.startswith("--") and len(word) > 2:
        short = word[:2]
        if short in FLAGS and FLAGS[short][0]:
            return short, word[2:].removeprefix("=")
    return word, None


def _is_short_cluster(word: str) -> bool:
    """`-it`, `-dit`: several value-less short flags together."""
    return (len(word) > 2 and word.startswith("-") and not word.startswith("--")
            and all(f"-{c}" in FLAGS and not FLAGS[f"-{c}"][0] for c in word[1:]))


def sdk_arguments(params: dict[str, Any]) -> dict[str, Any]:
    """`parse_parameters` output as the SDK wants it (ulimits as `docker.types.Ulimit`)."""
    out = dict(params)
    if "ulimits" in out:
        from docker.types import Ulimit

        out["ulimits"] = [Ulimit(name=u["name"], soft=u["soft"], hard=u["hard"])
                          for u in out["ulimits"]]
    if "ports" in out:
        out["ports"] = {k: tuple(v) if isinstance(v, list) else v for k, v in out["ports"].items()}
    return out
