"""A corpus of malformed workspaces: every field of every document kind and step type with a
wrong type, a bad template and (for paths) a path out of the workspace, unknown keys, and the
hand-written YAML, envelope, step and taskform.yaml cases of `corpus_raw`. Each must fail
`validate` and `plan` with exit code 1, naming the file (and the field, where there is one).

Used by tests/spec/test_corpus.py and bench/spec_corpus.py."""

from __future__ import annotations

import copy
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from corpus_raw import raw_cases
from pydantic import BaseModel, ValidationError

from runner.kinds.registry import DOCUMENTS, STEP_TYPES
from runner.spec.paths import path_fields

BASE = """\
apiVersion: taskform/v1
kind: Competency
metadata: {name: c}
spec: {name: Python - FastAPI, proficiency: BASIC}
---
apiVersion: taskform/v1
kind: Background
metadata: {name: b}
spec: {organization_background: An online shop, role_context: Backend developer}
"""
STEPS: dict[str, Any] = {
    "value": {"input": 1},
    "shell": {"command": "true"},
    "file_exists": {"files": ["a.txt"]},
    "docker_pull": {"image_tag": "busybox:1"},
    "docker_build": {"image_tag": "app:dev"},
    "docker_run": {"image_tag": "busybox:1"},
    "docker_pool": {"image_tag": "busybox:1", "pool_size": 1},
    "docker_shell": {"container": "box", "command": ["true"]},
    "docker_volume_pool": {"image_tag": "busybox:1"},
    "docker_extract_volume": {"image_tag": "busybox:1"},
    "rubrics_import": {},
    "rubric_set": {"pool": "pool"},
    "dynamic_rubric": {"pool": "pool"},
    "model_task_check": {"task_prompt": "README.md", "rubrics_json": "rubrics.json",
                         "held_out_tests": "held_out_tests.patch"},
}
DOCUMENT_SPECS: dict[str, Any] = {
    "Competency": {"name": "Go", "proficiency": "BASIC"},
    "Background": {"organization_background": "A bank", "role_context": "Developer"},
    "ScenarioSet": {"competencies": ["c"], "scenarios": ["A scenario."]},
    "Task": {"competencies": ["c"], "background": "b", "scenario": {"text": "A scenario."}},
    "TaskPool": {"competencies": ["c"], "background": "b", "min_available": 1, "max_total": 2},
    "Droplet": {"address": "127.0.0.9", "ssh_key": {"path": "keys/id"}, "accept_new": True},
    "Deployment": {"source": {"dir": "app"}, "droplet": "droplet-x"},
}
# tried in order: the first the model refuses at the field is the field's wrong type
WRONG = [[[1, 2]], {"bogus": [1]}, "not-a-number", -5, True, "x" * 300]
TEMPLATES = [
    "{{ var. }}", "{{ nope }}", "{{ var.undeclared }}", "{% include 'x' %}",
    "{{ 1 | frobnicate }}", "{{ 1 is frobnicated }}", "{{ 1 / 0 }}", "{{ 'a' * 10 ** 10 }}",
    "{{ ref('pipeline.nope.x').y }}", "{{ 10.0 ** 400 }}", "{% for i in range(10**9) %}{% endfor %}",
    "{{ [1] | random }}", "{% extends 'x' %}", "{{ 7 ** (10 ** 9) }}", "{{ '%999999999d' % 1 }}",
    "{% import 'x' as y %}", "{{ var.x.__class__ }}", "{{ (((1 }}",
]
PATHS = ["../outside", "/etc/passwd", "a/../../outside"]
REPO = Path(__file__).resolve().parents[2]
MEMORY_LIMIT = 1 << 30  # a safety net for the child (address space), far above what it needs


@dataclass
class Case:
    """One malformed workspace: its files, and what its error must name."""

    name: str
    files: dict[str, str | bytes] = field(default_factory=dict)
    file: str = "specs/case.yaml"  # the file the error names
    path: str | None = None  # a YAML path an error names (its start), when there is one
    links: dict[str, str] = field(default_factory=dict)  # relative link -> absolute target

    def write(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        files = {"taskform.yaml": "", "specs/base.yaml": BASE, **self.files}
        for rel, content in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content)
        for rel, to in self.links.items():
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).symlink_to(to)


def cases() -> list[Case]:
    """Every case, in a stable order."""
    return [*settings_cases(), *raw_cases()]


def settings_cases() -> Iterator[Case]:
    for step, settings in STEPS.items():
        model = STEP_TYPES[step].kind.settings_model
        for name, value, path in mutations(model, settings):
            yield Case(f"{step}: {name}", {"specs/case.yaml": pipeline(step, value)},
                       path=f"spec.steps.s.{step}{'.' + path if path else ''}")
    for kind, spec in DOCUMENT_SPECS.items():
        model = DOCUMENTS[kind].kind.settings_model
        for name, value, path in mutations(model, spec):
            yield Case(f"{kind}: {name}", {"specs/case.yaml": document(kind, value)},
                       path=f"spec{'.' + path if path else ''}")


def mutations(model: type[BaseModel], valid: Any, at: str = ""
              ) -> Iterator[tuple[str, Any, str]]:
    """(what, settings, path of the error) for each bad version of `valid` settings."""
    yield f"{at or 'settings'}: unknown key", _put(valid, at, "bogus_key", 1, new=True), \
        _join(at, "bogus_key")
    for index, (name, info) in enumerate(model.model_fields.items()):
        key = info.alias or name
        where = _join(at, key)
        wrong = _first_refused(model, valid, at, key)
        if wrong is not None:
            yield f"{where}: wrong type", _put(valid, at, key, wrong), where
        template = TEMPLATES[(index + len(at)) % len(TEMPLATES)]
        yield f"{where}: bad template {template}", _put(valid, at, key, template), where
        if any(n == name and within is not None for n, _, within, _ in path_fields(model)):
            for path in PATHS:
                value = _refused_as_path(model, valid, at, key, path)
                yield f"{where}: path {path}", _put(valid, at, key, value), where
        for sub in _submodels(info.annotation):
            inner = _get(valid, at).get(key)
            base = inner if isinstance(inner, dict) else _minimal(sub)
            if base is not None:
                yield from mutations(sub, _put(valid, at, key, base), where)


def pipeline(step: str, settings: Any) -> str:
    steps = {"s": {step: settings}}
    if step in ("rubric_set", "dynamic_rubric"):
        steps["pool"] = {"docker_pool": STEPS["docker_pool"]}
    return document("Pipeline", {"steps": steps})


def document(kind: str, spec: Any, name: str = "x") -> str:
    return yaml.safe_dump({"apiVersion": "taskform/v1", "kind": kind, "metadata": {"name": name},
                           "spec": spec}, sort_keys=False, width=1000)


def _first_refused(model: type[BaseModel], valid: Any, at: str, key: str) -> Any:
    for candidate in WRONG:
        try:
            _validate_at(model, _put(valid, at, key, candidate), at)
        except ValidationError as exc:
            if any(e["loc"][:1] == (key,) for e in exc.errors()):
                return candidate
    return None


def _refused_as_path(model: type[BaseModel], valid: Any, at: str, key: str, path: str) -> Any:
    """`path` in the shape the field takes (text, a list, a mapping's value or key)."""
    for shape in (path, [path], {"k": path}, {path: "k"}):
        try:
            _validate_at(model, _put(valid, at, key, shape), at)
        except ValidationError as exc:
            if "inside the workspace" in str(exc):
                return shape
    raise AssertionError(f"{model.__name__}.{key} does not refuse {path!r} as a path")


def _validate_at(model: type[BaseModel], settings: Any, at: str) -> None:
    model.model_validate(_get(settings, at))


def _minimal(model: type[BaseModel]) -> dict[str, Any] | None:
    """The smallest settings `model` accepts, when every field has a default."""
    try:
        model.model_validate({})
    except ValidationError:
        return None
    return {}


def _submodels(annotation: Any) -> list[type[BaseModel]]:
    return [t for t in (annotation, *typing.get_args(annotation))
            if isinstance(t, type) and issubclass(t, BaseModel)]


def _join(at: str, key: str) -> str:
    return f"{at}.{key}" if at else key


def _get(settings: Any, at: str) -> Any:
    for part in filter(None, at.split(".")):
        settings = settings[part]
    return settings


def _put(settings: Any, at: str, key: str, value: Any, new: bool = False) -> Any:
    out = copy.deepcopy(settings)
    _get(out, at)[key] = value
    return out


@dataclass(frozen=True)
class Outcome:
    """One `taskform -C ws <verb>` run: exit code, output, wall time, peak resident memory."""

    code: int
    stdout: str
    stderr: str
    seconds: float
    rss_mb: float


def run(root: Path, verb: str, timeout: float = 60.0) -> Outcome:
    """Run taskform as a real process with MEMORY_LIMIT; its peak memory comes from wait4.
    Past `timeout` it is killed (code -9): a hang is a failure, not a wait."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1",
           "XDG_CACHE_HOME": str(root.parent / "xdg-cache")}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "runner", "-C", str(root), verb],
                                stdout=out, stderr=err, env=env, cwd=root,
                                preexec_fn=_limit_memory)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Outcome(proc.returncode, out.read().decode(errors="replace"),
                       err.read().decode(errors="replace"), seconds, usage.ru_maxrss / 1024)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
