"""A workspace's desired resources kept between runs, as one entry: what `load_specs` made of
spec files that each came from the validated layer (`loadedcache`), after the checks across
files (duplicate addresses, references, selections, cycles) and with every resource's
dependencies resolved. A workspace whose files and variables are as they were is read from it
alone: no file's entry, reference or place is read, and nothing across files is checked again
(a cached load of 5,000 steps spent two fifths of its instructions there).

Its key digests what decides all of it: the specs' digest (each spec file's display
path and bytes, and the workspace's settings), the variables as exactly as a template sees them
(their repr) and the names of the secret variables; its name, through `entry_name`, taskform's
code and the libraries that parse and validate. It is written only when every file came from its
own validated entry, which exists only for a file without issues that reads no secret, and after
the checks across files found nothing: so it says what reading those entries and checking them
again would say. The analyses of its templates are kept beside it, read only when a template
must be analysed. One slot each per workspace, replaced whole, sealed with the user's key like
every entry (`cachestore`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

from runner.address import Address
from runner.resource import Resource
from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.loadedcache import Positions, addresses_of, plain_resource, resource_of
from runner.spec.templating import remember_later


def find(store: CacheStore, specs_digest: str, variables: Mapping[str, Any],
         secret: Collection[str], limit: int) -> tuple[dict[Address, Resource], int] | None:
    """The desired resources (in load order) and the number of documents, if the store has
    them for these specs and variables; their templates' analyses are read when first asked
    for (`templating.remember_later`)."""
    key = _key(specs_digest, variables, secret)
    entry = store.read(_name("desired"), limit)
    if isinstance(entry, dict) and secret and entry.get("key") != key:
        forget(store)  # it may hold a value written before its variable was declared secret
        return None
    try:
        if entry["key"] != key:
            return None
        addresses = addresses_of(entry)
        if addresses is None:
            return None
        files = entry["files"]
        resources = [resource_of(plain, files[file], addresses)
                     for file, plain in zip(entry["origins"], entry["resources"], strict=True)]
        documents = entry["documents"]
        if not isinstance(documents, int):
            return None
    except (KeyError, IndexError, TypeError, ValueError):  # not this layout
        return None
    remember_later(lambda: _analyses(store, key, limit))
    return {r.address: r for r in resources}, documents


def keep(store: CacheStore, specs_digest: str, variables: Mapping[str, Any],
         secret: Collection[str], limit: int, resources: Mapping[Address, Resource],
         documents: int, analysis: list[Any]) -> bool:
    """Store a load's desired resources: `load_specs`'s, after its checks found nothing, when
    every file is in the validated layer (so each setting is plain JSON, as that layer holds
    only such); False when nothing was stored."""
    at = Positions()
    files: dict[str, int] = {}
    plain = [plain_resource(r, at, checked=True) for r in resources.values()]
    origins = [files.setdefault(r.origin.file, len(files)) for r in resources.values()]
    key = _key(specs_digest, variables, secret)
    # the analyses apart: a plan whose memos all come from its book never reads them
    if not store.write(_name("analyses"), {"key": key, "analysis": analysis}, limit):
        return False
    return store.write(_name("desired"), {
        "key": key, "addresses": at.plain(), "files": list(files), "origins": origins,
        "resources": plain, "documents": documents}, limit)


def forget(store: CacheStore) -> None:
    """Remove the workspace's entries."""
    store.remove(_name("desired"))
    store.remove(_name("analyses"))


def _analyses(store: CacheStore, key: str, limit: int) -> list[Any] | None:
    """The analyses kept with the desired entry of `key`, if the store still has them."""
    entry = store.read(_name("analyses"), limit)
    try:
        return entry["analysis"] if entry["key"] == key else None
    except (KeyError, TypeError):
        return None


def _key(specs_digest: str, variables: Mapping[str, Any], secret: Collection[str]) -> str:
    text = f"{specs_digest}\0{dict(variables)!r}\0{sorted(secret)!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def _name(layer: str) -> str:
    # one slot each: a workspace's entry is replaced, never accumulated
    return entry_name(f"workspace-{layer}")
