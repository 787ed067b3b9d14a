"""Where each value of a YAML document sits, by path: paths, and the walks that copy and move
values with their places (for aliases and merge keys)."""

from __future__ import annotations

from typing import Any

Path_ = tuple[str | int, ...]
Places = dict[Path_, tuple[int, int]]


def format_path(path: Path_) -> str:
    """`spec.steps.build.docker_build.files[0]` style."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def walk(value: Any, prefix: Path_ = ()) -> tuple[list[Path_], list[Path_]]:
    """Every value's path and every mapping key's path below `prefix`, depth first."""
    value_paths: list[Path_] = []
    key_paths: list[Path_] = []

    def visit(item: Any, path: Path_) -> None:
        value_paths.append(path)
        if type(item) is dict:
            for key, child in item.items():
                key_paths.append(path + (key,))
                visit(child, path + (key,))
        elif type(item) is list:
            for i, child in enumerate(item):
                visit(child, path + (i,))
    visit(value, prefix)
    return value_paths, key_paths


def copy_value(value: Any) -> Any:
    if type(value) is dict:
        return {k: copy_value(v) for k, v in value.items()}
    if type(value) is list:
        return [copy_value(v) for v in value]
    return value


def place_all(value: Any, path: Path_, place: tuple[int, int], positions: Places,
              key_positions: Places) -> None:
    """An alias's values are placed where the alias is written: that is where they are used."""
    value_paths, key_paths = walk(value, path)
    positions.update(dict.fromkeys(value_paths, place))
    key_positions.update(dict.fromkeys(key_paths, place))


def move_places(value: Any, old: Path_, new: Path_ | None, positions: Places,
                key_positions: Places) -> int:
    """Move the places of `value` from `old` to `new` (None: forget them); how many values."""
    value_paths, key_paths = walk(value)
    for places, paths in ((positions, value_paths), (key_positions, key_paths)):
        for rel in paths:
            place = places.pop(old + rel, None)
            if place is not None and new is not None:
                places[new + rel] = place
    return len(value_paths)
