"""What a deployment's scripts may not do on a shared droplet, checked before anything is sent.

The seed's kill.sh stops and removes every container on the machine and runs `docker system
prune`; its cleanup.sh kills processes by name and removes /tmp folders. On a droplet that
hosts several deployments (of several workspaces) each of those wipes other tenants. This is a
guard against those patterns, not a sandbox: scripts run as the droplet's user, and what
taskform itself guarantees is that it removes only the deployment's own folder and the
containers labelled with its TASKFORM_LABEL."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

ADVICE = ("scripts act only on what their deployment made: its own folder ($TASKFORM_DIR, the "
          "working directory) and containers labelled $TASKFORM_LABEL (or the compose project "
          "$COMPOSE_PROJECT_NAME)")

_PRUNE = re.compile(r"\bdocker(?:-compose)?\b[^;&|\n]*\bprune\b")
_SWEEP = re.compile(r"\bdocker\s+(?:(?:container|volume|network|image)\s+ls|ps|images)\b"
                    r"(?P<rest>[^)|;&\n]*)")
_MACHINE = re.compile(r"(?:^|[\s;&|(])(?P<cmd>pkill|killall|reboot|shutdown|poweroff|halt)\b")
_SEGMENT = re.compile(r"[;&|()\n]+")
_OWN_DIR = ("$TASKFORM_DIR", "${TASKFORM_DIR}", "$PWD", "${PWD}")


@dataclass(frozen=True)
class Finding:
    line: int
    text: str
    why: str

    def describe(self, script: str) -> str:
        return f"{script}:{self.line}: `{self.text}` {self.why}"


def check(text: str, *, resets: bool) -> list[Finding]:
    """Everything the script does that reaches beyond its deployment. `resets`: the reset
    script, which may also not remove files outside its folder."""
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = _code(raw)
        if not line:
            continue
        why = _why(line, resets)
        if why:
            found.append(Finding(number, line.strip(), why))
    return found


def _why(line: str, resets: bool) -> str | None:
    if _PRUNE.search(line):
        return "prunes Docker on the whole machine (every tenant's stopped containers, images, " \
               "volumes or networks)"
    for sweep in _SWEEP.finditer(line):
        rest = sweep.group("rest")
        if re.search(r"(?:^|\s)-\w*q", rest) and not re.search(r"--filter|(?:^|\s)-f\b", rest):
            return "lists every container (or volume, network, image) on the machine, not only " \
                   "this deployment's: add --filter label=$TASKFORM_LABEL"
    machine = _MACHINE.search(line)
    if machine:
        cmd = machine.group("cmd")
        if cmd in ("pkill", "killall"):
            return f"{cmd} kills processes by name on the whole machine (other tenants' too): " \
                   "keep a pid file in the deployment's folder and kill that pid"
        return f"{cmd} stops the whole machine"
    if resets:
        outside = _removes_outside(line)
        if outside:
            return f"removes {outside}, outside the deployment's folder"
    return None


def _removes_outside(line: str) -> str | None:
    for segment in _SEGMENT.split(line):
        try:
            words = shlex.split(segment, posix=False)
        except ValueError:
            words = segment.split()
        while words and "=" in words[0] and not words[0].startswith("-"):
            words = words[1:]  # VAR=value before the command
        if not words or words[0] not in ("rm", "rmdir", "/bin/rm", "sudo"):
            continue
        for word in words[1:]:
            if word.startswith("-") or word in ("rm", "rmdir"):
                continue
            if _outside(word):
                return word
    return None


def _outside(word: str) -> bool:
    bare = word.strip("'\"")
    for own in _OWN_DIR:
        if bare == own or bare.startswith(own + "/"):
            return ".." in bare[len(own):].split("/")
    if bare.startswith(("/", "~", "$")):
        return True
    return ".." in bare.split("/")


def _code(line: str) -> str:
    """The line without its comment (a # at the start of a word, outside quotes)."""
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def refusal(script: str, findings: list[Finding]) -> str:
    lines = [f.describe(script) for f in findings]
    return f"{script} is refused before anything is sent: " + "; ".join(lines) + f". {ADVICE}"
