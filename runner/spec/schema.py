"""The JSON Schema of spec documents, built from the kind registry (so it cannot drift)."""

from __future__ import annotations

from typing import Any

from runner import __version__
from runner.address import NAME_PATTERN
from runner.kinds.registry import DOCUMENTS, STEP_TYPES
from runner.spec.documents import API_VERSION, PIPELINE

_REF = "#/$defs/{model}"


def _settings(model: Any, defs: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=_REF)
    defs.update(schema.pop("$defs", {}))
    return dict(schema)


def _metadata() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "required": ["name"],
            "properties": {"name": {"type": "string", "pattern": NAME_PATTERN},
                           "labels": {"type": "object",
                                      "additionalProperties": {"type": "string"}}}}


def _lifecycle() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "properties": {"prevent_destroy": {"type": "boolean"}}}


def _document(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False,
            "required": ["apiVersion", "kind", "metadata", "spec"],
            "properties": {"apiVersion": {"const": API_VERSION}, "kind": {"const": kind},
                           "metadata": _metadata(), "spec": spec, "lifecycle": _lifecycle()}}


def _step(name: str, settings: dict[str, Any]) -> dict[str, Any]:
    duration = {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]}
    return {"type": "object", "additionalProperties": False, "required": [name],
            "title": f"{name} step",
            "properties": {
                name: settings,
                "depends_on": {"anyOf": [{"type": "string"},
                                         {"type": "array", "items": {"type": "string"}}]},
                "when": {"anyOf": [{"type": "string"}, {"type": "boolean"}]},
                "retries": {"type": "integer", "minimum": 0, "maximum": 100},
                "retry_delay": duration, "timeout": duration, "lifecycle": _lifecycle(),
                "description": {"type": "string"}}}


def document_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    variants = [_document(name, _settings(entry.kind.settings_model, defs))
                for name, entry in sorted(DOCUMENTS.items())]
    steps = [_step(name, _settings(entry.kind.settings_model, defs))
             for name, entry in sorted(STEP_TYPES.items())]
    pipeline_spec = {"type": "object", "additionalProperties": False, "required": ["steps"],
                     "properties": {"steps": {"type": "object", "minProperties": 1,
                                              "additionalProperties": {"oneOf": steps}}}}
    variants.append(_document(PIPELINE, pipeline_spec))
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"https://taskform.dev/schema/{API_VERSION}.json",
            "title": f"taskform spec document (taskform {__version__})",
            "oneOf": variants, "$defs": defs}
