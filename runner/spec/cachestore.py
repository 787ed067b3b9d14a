"""Cache entries that only this user's taskform can have written: JSON sealed with an HMAC.

The attacker we design for writes any file in the workspace, `.taskform/cache/` included, and
knows this code, but cannot read the user's private files. Every entry carries an HMAC made with
a key kept outside the workspace (`$XDG_CACHE_HOME/taskform/key`, 0600), and names itself inside
the sealed part, so a planted, altered, truncated or renamed entry reads as missing. Entries are
JSON: reading one constructs nothing but lists, dicts, strings and numbers.

Entry names are digests of what decided the entry's content, always including `environment()`:
taskform's own source (every kind's settings model with it), the libraries that parse and
validate, and the entry format. A change of any of them makes new names; the old entries are
never read again, and swept after a month (`cachesweep`).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib.util
import json
import os
import re
import stat
import sys
import tempfile
from pathlib import Path
from typing import Any

import runner
from runner.spec.cachesweep import keep_fresh, sweep_if_due

FORMAT = 1  # bump when the layout of any entry changes
KEY_BYTES = 32
_TAG_BYTES = 64  # a hex SHA-256 HMAC, then a newline, then the JSON payload
_REFUSE_LINKS = os.O_NOFOLLOW | os.O_NONBLOCK  # a planted symlink or FIFO is refused, not opened


class CacheStore:
    """The authenticated entries of one workspace, in `directory`, sealed with `key`."""

    def __init__(self, directory: Path, key: bytes):
        self.directory = directory
        self.key = key
        self._writable: bool | None = None
        self._swept = False

    def read(self, name: str, limit: int) -> Any:
        """The JSON value stored as `name`, or None unless the entry is authentic and whole."""
        blob = _read_regular_file(self.directory / name, limit, in_use=True)
        if blob is None or blob[_TAG_BYTES:_TAG_BYTES + 1] != b"\n":
            return None
        payload = blob[_TAG_BYTES + 1:]
        if not hmac.compare_digest(blob[:_TAG_BYTES], self._tag(payload)):
            return None
        try:
            sealed = json.loads(payload)
        except (ValueError, RecursionError):
            return None
        if not isinstance(sealed, dict) or sealed.get("entry") != name:
            return None  # authentic, but written under another name: not what was asked for
        return sealed.get("data")

    def write(self, name: str, data: Any, limit: int) -> bool:
        """Store `data` as `name` (0600, atomically), unless JSON cannot hold it or it is larger
        than `limit` bytes; False when nothing was stored (that only costs speed)."""
        try:
            payload = json.dumps({"entry": name, "data": data}, separators=(",", ":"),
                                 default=_not_json).encode()
        except (TypeError, ValueError, RecursionError):
            return False
        if len(payload) + _TAG_BYTES + 1 > limit or not self._is_writable():
            return False
        written = _write_private_file(self.directory / name, self._tag(payload) + b"\n" + payload)
        if written and not self._swept:  # a new entry may have made an older one stale
            self._swept = True
            sweep_if_due(self.directory)
        return written

    def remove(self, name: str) -> None:
        try:
            (self.directory / name).unlink(missing_ok=True)
        except OSError:
            pass

    def _tag(self, payload: bytes) -> bytes:
        return hmac.new(self.key, payload, hashlib.sha256).hexdigest().encode()

    def _is_writable(self) -> bool:
        if self._writable is None:
            self._writable = _is_private_directory(self.directory)
        return self._writable


def open_store(state_dir: Path, workspace: Path) -> CacheStore | None:
    """The workspace's spec cache (`.taskform/cache/specs`); None when the key cannot be kept
    private, and then nothing is cached."""
    if not code_digest():
        return None  # no sources to digest: a change of code could not be told apart
    key_dir = key_directory()
    if key_dir.resolve().is_relative_to(workspace.resolve()):
        return None  # the workspace's author could plant the key
    key = user_key(key_dir)
    return CacheStore(state_dir / "cache" / "specs", key) if key else None


def entry_name(layer: str, *parts: bytes) -> str:
    """The name of a `layer` entry decided by `parts`, under this code and these libraries."""
    digest = hashlib.sha256(environment().encode())
    for part in (layer.encode(), *parts):
        digest.update(len(part).to_bytes(8, "big") + part)  # lengths keep the parts apart
    return f"{digest.hexdigest()}.{layer}.json"


@functools.lru_cache(maxsize=1)
def environment() -> str:
    """What decides an entry besides its own inputs: taskform's source, the libraries that
    parse, template and validate, Python, and the entry format."""
    return "\0".join([str(FORMAT), runner.__version__, code_digest(), yaml_loader(),
                      f"pydantic {library_version('pydantic', 'version.py', 'VERSION')}", f"Jinja2 {library_version('jinja2')}", sys.version])


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the content of every .py file of the `runner` package: any change of
    taskform's code, a kind's settings model included, makes new entries and new memos. Read
    once per process; empty for an install without sources, which then caches nothing."""
    root = Path(runner.__file__).parent
    return source_digest(root, _code_memo(root))


def source_digest(root: Path, memo: Path | None) -> str:
    """The content digest of the .py files under `root`; `memo` (a private file) keeps it with
    the files' signature, so an unchanged tree is not read again."""
    sources = _sources(str(root))
    if not sources:
        return ""
    signature = _signature(root, sources)
    known = _read_regular_file(memo, 256, private=True) if memo else None
    if known and len(known) == 128 and known[:64] == signature.encode():
        return known[64:].decode()
    digest = hashlib.sha256()
    for relative in sources:
        digest.update(relative.encode() + b"\0")
        digest.update(hashlib.sha256((root / relative).read_bytes()).digest())
    found = digest.hexdigest()
    if memo:
        _write_private_file(memo, (signature + found).encode())
    return found


def _sources(root: str, prefix: str = "") -> list[str]:
    """The package's .py files, relative to `root`, sorted; `__pycache__` and dot folders left out."""
    found: list[str] = []
    with os.scandir(os.path.join(root, prefix)) as entries:
        for entry in entries:
            relative = prefix + entry.name
            if entry.is_dir(follow_symlinks=False) and entry.name[0] not in "._":
                found += _sources(root, relative + "/")
            elif entry.name.endswith(".py") and entry.is_file():
                found.append(relative)
    return sorted(found)


def _signature(root: Path, sources: list[str]) -> str:
    """What the kernel says of each source (size, inode, modified and changed times): a write
    changes `st_ctime_ns`, which no tool can set back, so equal signatures mean equal content.
    It is checked in place of reading ~1.5 MB of source on every command (~8 ms)."""
    digest = hashlib.sha256(str(root).encode())
    for relative in sources:
        info = os.stat(os.path.join(root, relative))
        digest.update(f"\0{relative}\0{info.st_size} {info.st_ino} {info.st_mtime_ns} "
                      f"{info.st_ctime_ns}".encode())
    return digest.hexdigest()


def _code_memo(root: Path) -> Path | None:
    """Where the package's last signature and content digest are kept: beside its bytecode, in
    `__pycache__` (whoever can write there can change the code itself); None without one."""
    folder = root / "__pycache__"
    return folder / "taskform-code-digest" if _is_owned_directory_quietly(folder) else None


def yaml_loader() -> str:
    """Which YAML parser reads specs (`yamlsrc` takes libyaml's when PyYAML ships it), told
    without importing PyYAML: a fully cached run never parses YAML."""
    spec = importlib.util.find_spec("yaml")
    folders = list(spec.submodule_search_locations or []) if spec else []
    libyaml = any(next(Path(folder).glob("_yaml.*"), None) for folder in folders)
    return f"{'libyaml' if libyaml else 'pure Python'} events of PyYAML {library_version('yaml')}"


@functools.lru_cache(maxsize=8)
def library_version(module: str, file: str = "__init__.py", name: str = "__version__") -> str:
    """The version a library's package source states (`name = "1.2"` in `file`), read without
    importing the library (Jinja2 would cost a cached validate, which never renders, ~20 ms;
    pydantic more; importlib.metadata ~10 ms); a digest of that source when it states none."""
    spec = importlib.util.find_spec(module)
    folders = list(spec.submodule_search_locations or []) if spec else []
    try:
        source = (Path(folders[0]) / file).read_bytes() if folders else b""
    except OSError:
        source = b""
    found = re.search(rb"^" + re.escape(name.encode()) + rb"""\s*=\s*["']([^"']+)["']""",
                      source, re.M)
    return found.group(1).decode() if found else hashlib.sha256(source).hexdigest()[:16]


def key_directory() -> Path:
    """`$XDG_CACHE_HOME/taskform`, else `~/.cache/taskform` (XDG ignores a relative value)."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "taskform"


def user_key(directory: Path) -> bytes | None:
    """The per-user key in `directory`, made on first use; None when it cannot be kept private."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not _is_owned_directory(directory) or directory.lstat().st_mode & 0o022:
            return None  # someone else could swap the key
        path = directory / "key"
        key = _read_key(path)
        if key is None:  # missing, or readable by others: a fresh one replaces it
            _write_private_file(path, os.urandom(KEY_BYTES))
            key = _read_key(path)  # a concurrent first run may have won: use whichever stands
        return key
    except (OSError, RuntimeError):  # RuntimeError: no home directory to expand `~` to
        return None


def _read_key(path: Path) -> bytes | None:
    key = _read_regular_file(path, KEY_BYTES, private=True)
    return key if key is not None and len(key) == KEY_BYTES else None


def _read_regular_file(path: Path, limit: int, private: bool = False,
                       in_use: bool = False) -> bytes | None:
    """The content of `path` when it is a regular file (not a symlink, FIFO or device) of at
    most `limit` bytes and, with `private`, owned by this user and unreadable to others;
    `in_use` marks a cache entry as read (see cachesweep)."""
    try:
        fd = os.open(path, os.O_RDONLY | _REFUSE_LINKS)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        if private and (info.st_uid != os.geteuid() or info.st_mode & 0o077):
            return None
        content = fh.read(limit + 1)
        if in_use:
            keep_fresh(fd, info.st_mtime)
    return content if len(content) <= limit else None


def _write_private_file(path: Path, content: bytes) -> bool:
    """Replace `path` atomically with a 0600 file; a failure leaves the old one (or none)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")  # 0600, O_EXCL
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.replace(tmp, path)  # replaces a planted symlink itself, never writes through it
        return True
    except OSError:
        Path(tmp).unlink(missing_ok=True)
        return False


def _is_private_directory(directory: Path) -> bool:
    """Make `directory` and the `cache/` above it (0700); True when both, and the state folder
    that holds them, are real folders of this user, so nothing is written through a link."""
    state = directory.parent.parent
    try:
        state.mkdir(parents=True, exist_ok=True)  # `.taskform`: its mode is the state's business
        for folder in (directory.parent, directory):
            folder.mkdir(mode=0o700, exist_ok=True)
        if not all(_is_owned_directory(folder) for folder in (state, directory.parent, directory)):
            return False
        for folder in (directory.parent, directory):
            if folder.lstat().st_mode & 0o077:  # made by an older taskform, or checked out
                folder.chmod(0o700)
        return True
    except OSError:
        return False


def _is_owned_directory_quietly(folder: Path) -> bool:
    try:
        return _is_owned_directory(folder)
    except OSError:
        return False


def _is_owned_directory(folder: Path) -> bool:
    info = folder.lstat()
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")  # bytes from !!binary, for one
