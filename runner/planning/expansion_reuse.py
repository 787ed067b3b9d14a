"""Taking a recorded expansion instead of expanding again: a graded `rubric_set` of 5,000 cells
is planned from its records, without loading its kind, its rubric or its patches' settings.

An expansion is a function of the parent's rendering inputs (`reuse.inputs_digest`: settings,
`when`, the variables and outputs its templates read), the outputs of what the parent depends
on, the workspace's settings (`taskform.yaml`: grading defaults), taskform's code, and the files
and folders the kind resolved while expanding (every `ctx.path` call is noted: a folder is
digested by its listing, a file by its content). A kind that declares `Can.REUSE_EXPANSION`
promises that its children's settings and fingerprints depend on nothing else. When apply
commits such a parent, its fingerprint carries the digest of all of these (`memo:expansion`)
and the paths read (`memo:expansion-reads`); the children are the parent's recorded
dependencies below its address. A plan that finds the same digest, every child recorded `ok`,
and nothing asked to render afresh (`-replace`), takes every child's record as its evaluation.
Anything else (a changed patch, a new solution file, a replaced pool) expands as before.

Parents whose settings hold templates are always expanded: their children may carry templates
that render later, which a record (rendered) cannot stand for. The kind also promises that its
children's path settings are paths its expansion resolved: `Workspace.resolve` refuses one that
leads out through a symbolic link when the reads are checked, so the plan's symlink check
(`paths.linked_out`) need not look at children taken from the record."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Callable, Mapping
from typing import Any

from runner.address import Address, parse_address
from runner.errors import StateError, TaskformError
from runner.kinds.contract import file_digest
from runner.lazy import lazily
from runner.resource import Resource
from runner.spec.cachestore import code_digest
from runner.state.base import Record, stored_json
from runner.vocabulary import RecordStatus
from runner.workspace import Workspace

EXPANSION_MEMO = "memo:expansion"
EXPANSION_READS = "memo:expansion-reads"
CORE_SETTINGS = frozenset({"specs", "parallelism", "state", "variables"})


def read_digest(ws: Workspace, relative: str) -> str | None:
    """What an expansion saw at `relative` (as the kind named it): a folder's listing, a file's
    content, or its absence; None when the path now leads out of the workspace."""
    try:
        path = ws.resolve(relative)
    except TaskformError:
        return None
    try:
        info = path.stat()
    except OSError:
        return "missing"
    if stat.S_ISDIR(info.st_mode):
        try:
            names = sorted(os.listdir(path))
        except OSError:
            return "unreadable"
        return "dir:" + hashlib.sha256("\0".join(names).encode()).hexdigest()
    if not stat.S_ISREG(info.st_mode):
        return "other"
    try:
        return "file:" + file_digest(path)
    except OSError:
        return "unreadable"


def reads_seen(ws: Workspace, paths: list[str]) -> tuple[tuple[str, str], ...] | None:
    """(path, digest) for every path an expansion resolved, in order, once each; None when one
    of them cannot be read back the same way."""
    out: dict[str, str] = {}
    for relative in paths:
        if relative not in out:
            found = read_digest(ws, relative)
            if found is None:
                return None
            out[relative] = found
    return tuple(out.items())


def expansion_digest(ws: Workspace, parent_memo: str | None, own_deps: list[str],
                     output_digest: Callable[[str], str | None],
                     reads: tuple[tuple[str, str], ...]) -> str | None:
    """The digest of everything an expansion depended on; None when something is not known."""
    if parent_memo is None:
        return None
    deps = []
    for dep in own_deps:
        found = output_digest(dep)
        if found is None:
            return None
        deps.append((dep, found))
    # what kinds may read of taskform.yaml (grading defaults, providers); not what only the core
    # reads (which files are specs, parallelism, the state backend, variables: templates read
    # those, and the parent's memo holds the ones it reads)
    decisive = {k: v for k, v in ws.settings.items() if k not in CORE_SETTINGS}
    settings = json.dumps(decisive, sort_keys=True, default=str)
    text = repr((code_digest(), parent_memo, deps, settings, reads))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def expansion_memos(ws: Workspace, resource: Resource, parent_memo: str | None,
                    output_digest: Callable[[str], str | None]) -> dict[str, str]:
    """`memo:expansion` and `memo:expansion-reads` for a parent expanded with the reads it
    carries (`Resource.expansion_reads`); empty when something is not known."""
    seen = resource.expansion_reads
    if seen is None:
        return {}
    own, _ = own_dependencies(resource.address, tuple(str(d) for d in resource.depends_on))
    found = expansion_digest(ws, parent_memo, own, output_digest, seen)
    if found is None:
        return {}
    return {EXPANSION_MEMO: found, EXPANSION_READS: json.dumps([path for path, _ in seen])}


def own_dependencies(address: Address, depends_on: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """A parent's dependencies split into its own and its children (listed after them)."""
    mine = str(address)
    own: list[str] = []
    children: list[str] = []
    for dep in depends_on:
        (children if dep.startswith(mine + "[") else own).append(dep)
    return own, children


def recorded_children(resource: Resource, recorded: Mapping[str, Record],
                      parent_memo: str | None, output_digest: Callable[[str], str | None],
                      always_render: Callable[[str], bool], ws: Workspace
                      ) -> tuple[list[Resource], tuple[tuple[str, str], ...]] | None:
    """The children as recorded, with the reads verified, when the recorded expansion stands for
    a new one; None when the parent must expand."""
    address = str(resource.address)
    record = recorded.get(address)
    if record is None or record.status != RecordStatus.OK or record.kind != resource.kind \
            or always_render(address):
        return None
    memo, listed = record.fingerprint.get(EXPANSION_MEMO), record.fingerprint.get(EXPANSION_READS)
    if memo is None or listed is None:
        return None
    try:
        paths = json.loads(listed)
    except ValueError:
        return None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        return None
    reads = reads_seen(ws, paths)
    own, children = own_dependencies(resource.address, record.depends_on)
    own_now = [str(d) for d in resource.depends_on]
    if reads is None or not children or own != own_now \
            or expansion_digest(ws, parent_memo, own, output_digest, reads) != memo:
        return None
    out = []
    parsed: dict[str, Address] = {}
    # what every child shares with its parent, as `expand` would have made it; its settings
    # are its record's, decoded only if something reads them
    shared = {name: getattr(resource, name) for name in Resource.__dataclass_fields__
              if name not in _OWN}
    shared.update(parent=resource.address, expansion_deferred=None, expansion_reads=None)
    for child in children:
        found = recorded.get(child)
        key = _key(child, len(address))
        if found is None or found.status != RecordStatus.OK or found.parent != address \
                or key is None or always_render(child):
            return None
        deps = tuple(parsed.get(d) or parsed.setdefault(d, parse_address(d))
                     for d in found.depends_on)
        out.append(lazily(Resource, {"settings": _settings_of(found)}, **shared,
                          address=resource.address.child(*key), kind=found.kind,
                          depends_on=deps))
    return out, reads


_OWN = ("address", "kind", "settings", "depends_on")  # a child's own, not its parent's


def _settings_of(record: Record) -> Callable[[], Any]:
    return lambda: record.settings


def _key(child: str, prefix: int) -> tuple[str | int, ...] | None:
    """The index key of a child's address text (`parent["c1","s1"]`), read as `parse_address`
    reads it but without matching the parent's name again (5,000 children); None if malformed."""
    try:
        key = stored_json("[" + child[prefix + 1:-1] + "]", child, "key")
    except StateError:
        return None
    if not key or not child.endswith("]"):
        return None
    for part in key:
        if type(part) is not str and type(part) is not int:  # a bool is an int, and no key
            return None
    return tuple(key)
