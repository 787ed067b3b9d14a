"""Which test runners a criterion's command starts, and which tests it names, read from the
command text: `python3 -m unittest tests.test_x.Case`, `pytest tests/test_x.py::test_y`,
`python3 -m pytest ...`, `go test -run '^TestX$' ./...`, `node --test test/x.test.js`.

Only runners called by their bare name are found (`python3`, not `/usr/bin/python3`): those
are the ones taskform's harness stands in for on the PATH. A command it finds none in is
graded by exit code and markers, the weaker mode."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator

from runner.rubric.evidence.model import Invocation

_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;", "|&", "\n"}
_PYTHON = re.compile(r"^python(3(\.\d+)?)?$")
_PREFIXES = {"exec", "command", "time", "nice", "env", "xvfb-run"}
# python's own options that take a value as the next word
_PYTHON_VALUE_OPTIONS = {"-W", "-X", "--check-hash-based-pycs"}
_UNITTEST_VALUE_OPTIONS = {"-k", "--durations"}
_UNITTEST_OPEN = {"-k"}
_PYTEST_VALUE_OPTIONS = {
    "-k", "-m", "-p", "-c", "-o", "-W", "-n", "-r", "--maxfail", "--deselect", "--ignore",
    "--ignore-glob", "--rootdir", "--confcutdir", "--basetemp", "--tb", "--durations",
    "--junitxml", "--junit-xml", "--log-level", "--import-mode", "--capture", "--color",
    "--cov", "--cov-report", "--timeout", "--override-ini", "--config-file", "--pyargs",
    "--dist", "--numprocesses", "--durations-min", "--junit-prefix", "--log-cli-level"}
_PYTEST_OPEN = {"-k", "-m", "--deselect", "--lf", "--last-failed", "--sw", "--stepwise"}
_GO_VALUE_OPTIONS = {"-run", "-skip", "-count", "-timeout", "-p", "-parallel", "-tags",
                     "-cpu", "-bench", "-benchtime", "-coverprofile", "-covermode",
                     "-coverpkg", "-exec", "-o", "-shuffle", "-vet", "-ldflags", "-gcflags"}


def invocations(command: str) -> list[Invocation]:
    """Every known test runner the command starts, in order."""
    found = []
    for words in _simple_commands(command):
        invocation = _invocation(_program(words))
        if invocation is not None:
            found.append(invocation)
    return found


def _simple_commands(command: str) -> Iterator[list[str]]:
    """The command's simple commands (split at `&&`, `;`, `|`, newlines...), as words."""
    lexer = shlex.shlex(command.replace("\\\n", " "), posix=True, punctuation_chars=True)
    lexer.whitespace = " \t\r"  # a newline separates commands, as in the shell
    lexer.whitespace_split = True
    words: list[str] = []
    try:
        for token in lexer:
            if token in _OPERATORS:
                if words:
                    yield words
                words = []
            else:
                words.append(token)
    except ValueError:
        return  # unbalanced quotes: the shell would refuse it too; nothing is found
    if words:
        yield words


def _program(words: list[str]) -> list[str]:
    """The words from the program on: environment assignments and wrappers dropped."""
    i = 0
    while i < len(words):
        word = words[i]
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word) or word in _PREFIXES:
            i += 1
        elif word == "timeout":  # timeout [-k N] [-s SIG] DURATION program...
            i += 1
            while i < len(words) and words[i].startswith("-"):
                i += 2 if words[i] in ("-k", "-s") else 1
            i += 1
        else:
            break
    return words[i:]


def _invocation(words: list[str]) -> Invocation | None:
    if not words:
        return None
    program, args = words[0], words[1:]
    if _PYTHON.match(program):
        module, rest = _python_module(args)
        if module == "unittest":
            return _unittest(rest)
        if module == "pytest":
            return _pytest(rest)
        return None
    if program in ("pytest", "py.test"):
        return _pytest(args)
    if program == "go" and args[:1] == ["test"]:
        return _go(args[1:])
    if program == "node" and "--test" in args:
        return _node(args)
    return None


def _python_module(args: list[str]) -> tuple[str | None, list[str]]:
    i = 0
    while i < len(args) and args[i].startswith("-") and args[i] not in ("-m", "-c", "-"):
        i += 2 if args[i] in _PYTHON_VALUE_OPTIONS else 1
    if i + 1 < len(args) and args[i] == "-m":
        return args[i + 1], args[i + 2:]
    return None, []


def _positional(args: list[str], takes_value: set[str]) -> tuple[list[str], set[str]]:
    """Positional words and the options given (an option's value is not positional)."""
    names, options, i = [], set(), 0
    while i < len(args):
        word = args[i]
        if word.startswith("-") and word != "-":
            option = word.split("=", 1)[0]
            options.add(option)
            i += 2 if option in takes_value and "=" not in word else 1
            continue
        names.append(word)
        i += 1
    return names, options


def _named(runner: str, names: list[str], open_: bool) -> Invocation:
    """Names computed by the shell (`$X`, globs) are not known here: they make it open."""
    fixed = [n for n in names if not any(c in n for c in "$*?[`")]
    return Invocation(runner, tuple(fixed), exact=not open_ and len(fixed) == len(names))


def _unittest(args: list[str]) -> Invocation:
    if args[:1] == ["discover"]:
        return Invocation("unittest", (), exact=False)
    names, options = _positional(args, _UNITTEST_VALUE_OPTIONS)
    return _named("unittest", names, bool(options & _UNITTEST_OPEN) or not names)


def _pytest(args: list[str]) -> Invocation:
    names, options = _positional(args, _PYTEST_VALUE_OPTIONS)
    return _named("pytest", [n.removeprefix("./") for n in names],
                  bool(options & _PYTEST_OPEN) or not names)


def _go(args: list[str]) -> Invocation:
    run = None
    for i, word in enumerate(args):
        if word in ("-run", "--run") and i + 1 < len(args):
            run = args[i + 1]
        elif word.startswith(("-run=", "--run=")):
            run = word.split("=", 1)[1]
    names = _go_names(run) if run else None
    return Invocation("go", tuple(names or ()), exact=names is not None)


def _go_names(pattern: str) -> list[str] | None:
    """`^TestA$|^TestB$` or `^(TestA|TestB)$`: the test names; None for other patterns."""
    inner = re.fullmatch(r"\^\(([^()]+)\)\$", pattern)
    parts = [f"^{p}$" for p in inner.group(1).split("|")] if inner else pattern.split("|")
    names = [re.fullmatch(r"\^([A-Za-z_][A-Za-z0-9_]*)\$", p.strip()) for p in parts]
    if not all(names):
        return None
    return [m.group(1) for m in names if m]


def _node(args: list[str]) -> Invocation:
    files = [a for a in args if not a.startswith("-")]
    return Invocation("node", tuple(files), exact=False)
