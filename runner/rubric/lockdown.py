"""Whether a pool's containers are fit to run untrusted code, read from everything their
configuration says: no network, limits, no capabilities beyond what the root-side grading
script needs, no-new-privileges, an init process, and nothing that reaches outside the
container (host paths, devices, another container's or the host's namespaces, seccomp or
AppArmor turned off). Each problem is named in `docker run`'s words."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# what the grading script needs as root, and nothing more: hand the tree to the grading user
# (CHOWN, DAC_OVERRIDE, FOWNER), switch to it (SETUID, SETGID), and let `timeout` signal it (KILL)
HARNESS_CAPS = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETGID", "SETUID")
LOCKED_DOWN_FLAGS = ("--network none", "--memory 512m", "--pids-limit 256", "--cpus 1",
                     "--cap-drop ALL", *(f"--cap-add {c}" for c in HARNESS_CAPS),
                     "--security-opt no-new-privileges", "--init")
_NAMESPACES = (("PidMode", "PID", "--pid"), ("IpcMode", "IPC", "--ipc"),
               ("UTSMode", "UTS", "--uts"), ("UsernsMode", "user", "--userns"))
_UNCONFINED = ("seccomp=unconfined", "seccomp:unconfined", "apparmor=unconfined",
               "apparmor:unconfined", "label=disable", "label:disable",
               "systempaths=unconfined")


def lockdown_problems(host: Mapping[str, Any], mounts: Iterable[Mapping[str, Any]] = (),
                      workdir: str | None = None) -> list[str]:
    """What a container's HostConfig (and its mounts) lacks to run untrusted code, or has that
    it must not. `workdir`: grading in fresh sandboxes, which replace a volume mounted there
    with their own; any other volume would be shared by every sandbox."""
    problems = _limits(host) + _privileges(host) + _reach(host, list(mounts), workdir)
    if host.get("Privileged"):
        problems.append("is privileged")
    return problems


def _limits(host: Mapping[str, Any]) -> list[str]:
    problems = []
    if host.get("NetworkMode") != "none":
        problems.append("has a network (--network none)")
    for key, flag in (("Memory", "--memory"), ("PidsLimit", "--pids-limit")):
        if not host.get(key) or int(host[key]) <= 0:
            problems.append(f"has no {flag} limit")
    if not host.get("NanoCpus") and not host.get("CpuQuota"):
        problems.append("has no --cpus limit")
    return problems


def _privileges(host: Mapping[str, Any]) -> list[str]:
    problems = []
    if "ALL" not in caps(host.get("CapDrop")):
        problems.append("keeps Docker's default capabilities (--cap-drop ALL)")
    extra = sorted(caps(host.get("CapAdd")) - set(HARNESS_CAPS))
    if extra:
        problems.append(f"adds capabilities grading does not need ({', '.join(extra)})")
    options = host.get("SecurityOpt") or []
    if not any(o.split(":")[0].split("=")[0] == "no-new-privileges"
               and not o.endswith(("false", "=0")) for o in options):
        problems.append("lacks --security-opt no-new-privileges")
    loose = [o for o in options if o in _UNCONFINED]
    if loose:
        problems.append(f"turns confinement off (--security-opt {', '.join(loose)})")
    if not host.get("Init"):
        problems.append("has no init process (--init)")
    return problems


def _reach(host: Mapping[str, Any], mounts: list[Mapping[str, Any]],
           workdir: str | None) -> list[str]:
    """Ways out of the container: host paths, devices, shared namespaces and volumes."""
    problems = []
    host_paths = sorted({f"{m.get('Source')}:{m.get('Destination')}" for m in mounts
                         if m.get("Type") == "bind"}
                        | {":".join(str(b).split(":")[:2]) for b in host.get("Binds") or []
                           if str(b).startswith("/")}
                        | {f"{m.get('Source')}:{m.get('Target')}" for m in host.get("Mounts")
                           or [] if m.get("Type") == "bind"})
    if host_paths:
        problems.append(f"mounts host paths (-v {', '.join(host_paths)})")
    devices = [str(d.get("PathOnHost", d)) if isinstance(d, Mapping) else str(d)
               for d in host.get("Devices") or []]
    if devices or host.get("DeviceCgroupRules") or host.get("DeviceRequests"):
        problems.append(f"has devices (--device {', '.join(devices) or '...'})")
    if host.get("VolumesFrom"):
        problems.append(f"mounts other containers' volumes (--volumes-from "
                        f"{', '.join(host['VolumesFrom'])})")
    for key, what, flag in _NAMESPACES:
        mode = str(host.get(key) or "")
        if mode == "host" or mode.startswith("container:"):
            problems.append(f"shares {'the host' if mode == 'host' else mode[10:]}'s {what} "
                            f"namespace ({flag} {mode})")
    if host.get("Sysctls"):
        problems.append(f"sets kernel parameters (--sysctl {', '.join(host['Sysctls'])})")
    if host.get("CgroupParent"):
        problems.append(f"runs in another cgroup (--cgroup-parent {host['CgroupParent']})")
    if host.get("OomKillDisable"):
        problems.append("disables the OOM killer (--oom-kill-disable)")
    if workdir is not None:
        shared = sorted(v for v in named_volumes(host) if v.split(":")[1] != workdir)
        if shared:
            problems.append(f"mounts volumes every fresh sandbox would share (-v "
                            f"{', '.join(shared)}): gradings could see each other's files")
    return problems


def named_volumes(host: Mapping[str, Any]) -> list[str]:
    """`name:target` of each named volume the container asked for (`-v name:/x`, `--mount`)."""
    found = [":".join(str(b).split(":")[:2]) for b in host.get("Binds") or []
             if not str(b).startswith("/") and ":" in str(b)]
    found += [f"{m.get('Source')}:{m.get('Target')}" for m in host.get("Mounts") or []
              if m.get("Type") == "volume" and m.get("Source")]
    return found


def harness_problems(host: Mapping[str, Any]) -> list[str]:
    """Capabilities the grading script needs as root but the container dropped."""
    if "ALL" not in caps(host.get("CapDrop")):
        return []  # Docker's default set holds them all
    missing = sorted(set(HARNESS_CAPS) - caps(host.get("CapAdd")))
    if not missing:
        return []
    return ["lacks capabilities the grading script needs as root ("
            + ", ".join(f"--cap-add {c}" for c in missing) + ")"]


def caps(values: Iterable[str] | None) -> set[str]:
    return {v.upper().removeprefix("CAP_") for v in values or []}
