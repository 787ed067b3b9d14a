"""The rendering memos of a workspace's own resources, kept from one plan to the next.

A resource's memo (`reuse.inputs_digest`) digests its settings as written, the values of the
variables its templates read, and the outputs of the resources they read; a no-op plan of 5,000
steps spent a quarter of its instructions computing each again only to find it equal to its
record's. The book keeps the memos a plan computed with what decided all of them at once: the
specs' digest (each spec file's bytes and name, the workspace's settings), the variables (as the
memo takes them: their repr), taskform's code and Jinja2's version (the entry's name, see
`cachestore.entry_name`), and one digest of the outputs of every address any of them reads, as
the state holds them now. When all of those are as they were, each memo is what computing it
again would give, and the next plan looks it up instead. When the specs differ from the book's
by one step of one file (read apart from the rest: `Specs.previous`), every other resource's
memo still stands: a memo reads nothing of the specs but its own resource.

Only a workspace without secrets keeps a book: whether a memo exists depends on whether the
settings hold a secret's value, and nothing derived from a secret reaches a file. Only resources
loaded from the specs are in it: an expansion's children are made from files the key does not
cover. The entry is the spec cache's (sealed with the user's key, one slot per workspace,
replaced whole), so a planted or altered book reads as none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from runner.spec.cachestore import CacheStore, entry_name, open_store
from runner.spec.load import Specs, secret_variables
from runner.workspace import Workspace

OutputDigest = Callable[[str], str | None]
_PER_RESOURCE = 512  # bytes an entry may hold per resource (its address, memo and reads)


class MemoBook:
    """The memos a plan may take as computed (`known`), and those it computed (`note`)."""

    def __init__(self, store: CacheStore, key: str, limit: int) -> None:
        self.store, self.key, self.limit = store, key, limit
        self.known: dict[str, str | None] = {}
        self.reads: set[str] = set()  # what the known memos read
        self.noted: dict[str, str | None] = {}
        self.noted_reads: set[str] = set()

    def note(self, address: str, memo: str | None, reads: Iterable[str]) -> None:
        """A memo computed in this plan, with the addresses whose outputs it digests."""
        self.noted[address] = memo
        self.noted_reads.update(reads)

    def keep(self, ws: Workspace, output_digest: OutputDigest) -> bool:
        """Store the known memos with those noted since, when the plan noted new ones and the
        workspace still has no secret; False when nothing was stored."""
        if not self.noted or ws.secrets or secret_variables(ws):
            return False
        if all(address in self.known for address in self.noted):
            return False  # everything noted was known: the stored book says it already
        memos = {**self.known, **self.noted}
        reads = sorted(self.reads | self.noted_reads)
        entry = {"key": self.key, "reads": reads, "outputs": outputs_key(reads, output_digest),
                 "addresses": list(memos), "memos": list(memos.values())}
        return self.store.write(_name(), entry, self.limit)


def open_book(ws: Workspace, specs: Specs, output_digest: OutputDigest) -> MemoBook | None:
    """The workspace's book, with its memos known when what decided them is as it was; None
    when the workspace has secrets or no private cache."""
    store = open_store(ws.state_dir, ws.root)
    if store is None:
        return None
    if ws.secrets or secret_variables(ws):
        store.remove(_name())  # one kept before a variable was declared secret: its digests
        return None
    limit = (1 << 20) + _PER_RESOURCE * len(specs.resources)
    book = MemoBook(store, specs_key(specs.digest, ws.variables), limit)
    entry = store.read(_name(), limit)
    try:
        changed: frozenset[str] = frozenset()
        if entry["key"] != book.key:
            if specs.previous is None or \
                    entry["key"] != specs_key(specs.previous[0], ws.variables):
                return book
            changed = specs.previous[1]  # one step changed since: all but its memos stand
        reads, addresses, memos = entry["reads"], entry["addresses"], entry["memos"]
        if len(addresses) != len(memos) or entry["outputs"] != outputs_key(reads, output_digest):
            return book
        book.known = {a: m for a, m in zip(addresses, memos, strict=True) if a not in changed}
        book.reads = set(reads)
    except (KeyError, IndexError, TypeError, ValueError):  # no entry (None), or not this layout
        pass
    return book


def specs_key(specs_digest: str, variables: dict[str, Any]) -> str:
    """What decides every resource's settings, `when` and templates: the specs, and the variables
    as exactly as the memo takes them (`{1: x}` and `{"1": x}` differ, as JSON would not tell)."""
    return hashlib.sha256(f"{specs_digest}\0{variables!r}".encode()).hexdigest()


def outputs_key(reads: list[str], output_digest: OutputDigest) -> str:
    """One digest of the outputs of `reads` as known now (None for one not known yet)."""
    return hashlib.sha256(repr([(a, output_digest(a)) for a in reads]).encode()).hexdigest()


def _name() -> str:
    return entry_name("memos")  # one slot: a workspace's book is replaced, never accumulated
