"""Conformance: every entry of the kind table satisfies the kind contract, and what it declares
it can do is exactly what its class implements (the core trusts the table, not the class)."""

from __future__ import annotations

import inspect

import pytest
from pydantic import BaseModel

from runner.kinds.base import METHODS, BaseKind, Can
from runner.kinds.registry import DOCUMENTS, KINDS, STEP_TYPES, kinds_that

ENTRIES = sorted(KINDS)


@pytest.mark.parametrize("name", ENTRIES)
def test_entry_satisfies_the_protocol(name: str) -> None:
    entry = KINDS[name]
    kind = entry.kind
    assert kind.name == name, f"{entry.where} says its name is {kind.name!r}"
    assert issubclass(kind.settings_model, BaseModel)
    assert kind.settings_model.model_config.get("extra") == "forbid", \
        f"{name}: unknown settings must be errors"
    assert type(kind).apply is not BaseKind.apply, f"{name} does not implement apply"
    for method in ("apply", *METHODS.values()):
        assert callable(getattr(kind, method)), f"{name} lacks {method}"


@pytest.mark.parametrize("name", ENTRIES)
def test_declared_capabilities_match_the_methods_it_implements(name: str) -> None:
    entry = KINDS[name]
    implemented = {can for can, method in METHODS.items()
                   if getattr(type(entry.kind), method) is not getattr(BaseKind, method)}
    assert implemented == set(entry.can), (
        f"{name}: declares {sorted(entry.can - implemented)} without implementing them, "
        f"implements {sorted(implemented - entry.can)} without declaring them")


@pytest.mark.parametrize("name", ENTRIES)
def test_method_signatures_follow_the_protocol(name: str) -> None:
    kind = KINDS[name].kind
    for method in ("apply", *METHODS.values()):
        mine = list(inspect.signature(getattr(kind, method)).parameters)
        base = list(inspect.signature(getattr(BaseKind(), method)).parameters)
        assert len(mine) == len(base), f"{name}.{method}{mine} differs from the contract {base}"


def test_deferring_expansion_implies_expanding() -> None:
    for name, entry in KINDS.items():
        if Can.DEFER_EXPANSION in entry.can:
            assert Can.EXPAND in entry.can, name


def test_documents_and_step_types_come_from_the_one_table() -> None:
    assert {e.name for e in DOCUMENTS.values()} | set(STEP_TYPES) | \
        {n for n, e in KINDS.items() if e.internal} == set(KINDS)
    assert not set(STEP_TYPES) & {e.name for e in DOCUMENTS.values()}


def test_a_summary_names_a_function_that_exists() -> None:
    import importlib

    for name, entry in KINDS.items():
        if entry.summary:
            module, _, function = entry.summary.partition(":")
            assert callable(getattr(importlib.import_module(module), function)), name


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_table_says_which_kinds_name_paths(name: str) -> None:
    """The plan checks paths for symbolic links only for kinds whose entry says `paths`: an
    entry must say it exactly when the settings model has path fields."""
    from runner.spec.paths import path_fields

    entry = KINDS[name]
    assert entry.paths == bool(path_fields(entry.kind.settings_model)), name


def test_a_kind_that_names_a_rubric_file_declares_paths() -> None:
    """validate looks for rubric files only in kinds whose entry says `paths` (so it loads no
    other kind): a settings model that names a rubric without it would go unchecked."""
    from runner.rubric.parse import NamesRubric

    naming = [name for name, entry in KINDS.items()
              if issubclass(entry.kind.settings_model, NamesRubric)]
    assert {"rubric_set", "dynamic_rubric"} <= set(naming)
    assert [name for name in naming if not KINDS[name].paths] == []


def test_kinds_that_can_say_what_each_entry_declares():
    for capability in Can:
        assert kinds_that(capability) == {n for n, e in KINDS.items() if e.does(capability)}
    assert "value" not in kinds_that(Can.OBSERVE) and "docker_pool" in kinds_that(Can.EXPAND)
