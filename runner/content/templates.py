"""Templates: the workspace's own `templates/` first, then the ones shipped with taskform.
Rendered with Jinja2's sandbox and StrictUndefined, so a misspelt variable is an error."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

import runner
from runner.errors import TaskformError
from runner.workspace import Workspace

SHIPPED = Path(runner.__file__).resolve().parent.parent / "templates"


class TemplateMissing(TaskformError):
    """A template that neither the workspace nor taskform provides."""


def roots(ws: Workspace) -> list[Path]:
    """Where templates are looked up, in order."""
    own = ws.root / "templates"
    return [own] if own.resolve() == SHIPPED else [own, SHIPPED]


def find(ws: Workspace, relative: str) -> Path | None:
    for root in roots(ws):
        path = root / relative
        if path.is_file():
            return path
    return None


def require(ws: Workspace, relative: str, what: str) -> Path:
    path = find(ws, relative)
    if path is None:
        places = " or ".join(shown(ws, r / relative) for r in roots(ws))
        raise TemplateMissing(f"{what}: no template {relative} ({places} does not exist)")
    return path


def shown(ws: Workspace, path: Path) -> str:
    """A template path as users see it: workspace-relative, or `taskform:templates/...`."""
    path = path.resolve() if path.exists() else path
    if path.is_relative_to(ws.root):
        return str(path.relative_to(ws.root))
    if path.is_relative_to(SHIPPED):
        return f"taskform:templates/{path.relative_to(SHIPPED)}"
    return str(path)


def environment(ws: Workspace) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=FileSystemLoader([str(r) for r in roots(ws)]),
                               undefined=StrictUndefined, keep_trailing_newline=True,
                               trim_blocks=True, lstrip_blocks=True, autoescape=False)
    env.filters["sentence"] = sentence
    return env


def sentence(text: object) -> str:
    """`{{ x | sentence }}`: the text stripped and ending like a sentence, so a background
    written without a final period does not run into the next one."""
    value = str(text).strip()
    if value and value[-1] not in ".!?:;…" and not value.endswith((".)", '."', ".'")):
        value += "."
    return value


def render_file(ws: Workspace, path: Path, variables: dict[str, Any]) -> str:
    """Render one template file; errors name the file and line."""
    where = shown(ws, path)
    try:
        template = environment(ws).from_string(path.read_text())
        return template.render(**variables)
    except TemplateSyntaxError as exc:
        raise TaskformError(f"{where}:{exc.lineno}: invalid template: {exc.message}") from None
    except TemplateError as exc:
        raise TaskformError(f"{where}: cannot render: {exc}") from None


def render_text(ws: Workspace, text: str, variables: dict[str, Any], where: str) -> str:
    try:
        return environment(ws).from_string(text).render(**variables)
    except TemplateSyntaxError as exc:
        raise TaskformError(f"{where}:{exc.lineno}: invalid template: {exc.message}") from None
    except TemplateError as exc:
        raise TaskformError(f"{where}: cannot render: {exc}") from None


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:32]


def tree_digests(ws: Workspace, folder: str) -> dict[str, str]:
    """`template:<folder>/<file>` components for every file of the first root holding `folder`."""
    for root in roots(ws):
        base = root / folder
        if base.is_dir():
            return {f"template:{folder}/{p.relative_to(base)}": digest(p)
                    for p in sorted(base.rglob("*")) if p.is_file()}
    return {}
