"""Paths in settings that lead out of the workspace through a symbolic link: refused when
planning, before anything runs. (Paths that are absolute or climb out with `..` are refused
when the spec is validated: `runner.spec.paths`.)"""

from __future__ import annotations

from collections.abc import Container, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runner.kinds.registry import KINDS
from runner.plan import Evaluated

if TYPE_CHECKING:
    from pydantic import BaseModel


def linked_out(root: Path, desired: Mapping[str, Evaluated],
               checked: Container[str] = ()) -> list[str]:
    """One problem per path setting that resolves outside `root`, as the plan reports them;
    `checked`: addresses whose paths are known to stay inside (a recorded expansion's
    children, checked when their parent's reads were: planning/expansion_reuse.py)."""
    problems: list[str] = []
    resolved: dict[str, Path] = {}  # most resources share a few paths ("." as cwd)
    for address, evaluated in desired.items():
        if address in checked:
            continue
        resource = evaluated.resource
        entry = KINDS[resource.kind]
        if not entry.paths:
            continue  # known from the table: its module need not load
        from runner.spec.paths import linked_outside, path_fields, path_settings

        model = entry.kind.settings_model
        if not path_fields(model):
            continue
        for field, path, base in path_settings(model, _normalized(model, evaluated.rendered)):
            target = linked_outside(root, path, base, resolved)
            if target is not None:
                problems.append(f"{address} ({resource.origin}): {field}: {path!r} leads out of "
                                f"the workspace through a symbolic link (to {target})")
    return problems


def _normalized(model: type[BaseModel], rendered: Any) -> Any:
    """The settings in their long form (`file_exists: a.txt` is `{files: [a.txt]}`), or as
    rendered while some value is not known yet."""
    from pydantic import ValidationError

    try:
        return model.model_validate(rendered).model_dump(by_alias=True)
    except ValidationError:
        return rendered
