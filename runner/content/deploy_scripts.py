"""The deploy gate: a task of a Docker-based stack ships `run.sh` and `kill.sh`, and neither
reaches beyond the task. The seed's kill.sh ran `docker system prune -a --volumes -f` on
droplets that host several tasks; here a machine-wide prune, a removal fed by an unfiltered
`docker ps -q` (or `docker images -q`, ...), or an `rm` outside the script's own directory fails
the gate, naming the line. Read statically: nothing is run."""

from __future__ import annotations

import re
from collections.abc import Mapping

SCRIPTS = ("run.sh", "kill.sh")
_PRUNE = re.compile(r"\bdocker\s+(?:system|container|image|volume|network|builder)\s+prune\b")
_LISTING = re.compile(r"\bdocker\s+(?:ps|container\s+(?:ls|list|ps)|images|image\s+(?:ls|list)|"
                      r"volume\s+(?:ls|list)|network\s+(?:ls|list))\b([^)`|;&]*)")
_REMOVAL = re.compile(r"\bdocker\s+(?:rm|rmi|stop|kill|(?:container|image|volume|network)\s+"
                      r"(?:rm|remove|stop|kill))\b")
_SCOPED = re.compile(r"(?:--filter|-f)[= ]\s*['\"]?(?:label|name)=")
_OWN_DIR = re.compile(r"dirname|BASH_SOURCE")
_ASSIGN = re.compile(r"^(?:export\s+|readonly\s+|local\s+)?([A-Za-z_]\w*)=(.*)$")
_CD_OWN = re.compile(r"^cd\s+(?:--\s+)?(\S+)")


def deploy_problems(files: Mapping[str, str], deploy: str) -> list[str]:
    """What keeps a task from deploying safely; nothing to check when it does not deploy."""
    if deploy != "docker":
        return []
    problems = [f"{name} is missing: a task of a Docker-based stack must ship run.sh (start it "
                "and wait for its health check) and kill.sh (remove only what run.sh made)"
                for name in SCRIPTS if not files.get(name, "").strip()]
    for name in SCRIPTS:
        if files.get(name, "").strip():
            problems += script_problems(name, files[name])
    return problems


def script_problems(name: str, text: str) -> list[str]:
    """Every line of a script that reaches beyond the task's own directory and containers."""
    own: set[str] = set()
    in_own_dir = False
    problems = []
    for number, line in logical_lines(text):
        assigned = _ASSIGN.match(line)
        if assigned and not line.startswith(("docker", "rm ")):
            if _OWN_DIR.search(assigned[2]) or _starts_in(assigned[2], own) or \
                    (in_own_dir and re.search(r"\$\(pwd\)|\$PWD", assigned[2])):
                own.add(assigned[1])
            continue
        cd = _CD_OWN.match(line)
        if cd:
            in_own_dir = bool(_OWN_DIR.search(line) or _starts_in(cd[1], own))
        why = _machine_wide(line) or _removal_outside(line, own, in_own_dir)
        if why:
            problems.append(f"{name}:{number}: `{line}`: {why}")
    return problems


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, command text) with continuations joined and comments dropped."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = _strip_comment(raw).rstrip()
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = " ".join((pending + line).split())
        pending = ""
        if joined:
            out.append((start, joined))
    return out


def _machine_wide(line: str) -> str:
    if _PRUNE.search(line) and not _SCOPED.search(line):
        return ("a machine-wide prune removes other tasks' containers, images and volumes on "
                "the same host; remove only this task's (`docker compose down --volumes`, or "
                "filter by its label)")
    if _REMOVAL.search(line) or re.search(r"\|\s*xargs\s+(?:-\S+\s+)*docker\s+", line):
        for listing in _LISTING.finditer(line):
            if not _SCOPED.search(listing[1]):
                return ("acts on every container (or image, volume, network) the listing "
                        "finds on the host, not only this task's; filter it by the task's "
                        "label (`--filter label=...`) or use `docker compose down`")
    return ""


def _removal_outside(line: str, own: set[str], in_own_dir: bool) -> str:
    for command in re.split(r"\s*(?:&&|\|\||;|\|)\s*", line):
        words = command.split()
        if not words or words[0] not in ("rm", "sudo") or (words[0] == "sudo" and
                                                          words[1:2] != ["rm"]):
            continue
        for target in [w for w in words[1:] if w != "rm" and not w.startswith("-")]:
            why = _outside(target.strip("'\""), own, in_own_dir)
            if why:
                return why
    return ""


def _outside(target: str, own: set[str], in_own_dir: bool) -> str:
    if "/.." in target or target.startswith(".."):
        return f"removes {target}, which climbs out of the task's own directory"
    if _OWN_DIR.search(target) or _starts_in(target, own):
        return ""
    if target.startswith(("/", "~")):
        return (f"removes {target}, outside the task's own directory; refer to it through "
                "the script's location (DIR=\"$(cd \"$(dirname \"$0\")\" && pwd)\")")
    if target.startswith("$"):
        return (f"removes {target}, which the script does not derive from its own "
                "directory (dirname \"$0\")")
    if not in_own_dir:
        return (f"removes {target} relative to wherever the script is run from; cd to its "
                "own directory first (cd \"$(dirname \"$0\")\")")
    return ""


def _starts_in(value: str, own: set[str]) -> bool:
    value = value.strip("'\"")
    return any(re.match(rf"^\$(?:{name}\b|\{{{name}\}})", value) for name in own)


def _strip_comment(line: str) -> str:
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line
