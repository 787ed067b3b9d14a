"""How a patch names files (git's `a/` and `b/` prefixes, its C-quoted names) and which file
names decide how tests run. What a patch does is read in `patch_files`; the rules that refuse a
solution are in `patch_rules`."""

from __future__ import annotations

# Files that decide how tests run rather than what they test (SWE-bench #631: a lone
# conftest.py made every test pass). Matched against each touched path's file name.
DEFAULT_PROTECTED = ("conftest.py", "sitecustomize.py", "usercustomize.py", "*.pth", "pytest.ini")

_ESCAPES = {"a": "\a", "b": "\b", "t": "\t", "n": "\n", "v": "\v", "f": "\f", "r": "\r",
            '"': '"', "\\": "\\"}


def strip_prefix(path: str) -> set[str]:
    if path == "/dev/null":
        return set()
    return {path.split("/", 1)[1] if "/" in path else path}


def take_quoted(text: str) -> tuple[str, str]:
    """The C-quoted string at the start of `text`, and what follows it."""
    out, i = [], 1
    while i < len(text) and text[i] != '"':
        if text[i] == "\\" and i + 1 < len(text):
            if text[i + 1:i + 4].isdigit():
                out.append(chr(int(text[i + 1:i + 4], 8)))
                i += 4
                continue
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
            continue
        out.append(text[i])
        i += 1
    raw = "".join(out)
    # git quotes bytes as octal escapes: reassemble them as UTF-8
    return raw.encode("latin-1", "ignore").decode("utf-8", "replace"), text[i + 1:]


def unquote(path: str) -> str:
    return take_quoted(path)[0] if path.startswith('"') else path
