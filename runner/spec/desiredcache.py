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
again would say. One slot per workspace, replaced whole, sealed with the user's key like every
entry (`cachestore`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping
from typing import Any

from runner.address import Address
from runner.resource import Resource
from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.loadedcache import Positions, addresses_of, plain_resource, resource_of
from runner.spec.templating import remember_json


def find(store: CacheStore, specs_digest: str, variables: Mapping[str, Any],
         secret: Collection[str], limit: int) -> tuple[dict[Address, Resource], int] | None:
    """The desired resources (in load order) and the number of documents, if the store has
    them for these specs and variables; their templates' analyses are remembered."""
    entry = store.read(_name(), limit)
    try:
        if entry["key"] != _key(specs_digest, variables, secret):
            return None
        addresses = addresses_of(entry)
        if addresses is None:
            return None
        files = entry["files"]
        resources = [resource_of(plain, files[file], addresses)
                     for file, plain in zip(entry["origins"], entry["resources"], strict=True)]
        documents = entry["documents"]
        analysis = entry["analysis"]
        if not isinstance(documents, int) or not isinstance(analysis, str):
            return None
    except (KeyError, IndexError, TypeError, ValueError):  # not this layout
        return None
    remember_json(analysis)
    return {r.address: r for r in resources}, documents


def keep(store: CacheStore, specs_digest: str, variables: Mapping[str, Any],
         secret: Collection[str], limit: int, resources: Mapping[Address, Resource],
         documents: int, analysis: list[Any]) -> bool:
    """Store a load's desired resources (`load_specs`'s, every file from its validated entry,
    no issue); False when nothing was stored."""
    at = Positions()
    files: dict[str, int] = {}
    try:
        plain = [plain_resource(r, at) for r in resources.values()]
    except ValueError:
        return False  # a setting JSON would not give back as it is (loadedcache._exact)
    origins = [files.setdefault(r.origin.file, len(files)) for r in resources.values()]
    entry = {"key": _key(specs_digest, variables, secret),
             "addresses": at.plain(), "files": list(files), "origins": origins,
             "resources": plain, "documents": documents,
             "analysis": json.dumps(analysis, separators=(",", ":"))}
    return store.write(_name(), entry, limit)


def _key(specs_digest: str, variables: Mapping[str, Any], secret: Collection[str]) -> str:
    text = f"{specs_digest}\0{dict(variables)!r}\0{sorted(secret)!r}"
    return hashlib.sha256(text.encode()).hexdigest()


def _name() -> str:
    return entry_name("desired")  # one slot: a workspace's entry is replaced, never accumulated
