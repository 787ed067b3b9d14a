"""Load a workspace's spec files into desired resources, reporting every problem at once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.address import Address, Selection
from runner.errors import SpecError, SpecIssue
from runner.graph import Graph
from runner.resource import Resource, variant
from runner.spec import desiredcache, loadedcache, parsecache, settingsmemo
from runner.spec.budget import Budget
from runner.spec.cachestore import CacheStore, open_store
from runner.spec.loaded import Loaded
from runner.spec.yamlsrc import parse_bytes, parse_measured_bytes, read_limited
from runner.workspace import Workspace

if TYPE_CHECKING:
    from runner.spec import splice


@dataclass
class Specs:
    """The desired resources of a workspace, in file order, and a digest of what produced them."""

    resources: dict[Address, Resource]
    files: list[str]
    digest: str
    documents: int = 0
    dependencies: dict[str, tuple[Address, ...]] = field(default_factory=dict)  # by address text
    # when one step of one file changed and nothing else: the digest the specs had before, and
    # the addresses of that step (every other resource is as those specs gave it)
    previous: tuple[str, frozenset[str]] | None = None


def spec_files(ws: Workspace) -> list[Path]:
    """The files the `specs:` globs match, as found (a symlink is not resolved here)."""
    seen: dict[Path, None] = {}
    for pattern in ws.spec_patterns:
        for path in sorted(ws.root.glob(pattern)):
            if path.is_file() and ".taskform" not in path.parts:
                seen.setdefault(path, None)
    return list(seen)


def read_spec(ws: Workspace, path: Path, display: str) -> tuple[bytes, SpecIssue | None]:
    """A spec file's bytes, unless it leads outside the workspace (a symlink: a spec cannot
    read files outside its workspace) or is too large to read."""
    if not path.resolve().is_relative_to(ws.root):
        return b"", SpecIssue(display, 1, 1, "", "the file is a symbolic link to a file outside "
                              "the workspace; a spec cannot read files outside its workspace")
    return read_limited(path, display)


def load_specs(ws: Workspace) -> Specs:
    """Parse, validate and cross-check every spec file; raise SpecError with all issues."""
    issues: list[SpecIssue] = []
    loaded: list[Loaded] = []
    files = spec_files(ws)
    store = open_store(ws.state_dir, ws.root)
    secret = secret_variables(ws)
    budget = Budget()  # every template the load renders shares it
    displays = [str(path.relative_to(ws.root)) for path in files]  # globbed under the root
    read: list[tuple[str, bytes]] = []
    for path, display in zip(files, displays, strict=True):
        data, refused = read_spec(ws, path, display)
        if refused:
            issues.append(refused)
            continue
        read.append((display, data))
    digest = _digest(ws, read)
    limit = sum(parsecache.size_limit(data) for _, data in read)
    if store is not None and not issues:
        found = desiredcache.find(store, digest, ws.variables, secret, limit)
        if found is not None:  # every file as its validated entry says, checked across files
            return _specs(found[0], displays, digest, found[1])
    analyses: list[Any] | None = []  # the files' analyses, while each is in the validated layer
    spliced: list[tuple[str, splice.Spliced]] = []
    for display, data in read:
        parse_issues, results, analysed, by_step = _read_file(store, data, display, ws.variables,
                                                              secret, budget)
        if by_step is not None:
            spliced.append((display, by_step))
        if analyses is not None and analysed is not None:
            analyses.extend(analysed)
        else:
            analyses = None
        if any(result.variables & secret for result in results):
            _taint(ws, data, display, secret)
        issues.extend(parse_issues)
        for result in results:
            issues.extend(result.issues)
            loaded.append(result)
    resources = _collect(loaded, issues)
    dependencies = _dependencies(resources, loaded, issues)
    _check_cycles(resources, dependencies, issues)
    if issues:
        raise SpecError(issues)
    final = {r.address: _with_deps(r, dependencies[a]) for a, r in resources.items()}
    if store is not None and analyses is not None:
        desiredcache.keep(store, digest, ws.variables, secret, limit, final,
                          len(loaded), analyses)
    return Specs(resources=final, files=displays,
                 digest=digest, documents=len(loaded), dependencies=dependencies,
                 previous=_previous(ws, read, spliced) if len(spliced) == 1 else None)


def _digest(ws: Workspace, read: list[tuple[str, bytes]]) -> str:
    """What produced the specs: the workspace's settings and variables, each file's name and
    bytes."""
    digest = hashlib.sha256()
    digest.update(json.dumps(ws.settings, sort_keys=True, default=str).encode())
    digest.update(json.dumps(ws.variables, sort_keys=True, default=repr).encode())
    for display, data in read:
        digest.update(display.encode() + b"\0" + data + b"\0")
    return digest.hexdigest()


def _previous(ws: Workspace, read: list[tuple[str, bytes]],
              spliced: list[tuple[str, splice.Spliced]]) -> tuple[str, frozenset[str]]:
    """The specs' digest with the one spliced file's previous bytes, and its changed step's
    addresses (`Specs.previous`)."""
    (changed_file, by_step), = spliced
    return _digest(ws, [(display, by_step.previous if display == changed_file else data)
                        for display, data in read]), by_step.changed


def _specs(resources: dict[Address, Resource], displays: list[str], digest: str,
           documents: int) -> Specs:
    return Specs(resources=resources, files=displays, digest=digest, documents=documents,
                 dependencies={a.text: r.depends_on for a, r in resources.items()})


def _read_file(store: CacheStore | None, data: bytes, display: str, variables: dict[str, Any],
               secret: frozenset[str], budget: Budget
               ) -> tuple[list[SpecIssue], list[Loaded], list[Any] | None, splice.Spliced | None]:
    """One file's documents read into resources: from the cache's validated layer when it holds
    them for these bytes, variables and code; else validated, from its parse layer if it can.
    With the analyses of its templates when the validated layer holds the file now (else None:
    it has issues, reads a secret, or holds a setting JSON would change); and how it was read
    one step apart from its previous version, when it was."""
    found = loadedcache.find(store, data, display, variables, secret) if store else None
    if found is not None:
        return [], found[0], found[1], None
    # imported here: the kinds it brings are needed only to validate, and a validate answered
    # from the cache (30 ms sooner at N=5000) never loads them; nor does it read a file apart
    from runner.spec import splice
    from runner.spec.documents import DocumentReader

    if store is None:
        docs, issues = parse_bytes(data, display)
        return issues, [DocumentReader(doc, variables, budget).read() for doc in docs], None, None
    cached_docs = parsecache.find(store, data, display)
    memo = settingsmemo.recall(store, display, parsecache.size_limit(data))
    spliced = splice.reread(store, data, display, variables, secret, budget, memo) \
        if cached_docs is None else None
    if spliced is not None:  # one step changed: read alone, the rest is the previous read's
        kept = _keep_spliced(store, data, display, spliced, memo)
        analysis = spliced.entry["analysis"] if kept and spliced.entry else None
        return [], spliced.documents, analysis, spliced
    measure = None
    if cached_docs is not None:
        docs, issues = cached_docs, []
    else:
        docs, issues, measure = parse_measured_bytes(data, display)
    readers = [DocumentReader(doc, variables, budget, memo) for doc in docs]
    results = [reader.read() for reader in readers]
    if issues:
        return issues, results, None, None  # parsed afresh each time: its messages stay exact
    analysis = loadedcache.analyses(results)
    # never a digest of a block rendered from a secret, nor of a file with issues
    if not any(result.issues or result.variables & secret for result in results):
        settingsmemo.keep(store, display, memo, analysis, parsecache.size_limit(data))
    kept = loadedcache.keep(store, data, display, variables, secret, results, analysis)
    layout = splice.layout(data, docs, readers, measure) if kept and measure is not None else None
    if layout is not None:
        splice.keep(store, display, layout, data)
    # the parse layer serves when the validated one cannot: files that read a secret, or whose
    # variables may differ next time; writing it for every file would only slow a cold run
    if cached_docs is None and (not kept or any(result.variables for result in results)):
        parsecache.keep(store, data, docs)
    return [], results, analysis if kept else None, None


def _keep_spliced(store: CacheStore, data: bytes, display: str, spliced: splice.Spliced,
                  memo: settingsmemo.SettingsMemo) -> bool:
    """Keep what a file read one step apart gave, as a whole read keeps it; False when its
    validated entry was not written."""
    from runner.spec import splice

    memo.carry_known()
    if spliced.entry is None:  # the step reads a secret: nothing of the file is kept
        return False
    settingsmemo.keep(store, display, memo, spliced.entry["analysis"], parsecache.size_limit(data))
    if not loadedcache.write_entry(store, data, display, spliced.entry):
        return False
    splice.keep(store, display, spliced.layout, data)
    return True


def _taint(ws: Workspace, data: bytes, display: str, secret: frozenset[str]) -> None:
    """Mask what this file's templates derive from secrets at load time (a file that reads a
    secret is never cached, so parsing it again is what reading it costs anyway)."""
    from runner.spec.taint import derived_values
    from runner.spec.templating import Scope

    docs, _ = parse_bytes(data, display)
    for doc in docs:
        for value in derived_values(doc.value, Scope(var=ws.variables), secret):
            if value not in ws.secrets:
                ws.secrets.append(value)


def secret_variables(ws: Workspace) -> frozenset[str]:
    """The variables declared `secret: true`, and any other holding a secret's value: what
    they render is never cached."""
    names = {name for name, value in ws.variables.items()
             if isinstance(value, str) and value in ws.secrets}
    for name, decl in ws.declarations.items():
        if isinstance(decl, dict) and decl["secret"]:  # a VariableDecl, validated
            names.add(name)
    return frozenset(names)


def _collect(loaded: list[Loaded], issues: list[SpecIssue]) -> dict[str, Resource]:
    """The resources by their address's text: a text is hashed once and kept with the string,
    while an Address is hashed by Python code at every lookup (~60,000 at N = 5,000)."""
    resources: dict[str, Resource] = {}
    first_doc: dict[tuple[str, str], str] = {}
    for result in loaded:
        if result.document and result.name_place:
            kind, name = result.document
            place = result.name_place
            if result.document in first_doc:
                issues.append(replace(place, message=f"duplicate name {name!r}: {kind} {name!r} "
                                      f"is already defined at {first_doc[result.document]}"))
                continue
            first_doc[result.document] = f"{place.file}:{place.line}"
        for resource in result.resources:
            text = resource.address.text
            if text in resources:
                other = resources[text].origin
                issues.append(SpecIssue(resource.origin.file, resource.origin.line,
                                        resource.origin.col, "",
                                        f"duplicate address {resource.address} (also at {other})"))
                continue
            resources[text] = resource
    return resources


def _dependencies(resources: dict[str, Resource], loaded: list[Loaded],
                  issues: list[SpecIssue]) -> dict[str, tuple[Address, ...]]:
    # each resource's depends_on, then what its references add, without repeats (told by their
    # text); a mapping is made only where something can repeat (most steps depend on one other)
    deps = {a: r.depends_on if len(r.depends_on) < 2 else _unique(r.depends_on)
            for a, r in resources.items()}
    added: dict[str, dict[str, Address]] = {}
    for result in loaded:
        for source, target, place in result.references:
            owner = _owner_text(target)
            mine = source.text
            if owner not in resources:
                issues.append(replace(place, message=f"references {target}, which is not defined"))
            elif owner == mine:
                issues.append(replace(place, message=f"{source} cannot reference itself"))
            elif mine in deps:
                _extended(added, deps, mine)[target.text] = target
        for source, selection, place in result.selections:
            chosen = selected(resources, selection)
            if not chosen:
                issues.append(replace(place, message=unmatched(resources, selection)))
            elif source.text in deps:
                _extended(added, deps, source.text).update((a.text, a) for a in chosen)
    deps.update((a, tuple(d.values())) for a, d in added.items())
    return deps


def _unique(addresses: tuple[Address, ...]) -> tuple[Address, ...]:
    """`addresses` without repeats, each where it first appears."""
    return tuple({a.text: a for a in addresses}.values())


def _extended(added: dict[str, dict[str, Address]], deps: dict[str, tuple[Address, ...]],
              source: str) -> dict[str, Address]:
    """`source`'s dependencies as a mapping by text, made on its first added dependency."""
    found = added.get(source)
    if found is None:
        found = added[source] = {d.text: d for d in deps[source]}
    return found


def _owner_text(address: Address) -> str:
    """The text of the resource an address names: itself, or for an expansion's child its
    parent (made without a new Address)."""
    return ".".join(address.parts) if address.key else address.text


def selected(resources: dict[str, Resource], selection: Selection) -> list[Address]:
    """The documents of the selection's type whose labels include the selection's."""
    return [r.address for r in resources.values() if r.address.type == selection.type
            and len(r.address.parts) == 2 and not r.address.key
            and selection.matches(dict(r.labels))]


def unmatched(resources: dict[str, Resource], selection: Selection) -> str:
    others = [f"{r.address.parts[1]} {_labels(dict(r.labels))}" for r in resources.values()
              if r.address.type == selection.type and len(r.address.parts) == 2
              and not r.address.key]
    there = "; " + ", ".join(others) if others else ""
    return (f"no {selection.type} has the labels {selection.describe()} "
            f"({len(others)} {selection.type} document(s){there})")


def _labels(labels: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}: {v}" for k, v in sorted(labels.items())) + "}"


def _check_cycles(resources: dict[str, Resource], deps: dict[str, tuple[Address, ...]],
                  issues: list[SpecIssue]) -> None:
    if _is_acyclic(resources, deps):
        return
    graph = Graph({a: [_owner_text(d) for d in ds if _owner_text(d) in resources]
                   for a, ds in deps.items()})
    cycle = graph.find_cycle()
    if cycle:
        first = resources[cycle[0]].origin
        issues.append(SpecIssue(first.file, first.line, first.col, "",
                                "dependency cycle: " + " -> ".join(cycle)))


def _is_acyclic(resources: dict[str, Resource], deps: dict[str, tuple[Address, ...]]
                ) -> bool:
    """Kahn's count over the addresses' positions: one cheap pass in the common case, so only a
    graph that has a cycle pays for `Graph.find_cycle`'s sorted walk that names it."""
    index = {address: i for i, address in enumerate(resources)}
    waiting = [0] * len(index)
    dependents: list[list[int]] = [[] for _ in index]
    for address, address_deps in deps.items():
        me = index[address]
        for dep in address_deps:
            found = index.get(_owner_text(dep))
            if found is not None:
                waiting[me] += 1
                dependents[found].append(me)
    ready = [i for i, count in enumerate(waiting) if count == 0]
    done = 0
    while ready:
        done += 1
        for dependent in dependents[ready.pop()]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    return done == len(index)


def _with_deps(resource: Resource, deps: tuple[Address, ...]) -> Resource:
    if deps == resource.depends_on:
        return resource
    return variant(resource, depends_on=deps)  # `replace` was a fifth of a cached load
