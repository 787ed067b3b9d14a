"""Validated spec files kept between runs: what `DocumentReader` made of each document, as
authenticated JSON, so an unchanged workspace is not validated again.

An entry stands for exactly what decided it. Its name digests the file's bytes and display
path and `cachestore.environment()` (taskform's source, every kind's settings model with it,
and the pydantic, Jinja2 and YAML versions); inside, it names the variables its templates read
with a digest of their values, which must match the current ones. Validation reads nothing
else, so an entry says what validating again would say. Only files that load without an issue
are kept, never one whose templates name a secret variable (a value rendered from a secret
never reaches the disk), and only when JSON gives every setting back exactly as it is.

An entry also keeps the analysis (which variables, steps and addresses it reads) of each of its
templates that Jinja2 would have to parse to tell: names only, decided by the template's text
under the code and Jinja2 version the entry's name already digests, so planning a workspace
whose files did not change parses no template, not even plain interpolation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

from runner.address import Address, Selection
from runner.errors import SpecIssue
from runner.lazy import made
from runner.resource import Origin, Resource
from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.interpolate import condition_text
from runner.spec.loaded import Loaded
from runner.spec.parsecache import size_limit
from runner.spec.templating import TemplateProblem, analyse, iter_templates, remember


def find(store: CacheStore, data: bytes, display: str, variables: Mapping[str, Any],
         secret: Collection[str]) -> tuple[list[Loaded], list[Any]] | None:
    """The documents of the file `data`, as validating them would give, if the store has them,
    with the analyses of their templates as the entry keeps them."""
    entry = read_entry(store, data, display, variables, secret)
    if entry is None:
        return None
    addresses = addresses_of(entry)
    documents = None if addresses is None else documents_of(entry, display, addresses)
    return None if documents is None else (documents, entry.get("analysis", []))


def read_entry(store: CacheStore, data: bytes, display: str, variables: Mapping[str, Any],
               secret: Collection[str]) -> dict[str, Any] | None:
    """The stored entry of the file `data`, as plain JSON, when it stands for these variables."""
    name = entry_name("loaded", data, display.encode())
    entry = store.read(name, size_limit(data))
    try:
        names = entry["variables"]
        if any(variable in secret for variable in names):
            store.remove(name)  # written before the variable was declared secret
            return None
        if entry["values"] != values_digest(names, variables):
            return None
    except (KeyError, IndexError, TypeError, ValueError):  # no entry (None), or not this layout
        return None
    return entry if isinstance(entry, dict) else None


def addresses_of(entry: dict[str, Any]) -> list[Address] | None:
    """The addresses an entry's documents name by position."""
    try:
        return [Address(tuple(parts), tuple(key)) for parts, key in entry["addresses"]]
    except (KeyError, TypeError, ValueError):
        return None


def documents_of(entry: dict[str, Any], display: str, addresses: list[Address]
                 ) -> list[Loaded] | None:
    """An entry's documents (and its templates' analyses remembered), None if not this layout."""
    try:
        loaded = [_loaded(document, display, addresses) for document in entry["documents"]]
        remember_analyses(entry.get("analysis", ()))
        return loaded
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def keep(store: CacheStore, data: bytes, display: str, variables: Mapping[str, Any],
         secret: Collection[str], results: list[Loaded], analysis: list[list[Any]] | None = None
         ) -> bool:
    """Store the documents of the file `data` unless one has an issue, reads a secret, or holds
    a setting JSON would not give back as it is; False when nothing was stored."""
    names = sorted(set().union(*(result.variables for result in results)))
    if any(result.issues for result in results) or any(n in secret for n in names):
        return False
    addresses = Positions()
    try:
        documents = [plain_document(result, addresses) for result in results]
    except ValueError:
        return False
    entry = {"variables": names, "values": values_digest(names, variables),
             "addresses": addresses.plain(), "documents": documents,
             "analysis": analyses(results) if analysis is None else analysis}
    return write_entry(store, data, display, entry)


def write_entry(store: CacheStore, data: bytes, display: str, entry: dict[str, Any]) -> bool:
    """Store `entry` (`keep`'s layout) as the file `data`'s."""
    return store.write(entry_name("loaded", data, display.encode()), entry, size_limit(data))


def values_digest(names: list[str], variables: Mapping[str, Any]) -> str:
    """A digest of whether each named variable is declared, and of its value. Values are plain
    data from YAML or `-var` text (or Unset), whose repr is exact: `1`, `1.0`, `True`, `'1'`
    and `{1: x}` against `{'1': x}` all differ, as they would when rendered."""
    values = [(name, name in variables, variables.get(name)) for name in names]
    return hashlib.sha256(repr(values).encode()).hexdigest()


def remember_analyses(plain: Any) -> None:
    """Take the analyses an entry kept (`analyses`) as what `analyse` gives for their texts:
    kept as they are, read when asked for (`templating._remembered`); TypeError, IndexError or
    KeyError when `plain` is not rows of them."""
    remember(list(plain))


def analyses(results: list[Loaded]) -> list[list[Any]]:
    """`[text, vars, steps, addresses]` for each template of the file's settings and `when`
    conditions: plain interpolation too, which needs no Jinja2 but is still parsed (a planned
    5,000-template file spent 50 ms there)."""
    texts: set[str] = set()
    for result in results:
        for resource in result.resources:
            texts.update(iter_templates(resource.settings))
            if resource.when is not None:
                texts.add(condition_text(resource.when))
    out = []
    for text in sorted(texts):
        try:
            refs = analyse(text)
        except TemplateProblem:
            continue  # planning reports it, from the template itself
        out.append([text, sorted(refs.vars), sorted(refs.steps), sorted(refs.addresses)])
    return out


class Positions:
    """Each address of an entry once; resources and references name them by position, which
    keeps entries small and builds each Address once when they are read. `known` are an
    entry's own, in order, when more are added to it."""

    def __init__(self, known: list[Address] | None = None) -> None:
        self.position: dict[Address, int] = {a: i for i, a in enumerate(known or ())}

    def __call__(self, address: Address) -> int:
        return self.position.setdefault(address, len(self.position))

    def plain(self) -> list[list[list[str | int]]]:
        return [[list(a.parts), list(a.key)] for a in self.position]

    def extended(self, known: list[Any]) -> list[Any]:
        """`known` (the entry's own addresses, as stored) and those added since."""
        return known + [[list(a.parts), list(a.key)] for a in list(self.position)[len(known):]]


def plain_document(result: Loaded, at: Positions) -> list[Any]:
    """A document as an entry keeps it; ValueError when a setting is not plain JSON."""
    return [[plain_resource(r, at) for r in result.resources],
            [[at(s), at(t), _plain_place(p)] for s, t, p in result.references],
            result.document and list(result.document),
            result.name_place and _plain_place(result.name_place),
            sorted(result.variables),
            [[at(s), c.type, [list(pair) for pair in c.labels], list(c.at), _plain_place(p)]
             for s, c, p in result.selections]]


def _loaded(plain: list[Any], display: str, addresses: list[Address]) -> Loaded:
    resources, references, document, name_place, variables, selections = plain
    return Loaded(resources=[resource_of(r, display, addresses) for r in resources],
                  references=[(addresses[s], addresses[t], _place(p, display))
                              for s, t, p in references],
                  selections=[(addresses[s], Selection(kind, tuple((k, v) for k, v in labels),
                                                       tuple(at)), _place(p, display))
                              for s, kind, labels, at, p in selections],
                  document=document and (document[0], document[1]),
                  name_place=name_place and _place(name_place, display),
                  variables=set(variables))


def plain_resource(r: Resource, at: Positions, checked: bool = False) -> list[Any]:
    """A resource as an entry keeps it; ValueError when a setting is not plain JSON (`checked`:
    it came from an entry, or was kept in one: it is)."""
    check = _as_is if checked else _exact
    return [at(r.address), r.kind, check(r.settings), r.origin.line, r.origin.col,
            [at(a) for a in r.depends_on], r.when, r.retries, r.retry_delay, r.timeout,
            check(dict(r.labels)), r.prevent_destroy, r.pipeline,
            None if r.parent is None else at(r.parent), r.expansion_deferred,
            None if r.expansion_reads is None else [list(pair) for pair in r.expansion_reads]]


def resource_of(plain: list[Any], display: str, addresses: list[Address]) -> Resource:
    (address, kind, settings, line, col, depends_on, when, retries, retry_delay, timeout,
     labels, prevent_destroy, pipeline, parent, expansion_deferred, reads) = plain
    return made(Resource, {
        "address": addresses[address], "kind": kind, "settings": settings,
        "origin": made(Origin, {"file": display, "line": line, "col": col}),
        "depends_on": tuple([addresses[a] for a in depends_on]), "when": when,
        "retries": retries, "retry_delay": retry_delay, "timeout": timeout, "labels": labels,
        "prevent_destroy": prevent_destroy, "pipeline": pipeline,
        "parent": None if parent is None else addresses[parent],
        "expansion_deferred": expansion_deferred,
        "expansion_reads": None if reads is None else tuple(
            (path, digest) for path, digest in reads)})


def _exact(value: Any) -> Any:
    """`value` when JSON gives it back as it is (a rendered template can hold tuples, or
    mappings with other keys than text); else ValueError."""
    kind = type(value)
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise ValueError(f"a mapping key {key!r}")
            _exact(item)
    elif kind is list:
        for item in value:
            _exact(item)
    elif kind not in _SCALARS:
        raise ValueError(f"a {kind.__name__}")
    return value


_SCALARS = (str, int, float, bool, type(None))


def _as_is(value: Any) -> Any:
    return value


def _plain_place(place: SpecIssue) -> list[Any]:
    return [place.line, place.col, place.path, place.message]


def _place(plain: list[Any], display: str) -> SpecIssue:
    line, col, path, message = plain
    return made(SpecIssue, {"file": display, "line": line, "col": col, "path": path,
                             "message": message})

