"""A changed spec file read again one step at a time.

Editing one step of a Pipeline of 5,000 steps changes a few bytes of a large file, yet parsing
and reading the whole file again cost more than all the rest of planning it. When the file's
previous read is in the cache (its text here, what reading it gave in `loadedcache`) and the
change lies inside the lines of one step, only those lines are parsed and only that step is
read; every other resource is the previous read's, moved by the lines the change added or
removed.

A step's lines stand apart only in a block mapping of steps: they start with the step's key,
first on its line, and end before the next line with content at the key's column or left of
it (the next step, the next key of the document, the next document). Parsed alone they give
what they give in place, since the parser reads them at the same indentation. Whenever that
cannot be told for sure the file is read whole, as before: the change reaches outside one
step's lines, renames the step or adds one, the lines alone do not parse to exactly that step,
they use an alias or a merge key (the file read whole had none, so nothing outside the step can
point into it, nor it outside), the file would pass a limit of `yamlbuild`, or the step has an
issue (a whole read reports it with the file's others, at once).
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.address import Address
from runner.spec import loadedcache, parsecache
from runner.spec.budget import Budget
from runner.spec.cachestore import CacheStore, entry_name
from runner.spec.loaded import Loaded
from runner.spec.settingsmemo import SettingsMemo

if TYPE_CHECKING:
    from runner.spec.documents import DocumentReader
    from runner.spec.yamlsrc import Measure, SourceDoc

_BLOCK = 4096  # characters compared at once when looking for where two texts differ


@dataclass(frozen=True)
class Layout:
    """What the next read of a changed file needs of its previous read."""

    text: str
    values: int  # what `yamlbuild` counted in `text`, against its limit
    # [document index, pipeline, labels, prevent_destroy, engine, [step names]] of each
    # Pipeline whose steps are a block mapping
    pipelines: list[list[Any]]


@dataclass(frozen=True)
class _Lines:
    """The lines of one step in the previous text: [begin, end), its key at `col`."""

    document: int
    context: list[Any]
    position: int  # the step's among the document's resources
    begin: int
    end: int
    line: int
    col: int


def layout(data: bytes, docs: list[SourceDoc], readers: list[DocumentReader],
           measure: Measure) -> Layout | None:
    """What `reread` needs of a file read whole, or None for a file it would never splice."""
    if measure.copied:  # an alias or merge key copied values: a step may point outside itself
        return None
    text = data.decode("utf-8")  # it parsed, so it decodes
    if not _is_plain(text):
        return None
    pipelines = []
    for index, (doc, reader) in enumerate(zip(docs, readers, strict=True)):
        context = reader.context
        if context is None or not context.steps:
            continue
        first = ("spec", "steps", context.steps[0])
        if doc.positions.get(("spec", "steps")) != doc.key_positions.get(first):
            continue  # a flow mapping (`{...}`): its steps need not stand on lines of their own
        pipelines.append([index, context.pipeline, context.labels, context.prevent_destroy,
                          context.engine, list(context.steps)])
    return Layout(text, measure.values, pipelines) if pipelines else None


def keep(store: CacheStore, display: str, kept: Layout, data: bytes) -> bool:
    """Store the layout of the file `display` as read now, for its next change."""
    entry = {"text": kept.text, "values": kept.values, "pipelines": kept.pipelines}
    return store.write(_name(display), entry, parsecache.size_limit(data))


def reread(store: CacheStore, data: bytes, display: str, variables: dict[str, Any],
           secret: frozenset[str], budget: Budget, memo: SettingsMemo) -> Spliced | None:
    """The documents of the file `data` as reading it whole would give, read from its previous
    read and the one step that changed; None when it must be read whole."""
    previous = _recall(store, display, parsecache.size_limit(data))
    if previous is None:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _is_plain(text):
        return None
    old = previous.text
    start = _common_prefix(old, text)
    if start == len(old) == len(text):
        return None  # the same text: its validated entry went missing, so read it whole
    old_end = len(old) - _common_suffix(old, text, start)
    entry = loadedcache.read_entry(store, old.encode(), display, variables, secret)
    addresses = loadedcache.addresses_of(entry) if entry is not None else None
    if entry is None or addresses is None:
        return None
    left = (budget.seconds, budget.chars)
    found = None
    try:
        lines = _step_lines(old, entry["documents"], addresses, previous, start, old_end)
        if lines is not None:
            found = _splice(previous, entry, addresses, lines, text, display, variables, secret,
                            budget, memo)
    except (KeyError, IndexError, TypeError, ValueError):  # not the layout this code writes
        pass
    if found is None:  # the whole read renders the step again: it spends that, not twice
        budget.seconds, budget.chars = left
    return found


@dataclass(frozen=True)
class Spliced:
    """A file read by `reread`: its documents, its validated entry (None when it cannot be
    kept: the step reads a secret), and its layout; the file's previous bytes, and the addresses
    of the step read again (every other resource is as the previous bytes gave it)."""

    documents: list[Loaded]
    entry: dict[str, Any] | None
    layout: Layout
    previous: bytes = b""
    changed: frozenset[str] = frozenset()


def _splice(previous: Layout, entry: dict[str, Any], addresses: list[Address], lines: _Lines,
            text: str, display: str, variables: dict[str, Any], secret: frozenset[str],
            budget: Budget, memo: SettingsMemo) -> Spliced | None:
    """The file with the step at `lines` read again from `text`, or None to read it whole."""
    parsed = _parse_step(previous, lines, text, display)
    if parsed is None:
        return None
    doc, values, old_lines, new_lines = parsed
    out = _read_step(doc, lines, display, variables, budget, memo)
    if out is None:
        return None
    at = loadedcache.Positions(addresses)
    step = at(out.resources[0].address)
    plain = loadedcache.plain_document(out, at)  # ValueError (read whole) if not plain JSON
    documents = list(entry["documents"])
    after, delta = lines.line + old_lines, new_lines - old_lines  # lines past the step move
    for index in range(lines.document, len(documents)):
        documents[index] = _moved(documents[index], step, after, delta)
    documents[lines.document] = _inserted(documents[lines.document], plain, lines.position,
                                          _step_order(addresses, lines.context))
    names = sorted(set().union(*(document[4] for document in documents)))
    analysis = {item[0]: item for item in entry.get("analysis", ())}
    analysis.update((item[0], item) for item in loadedcache.analyses([out]))
    spliced = {"variables": names, "values": loadedcache.values_digest(names, variables),
               "addresses": at.extended(entry["addresses"]), "documents": documents,
               "analysis": [analysis[key] for key in sorted(analysis)]}
    found = loadedcache.documents_of(spliced, display, list(at.position))
    if found is None:
        return None
    kept = None if any(variable in secret for variable in names) else spliced
    return Spliced(found, kept, Layout(text, values, previous.pipelines), previous.text.encode(),
                   frozenset(r.address.text for r in out.resources))


def _parse_step(previous: Layout, lines: _Lines, text: str, display: str
                ) -> tuple[SourceDoc, int, int, int] | None:
    """The step's new lines parsed alone, when they are exactly that step as it would parse
    in place: with the file's new count of values, and the step's old and new line counts."""
    from runner.spec.yamlbuild import MAX_DEPTH, MAX_VALUES
    from runner.spec.yamlsrc import parse_measured

    old = previous.text
    chunk = text[lines.begin:lines.end + len(text) - len(old)]
    old_chunk = old[lines.begin:lines.end]
    name = lines.context[5][lines.position]
    if (lines.end < len(old) and not chunk.endswith("\n")) \
            or _dedent(lines.col - 1).search(chunk) is not None:
        return None  # the change reaches the next line, or writes left of the step's key
    docs, issues, measure = parse_measured(chunk, display)
    if issues or len(docs) != 1 or measure.copied or not isinstance(docs[0].value, dict) \
            or list(docs[0].value) != [name] \
            or docs[0].key_positions.get((name,)) != (1, lines.col) \
            or _height(docs[0].value) > MAX_DEPTH - 10:
        return None
    values = previous.values - parse_measured(old_chunk, display)[2].values + measure.values
    if values > MAX_VALUES:
        return None
    return docs[0], values, old_chunk.count("\n"), chunk.count("\n")


def _read_step(doc: SourceDoc, lines: _Lines, display: str, variables: dict[str, Any],
               budget: Budget, memo: SettingsMemo) -> Loaded | None:
    """The step read in its place: its paths under `spec.steps`, its lines where they are."""
    from runner.spec.documents import DocumentReader, PipelineContext
    from runner.spec.yamlsrc import SourceDoc

    index, pipeline, labels, prevent_destroy, engine, steps = lines.context
    name = steps[lines.position]
    shift, prefix = lines.line - 1, ("spec", "steps")
    fragment = SourceDoc(
        file=display, index=index, value={"spec": {"steps": {name: doc.value[name]}}},
        positions={prefix + p: (line + shift, col)
                   for p, (line, col) in doc.positions.items() if p},
        key_positions={prefix + p: (line + shift, col)
                       for p, (line, col) in doc.key_positions.items()})
    context = PipelineContext(pipeline, dict(labels), prevent_destroy, engine, tuple(steps))
    out = DocumentReader(fragment, variables, budget, memo).read_step(context, name)
    if out.issues or len(out.resources) != 1 or \
            out.resources[0].address != Address(("pipeline", pipeline, name)):
        return None  # read whole, so that every issue of the file is reported at once
    return out


def _step_lines(old: str, documents: list[Any], addresses: list[Address], previous: Layout,
                start: int, old_end: int) -> _Lines | None:
    """The lines of the one step of the previous text that hold all of [start, old_end)."""
    line = old.count("\n", 0, start) + 1
    line_start = old.rfind("\n", 0, start) + 1
    for context in previous.pipelines:
        index, pipeline, steps = context[0], context[1], context[5]
        resources = documents[index][0]  # as `loadedcache` keeps them: [address, kind, ...]
        if [addresses[r[0]].parts for r in resources] != \
                [("pipeline", pipeline, step) for step in steps]:
            return None  # not the read this layout was made with
        position = bisect_right([r[_LINE] for r in resources], line) - 1
        if position < 0:
            continue
        key_line, col = resources[position][_LINE], resources[position][_COL]
        begin = _line_offset(old, line_start, line, key_line)
        if col < 2 or old[begin:begin + col - 1] != " " * (col - 1):
            return None  # the key is not first on its line
        if position + 1 < len(resources):
            if resources[position + 1][_COL] != col:
                return None
            end = _line_offset(old, line_start, line, resources[position + 1][_LINE])
        else:
            next_line = old.find("\n", begin)
            found = _dedent(col - 1).search(old, next_line) if next_line >= 0 else None
            end = found.start() + 1 if found is not None else len(old)
        if begin <= start < end and old_end <= end:
            return _Lines(index, context, position, begin, end, key_line, col)
    return None


# where `loadedcache` keeps a resource's line and column, and a place's line
_LINE, _COL = 3, 4


def _moved(document: list[Any], step: int, after: int, delta: int) -> list[Any]:
    """A document as an entry keeps it, without the step at address position `step`, its
    places from line `after` on moved by `delta` lines."""
    resources, references, kind_name, name_place, names, selections = document

    def place(plain: list[Any]) -> list[Any]:
        return [plain[0] + delta, *plain[1:]] if delta and plain[0] >= after else plain

    def resource(plain: list[Any]) -> list[Any]:
        if not delta or plain[_LINE] < after:
            return plain
        moved = list(plain)
        moved[_LINE] += delta
        return moved

    return [[resource(r) for r in resources if r[0] != step],
            [[s, t, place(p)] for s, t, p in references if s != step],
            kind_name, name_place and place(name_place), names,
            [[s, *rest[:-1], place(rest[-1])] for s, *rest in selections if s != step]]


def _inserted(document: list[Any], step: list[Any], position: int,
              order: dict[int, int]) -> list[Any]:
    """The document with the step read again (`step`, a document of that one step) in its
    place, its references and selections among the others' in the order of the steps."""
    resources, references, kind_name, name_place, names, selections = document

    def merged(items: list[Any], new: list[Any]) -> list[Any]:
        at = next((i for i, item in enumerate(items) if order.get(item[0], -1) > position),
                  len(items))
        return items[:at] + new + items[at:]

    # a superset when the step stopped reading a variable: that costs a cache miss, no more
    return [resources[:position] + step[0] + resources[position:], merged(references, step[1]),
            kind_name, name_place, sorted(set(names) | set(step[4])), merged(selections, step[5])]


def _step_order(addresses: list[Address], context: list[Any]) -> dict[int, int]:
    """Each step's position among its document's, by the entry's position of its address."""
    pipeline, by_name = context[1], {name: i for i, name in enumerate(context[5])}
    return {i: by_name[a.parts[2]] for i, a in enumerate(addresses)
            if len(a.parts) == 3 and not a.key and a.parts[1] == pipeline
            and a.parts[0] == "pipeline" and a.parts[2] in by_name}


def _recall(store: CacheStore, display: str, limit: int) -> Layout | None:
    entry = store.read(_name(display), limit)
    try:
        found = Layout(entry["text"], entry["values"], entry["pipelines"])
    except (KeyError, TypeError):  # no entry (None), or not this layout
        return None
    if not isinstance(found.text, str) or not isinstance(found.values, int) \
            or not isinstance(found.pipelines, list) \
            or not all(isinstance(p, list) and len(p) == 6 for p in found.pipelines):
        return None
    return found


def _name(display: str) -> str:
    return entry_name("splice", display.encode())


def _is_plain(text: str) -> bool:
    """No carriage return (a line break of its own to YAML) and no directive (`%TAG` changes
    what a step's tags mean)."""
    return "\r" not in text and not text.startswith("%") and "\n%" not in text


@functools.lru_cache(maxsize=32)
def _dedent(indent: int) -> re.Pattern[str]:
    """A line break followed by content at `indent` spaces or fewer (not a comment)."""
    return re.compile(f"\n {{0,{indent}}}[^ \n#]")


def _line_offset(text: str, offset: int, line: int, wanted: int) -> int:
    """Where line `wanted` starts, walking from `offset`, the start of line `line`."""
    while line > wanted:
        offset = text.rfind("\n", 0, offset - 1) + 1
        line -= 1
    while line < wanted:
        offset = text.index("\n", offset) + 1
        line += 1
    return offset


def _common_prefix(a: str, b: str) -> int:
    limit = min(len(a), len(b))
    i = 0
    while i + _BLOCK <= limit and a[i:i + _BLOCK] == b[i:i + _BLOCK]:
        i += _BLOCK
    while i < limit and a[i] == b[i]:
        i += 1
    return i


def _common_suffix(a: str, b: str, prefix: int) -> int:
    """How many characters `a` and `b` end alike with, not counting into their common prefix."""
    limit = min(len(a), len(b)) - prefix
    n = 0
    while n + _BLOCK <= limit and a[len(a) - n - _BLOCK:len(a) - n] == \
            b[len(b) - n - _BLOCK:len(b) - n]:
        n += _BLOCK
    while n < limit and a[len(a) - n - 1] == b[len(b) - n - 1]:
        n += 1
    return n


def _height(value: Any) -> int:
    """How deep mappings and lists nest in `value` (a scalar is 0)."""
    if isinstance(value, dict):
        return 1 + max((_height(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_height(v) for v in value), default=0)
    return 0
