"""From one YAML document to resources: the envelope, pipeline steps, templates, settings."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from runner.address import NAME_PATTERN, Address, Selection, parse_address
from runner.duration import parse_duration
from runner.errors import TaskformError
from runner.kinds.registry import DOCUMENTS, STEP_TYPES, KindEntry
from runner.resource import Origin, Resource
from runner.spec.budget import Budget
from runner.spec.loaded import Loaded
from runner.spec.settingsmemo import SettingsMemo
from runner.spec.templating import (
    Scope,
    TemplateProblem,
    analyse,
    condition_template,
    is_template,
    render,
)
from runner.spec.validation import show, validate
from runner.spec.yamlsrc import Path_, SourceDoc

API_VERSION = "taskform/v1"
PIPELINE = "Pipeline"
ENVELOPE_KEYS = ("apiVersion", "kind", "metadata", "spec", "lifecycle")
MAX_STEP_SECONDS = 7 * 24 * 3600  # a step's timeout and retry_delay
PIPELINE_KEYS = ("engine", "steps")
STEP_KEYS = ("depends_on", "when", "retries", "retry_delay", "timeout", "lifecycle", "description")
_NAME = re.compile(NAME_PATTERN)


def document_kinds() -> list[str]:
    return sorted([PIPELINE, *DOCUMENTS])


def address_type(document: str) -> str:
    """`TaskPool` -> `task_pool`."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", document).lower()


@dataclass(frozen=True)
class PipelineContext:
    """What a Pipeline's steps are read with besides themselves (`splice` keeps it)."""

    pipeline: str
    labels: dict[str, str]
    prevent_destroy: bool
    engine: str | None
    steps: tuple[str, ...]


class DocumentReader:
    """Reads one document; collects every issue instead of stopping at the first."""

    def __init__(self, doc: SourceDoc, variables: dict[str, Any], budget: Budget | None = None,
                 memo: SettingsMemo | None = None):
        self.doc = doc
        self.variables = variables
        self.budget = budget or Budget()  # what its templates may spend (shared by a load)
        self.memo = memo  # settings blocks known to be valid: not validated again
        self.out = Loaded()
        self.context: PipelineContext | None = None  # set by reading a Pipeline

    def issue(self, path: Path_, message: str, key: bool = False) -> None:
        self.out.issues.append(self.doc.issue(path, message, key))

    def read(self) -> Loaded:
        value = self.doc.value
        if not isinstance(value, dict):
            self.issue((), "expected a document mapping with apiVersion, kind, metadata and spec")
            return self.out
        for key in value:
            if key not in ENVELOPE_KEYS:
                self.issue((key,), f"unknown key {key!r}; expected one of: "
                           f"{', '.join(ENVELOPE_KEYS)}", key=True)
        if value.get("apiVersion") != API_VERSION:
            found = value.get("apiVersion")
            shown = repr(found) if isinstance(found, str) and len(found) <= 60 else show(found)
            self.issue(("apiVersion",), f"expected {API_VERSION!r}, got {shown}"
                       if found is not None else
                       f"required key is missing (expected {API_VERSION!r})")
        kind = value.get("kind")
        if not isinstance(kind, str) or (kind != PIPELINE and kind not in DOCUMENTS):
            kinds = ", ".join(document_kinds())
            self.issue(("kind",), f"required key is missing; expected one of: {kinds}"
                       if kind is None else f"unknown kind {kind!r}; expected one of: {kinds}"
                       if isinstance(kind, str) else f"expected one of: {kinds}, got {show(kind)}")
            return self.out
        name, labels = self._metadata(value.get("metadata"))
        prevent_destroy = self._lifecycle(value.get("lifecycle"), ("lifecycle",))
        spec = value.get("spec")
        if not isinstance(spec, dict):
            self.issue(("spec",), "required key is missing" if spec is None else "expected a mapping")
            return self.out
        if name is None:
            return self.out
        self.out.document = (kind, name)
        self.out.name_place = self.doc.issue(("metadata", "name"), "")
        if kind == PIPELINE:
            self._pipeline(name, spec, labels, prevent_destroy)
        else:
            self._document(DOCUMENTS[kind], name, spec, labels, prevent_destroy)
        return self.out

    def _metadata(self, meta: Any) -> tuple[str | None, dict[str, str]]:
        if not isinstance(meta, dict):
            self.issue(("metadata",), "required key is missing (expected name and labels)"
                       if meta is None else "expected a mapping with name and labels")
            return None, {}
        for key in meta:
            if key not in ("name", "labels"):
                self.issue(("metadata", key), f"unknown key {key!r}; expected one of: labels, "
                           "name", key=True)
        name = meta.get("name")
        labels = meta.get("labels") or {}
        if not isinstance(name, str) or not _NAME.match(name):
            self.issue(("metadata", "name"), "required key is missing" if name is None else
                       f"expected a name of letters, digits, '-' and '_', got {show(name)}")
            name = None
        if not isinstance(labels, dict) or not all(isinstance(v, (str, int, float, bool))
                                                   for v in labels.values()):
            self.issue(("metadata", "labels"), "expected a mapping of label names to text")
            labels = {}
        return name, {str(k): str(v) for k, v in labels.items()}

    def _lifecycle(self, value: Any, path: Path_) -> bool:
        if value is None:
            return False
        if not isinstance(value, dict) or set(value) - {"prevent_destroy"} or \
                not isinstance(value.get("prevent_destroy", False), bool):
            self.issue(path, "expected {prevent_destroy: true|false}")
            return False
        return bool(value.get("prevent_destroy", False))

    def _document(self, entry: KindEntry, name: str, spec: dict[str, Any], labels: dict[str, str],
                  prevent_destroy: bool) -> None:
        address = Address((address_type(entry.document or ""), name))
        settings = self._settings(entry, spec, ("spec",), address, None)
        if settings is None:
            return
        self.out.resources.append(Resource(
            address=address, kind=entry.name, settings=settings, origin=self._origin(()),
            depends_on=(), labels=labels, prevent_destroy=prevent_destroy))

    def _pipeline(self, name: str, spec: dict[str, Any], labels: dict[str, str],
                  prevent_destroy: bool) -> None:
        for key in spec:
            if key not in PIPELINE_KEYS:
                self.issue(("spec", key), f"unknown key {key!r}; expected one of: "
                           f"{', '.join(PIPELINE_KEYS)}", key=True)
        engine = self._engine(spec.get("engine"))
        steps = spec.get("steps")
        if not isinstance(steps, dict) or not steps:
            self.issue(("spec", "steps"), "expected a mapping of step names to steps")
            return
        siblings = set(steps)
        self.context = PipelineContext(name, labels, prevent_destroy, engine, tuple(steps))
        for step_name, step in steps.items():
            path: Path_ = ("spec", "steps", step_name)
            if not _NAME.match(step_name):
                self.issue(path, f"step name {step_name!r} must be letters, digits, '-' and '_'")
                continue
            self._step(name, step_name, step, path, labels, prevent_destroy, siblings, engine)

    def read_step(self, context: PipelineContext, name: str) -> Loaded:
        """One step of a Pipeline read apart from the rest (`splice`): the document holds only
        that step, at its path and places."""
        step = self.doc.value["spec"]["steps"][name]
        self._step(context.pipeline, name, step, ("spec", "steps", name), dict(context.labels),
                   context.prevent_destroy, set(context.steps), context.engine)
        return self.out

    def _engine(self, value: Any) -> str | None:
        """A pipeline's `engine`: the default of its steps whose type takes one."""
        if value is None:
            return None
        if not isinstance(value, str) or not (is_template(value) or _NAME.match(value)):
            self.issue(("spec", "engine"), "expected the name of an engine: local, or a "
                       f"Droplet's name; got {show(value)}")
            return None
        return value

    def _step(self, pipeline: str, name: str, step: Any, path: Path_, labels: dict[str, str],
              prevent_destroy: bool, siblings: set[str], engine: str | None = None) -> None:
        address = Address(("pipeline", pipeline, name))
        types = sorted(STEP_TYPES)
        if not isinstance(step, dict):
            self.issue(path, f"expected a mapping with one step type ({', '.join(types)})")
            return
        type_keys = [k for k in step if k not in STEP_KEYS]
        unknown = [k for k in type_keys if k not in STEP_TYPES]
        for key in unknown:
            self.issue(path + (key,), f"unknown step type or key {key!r}; expected one step type "
                       f"({', '.join(types)}) and optionally {', '.join(STEP_KEYS)}", key=True)
        known = [k for k in type_keys if k in STEP_TYPES]
        if len(known) != 1:
            if not unknown:
                self.issue(path, f"expected exactly one step type, found "
                           f"{', '.join(known) if known else 'none'}; step types: {', '.join(types)}")
            return
        entry = STEP_TYPES[known[0]]
        depends = self._depends_on(step.get("depends_on"), path + ("depends_on",), siblings, name)
        raw = step[known[0]]
        if engine is not None and isinstance(raw, dict) and not {"engine", "engines"} & set(raw) \
                and "engine" in entry.kind.settings_model.model_fields:
            raw = {**raw, "engine": engine}  # the pipeline's engine, unless the step names its own
        settings = self._settings(entry, raw, path + (known[0],), address, pipeline)
        common = self._common(step, path)
        when = common.pop("when") if common else step.get("when")
        # a condition that reads a step's output waits for that step, like a template does
        if isinstance(when, str) and self._note_refs(address, condition_template(when),
                                                     path + ("when",), pipeline) is None:
            return
        if settings is None or common is None:
            return
        step_prevent = self._lifecycle(step.get("lifecycle"), path + ("lifecycle",))
        self.out.resources.append(Resource(
            address=address, kind=entry.name, settings=settings, origin=self._origin(path),
            depends_on=tuple(Address(("pipeline", pipeline, d)) for d in depends), when=when,
            labels=labels, prevent_destroy=prevent_destroy or step_prevent, pipeline=pipeline,
            **common))

    def _depends_on(self, value: Any, path: Path_, siblings: set[str], me: str) -> list[str]:
        if value is None:
            return []
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            self.issue(path, "expected a list of step names")
            return []
        out = []
        for i, dep in enumerate(names):
            where = path + (i,) if isinstance(value, list) else path
            if dep == me:
                self.issue(where, f"step {me!r} cannot depend on itself")
            elif dep not in siblings:
                self.issue(where, f"depends on step {dep!r}, which this pipeline does not define; "
                           f"steps: {', '.join(sorted(siblings))}")
            else:
                out.append(dep)
        return out

    def _common(self, step: dict[str, Any], path: Path_) -> dict[str, Any] | None:
        ok = True
        out: dict[str, Any] = {"when": None, "retries": 0, "retry_delay": 1.0, "timeout": None}
        when = step.get("when")
        if when is not None:
            if isinstance(when, bool):
                when = "true" if when else "false"
            if not isinstance(when, str):
                self.issue(path + ("when",), "expected an expression like var.enabled")
                ok = False
            out["when"] = when
        retries = step.get("retries", 0)
        if not isinstance(retries, int) or isinstance(retries, bool) or not 0 <= retries <= 100:
            self.issue(path + ("retries",), f"expected a whole number from 0 to 100, got {retries!r}")
            ok = False
        out["retries"] = retries
        for key in ("retry_delay", "timeout"):
            if step.get(key) is None:
                continue
            try:
                seconds = parse_duration(step[key])
            except ValueError as exc:
                self.issue(path + (key,), str(exc))
                ok = False
                continue
            if key == "timeout" and seconds <= 0:
                self.issue(path + (key,), "expected a timeout above zero")
                ok = False
            if seconds > MAX_STEP_SECONDS:  # past this, waits overflow the platform's clocks
                self.issue(path + (key,), f"expected at most {MAX_STEP_SECONDS // 3600}h "
                           f"(7 days), got {step[key]!r}")
                ok = False
            out[key] = seconds
        if step.get("description") is not None and not isinstance(step["description"], str):
            self.issue(path + ("description",), "expected text")
            ok = False
        return out if ok else None

    def _settings(self, entry: KindEntry, raw: Any, path: Path_, address: Address,
                  pipeline: str | None) -> Any:
        """Render var-only templates now; validate all but values that read outputs."""
        deferred: set[Path_] = set()
        value = self._templates(raw, path, (), deferred, address, pipeline)
        if value is _INVALID:
            return None
        key = self.memo.key(entry.name, value, deferred) if self.memo is not None else ""
        refs = self.memo.find(key) if self.memo is not None else None
        if refs is None:
            model, issues = validate(entry.kind.settings_model, value, self.doc, path, deferred)
            self.out.issues.extend(issues)
            if issues:
                return None
            refs = list(entry.kind.references(model)) if model is not None else []
            if self.memo is not None:
                self.memo.note(key, refs)
        for ref in refs:
            if isinstance(ref, Selection):  # resolved once every document is loaded
                place = self.doc.issue(path + ref.at, "")
                self.out.selections.append((address, ref, place))
                continue
            if is_template(ref):  # a setting that waits for outputs names nothing yet
                continue
            if ref.startswith("steps.") and pipeline is not None:  # a sibling step
                ref = f"pipeline.{pipeline}.{ref.removeprefix('steps.')}"
            self._reference(address, ref, path)
        return value

    def _templates(self, value: Any, base: Path_, rel: Path_, deferred: set[Path_],
                   address: Address, pipeline: str | None) -> Any:
        if isinstance(value, dict):
            out = {k: self._templates(v, base, rel + (k,), deferred, address, pipeline)
                   for k, v in value.items()}
            return _INVALID if _INVALID in out.values() else out
        if isinstance(value, list):
            items = [self._templates(v, base, rel + (i,), deferred, address, pipeline)
                     for i, v in enumerate(value)]
            return _INVALID if _INVALID in items else items
        if not is_template(value):
            return value
        refs = self._note_refs(address, value, base + rel, pipeline)
        if refs is None:
            return _INVALID
        if refs.steps or refs.addresses:
            deferred.add(rel)
            return value
        try:
            return protect(render(value, Scope(var=self.variables, budget=self.budget)))
        except (TemplateProblem, TaskformError) as exc:
            self.issue(base + rel, str(exc))
            return _INVALID

    def _note_refs(self, address: Address, text: str, path: Path_, pipeline: str | None) -> Any:
        try:
            refs = analyse(text)
        except TemplateProblem as exc:
            self.issue(path, str(exc))
            return None
        self.out.variables |= refs.vars
        undeclared = sorted(refs.vars - set(self.variables))
        for name in undeclared:
            declared = ", ".join(sorted(self.variables)) or "none"
            self.issue(path, f"unknown variable {name!r}; declared in taskform.yaml: {declared}")
        if undeclared:
            return None
        if refs.steps and pipeline is None:
            self.issue(path, "steps.<name> is only available inside a Pipeline; use ref(\"<address>\")")
            return None
        for step in refs.steps:
            self.out.references.append((address, Address(("pipeline", pipeline or "", step)),
                                        self.doc.issue(path, "")))
        for text_address in refs.addresses:
            self._reference(address, text_address, path)
        return refs

    def _reference(self, address: Address, target: str, path: Path_) -> None:
        try:
            self.out.references.append((address, parse_address(target), self.doc.issue(path, "")))
        except ValueError as exc:
            self.issue(path, str(exc))

    def _origin(self, path: Path_) -> Origin:
        line, col = self.doc.position(path, key=True)
        return Origin(self.doc.file, line, col)


_INVALID = object()


def protect(value: Any) -> Any:
    """A value rendered at load time is final: text in it that looks like a template (a
    variable holding `{{ x }}`) is wrapped so rendering it again yields it unchanged."""
    if isinstance(value, str) and is_template(value):
        escaped = value.replace("{% endraw %}", "{% endraw %}{{ '{% endraw %}' }}{% raw %}")
        return "{% raw %}" + escaped + "{% endraw %}"
    if isinstance(value, dict):
        return {k: protect(v) for k, v in value.items()}
    if isinstance(value, list):
        return [protect(v) for v in value]
    return value
