"""What decides a resource's rendered settings, as one digest kept in its fingerprint, so a plan
can take the recorded rendering instead of rendering again.

Rendering is a function of the settings as written (templates included), the `when` condition,
the values of the variables those templates read, the outputs of the resources they read, and
the code that renders (`rendering_code`: an upgrade that changes how templates render renders
afresh; one that does not keeps every memo valid).
Apply records a digest of exactly these (`MEMO`) beside the fingerprint; when a plan finds the
same digest, the recorded settings are what rendering would give, and it skips rendering.

Nothing secret goes into it: a resource whose templates read a secret variable, or whose
settings hold a secret's value (rendered there at load), or whose rendered settings do, gets no
memo and is always rendered. Outputs are digested as the state stores them (redacted), the way
the fingerprint's `dep:` components are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import runner
from runner.resource import Resource
from runner.spec.cachestore import library_version
from runner.spec.interpolate import condition_text
from runner.spec.templating import Refs, TemplateProblem, analyse, iter_templates

MEMO = "memo:inputs"  # `fingerprint.reasons` never names a memo: it explains nothing new
_NOTHING = Refs()
# the modules whose code decides a rendering and its setting: components (paths in `runner`)
RENDERING_SOURCES = ("spec/templating.py", "spec/interpolate.py", "spec/sandbox.py",
                     "planning/reuse.py", "fingerprint.py")


@lru_cache(maxsize=1)
def rendering_code() -> str:
    """A digest of the code that renders templates: the sources above and Jinja2's version."""
    root = Path(runner.__file__).parent
    digest = hashlib.sha256(library_version("jinja2").encode())
    for rel in RENDERING_SOURCES:
        try:
            digest.update(rel.encode() + b"\0" + (root / rel).read_bytes())
        except OSError:  # an install without sources: only the version can tell
            digest.update(runner.__version__.encode())
    return digest.hexdigest()[:16]


def reads(resource: Resource, templates: Callable[[Any], list[str]] = iter_templates
          ) -> Refs | None:
    """What the templates of a resource's settings and its `when` read (nothing, for settings
    without templates: their memo spares digesting each setting apart); None for a template
    that does not analyse (rendering says why). `templates` finds the templates of a value."""
    texts = templates(resource.settings)
    if resource.when is not None:
        texts = [*texts, condition_text(resource.when)]
    try:
        return refs_in(texts)
    except TemplateProblem:
        return None


def refs_in(texts: list[str]) -> Refs:
    """The union of what the templates `texts` read; raise TemplateProblem."""
    if not texts:
        return _NOTHING
    found = [analyse(text) for text in texts]
    if len(found) == 1:
        return found[0]
    return Refs(frozenset().union(*(r.vars for r in found)),
                frozenset().union(*(r.steps for r in found)),
                frozenset().union(*(r.addresses for r in found)))


def read_addresses(resource: Resource, refs: Refs) -> list[str]:
    """The addresses whose outputs the templates `refs` (of `resource`) read, sorted."""
    if not refs.steps:
        return sorted(refs.addresses)
    return sorted({resource.step_address(s) for s in refs.steps} | refs.addresses)


def inputs_digest(resource: Resource, refs: Refs, addresses: list[str],
                  variables: Mapping[str, Any], secret_names: Collection[str],
                  secret_values: Collection[str], output_digest: Callable[[str], str | None],
                  code: str) -> str | None:
    """The digest of what decides the resource's rendering (`addresses`: `read_addresses`);
    None when it must always render (it reads a secret, or an output not known yet)."""
    if any(name in secret_names for name in refs.vars):
        return None
    if secret_values and mentions(resource.settings, secret_values):
        return None
    outputs: dict[str, str] = {}
    for address in addresses:
        found = output_digest(address)
        if found is None:
            return None
        outputs[address] = found
    values = [(name, name in variables, variables.get(name)) for name in sorted(refs.vars)]
    # repr, not JSON: exact for plain data (1, 1.0, True and "1" differ; so do {1: x} and
    # {"1": x}), and the settings are the same loaded objects in the same order each run
    text = repr((code, resource.kind, resource.settings, resource.when, values, outputs))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def mentions(value: Any, secrets: Collection[str]) -> bool:
    """Whether any text inside `value` contains one of `secrets`."""
    return any(secret in text for text in strings(value) for secret in secrets)


def strings(value: Any) -> list[str]:
    out: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return out


def is_exact(value: Any) -> bool:
    """Whether the state gives `value` back as it is (JSON: text keys, lists, plain scalars),
    so the recorded settings can stand for a new rendering."""
    kind = type(value)
    if kind is dict:
        return all(type(k) is str and is_exact(v) for k, v in value.items())
    if kind is list:
        return all(is_exact(v) for v in value)
    return kind in (str, int, float, bool, type(None))
