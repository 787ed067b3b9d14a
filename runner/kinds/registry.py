"""The one table of kinds. It feeds validation, the JSON Schema, plan and apply.

Adding a kind: write its module, add one line here, add its tests (docs/kinds.md). A kind's
module is imported the first time the kind is used, so a plan loads only the kinds it meets
(taskform starts fast however many kinds there are)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from runner.kinds.contract import Can, Kind

_loaded: dict[str, Kind] = {}


@dataclass(frozen=True)
class KindEntry:
    """`where`: "module:Class" (imported on first use), or the kind itself.
    `document`: the document kind that declares it (None: a pipeline step type).
    `internal`: only made by expansion, never written in a spec.
    `can`: what it does beyond applying (see `Can`); the core calls nothing else.
    `replace_on_change`: a change of its settings replaces it (destroy, then create).
    `fails_with_children`: its children are its parts: a child that failed (or was not
    applied) fails it with the child's error, instead of only blocking it.
    `summary`: "module:function" that apply calls with the records and the addresses of this
    kind it finished, to print something after its summary (the grading matrix, say).
    `side_effects`: False for a kind whose apply only computes its outputs (nothing outside the
    state changes): apply records no intent before it, and a killed run never needs to say
    it was interrupted.
    `paths`: its settings name paths in the workspace (the plan checks that none leads out
    through a symbolic link); the table says so, so a plan need not import the kind to know
    (the conformance test holds it to the settings model).
    `reuse_expansion`: its children's settings and fingerprints are a function of its
    rendering inputs, its dependencies' outputs, the workspace settings and the files and
    folders its expansion resolves through `ctx.path`, so a plan may take the recorded
    children instead of expanding again (runner/planning/expansion_reuse.py)."""

    name: str
    where: str | Kind
    document: str | None = None
    internal: bool = False
    can: frozenset[Can] = frozenset()
    replace_on_change: bool = False
    fails_with_children: bool = False
    summary: str | None = None
    side_effects: bool = True
    paths: bool = False
    reuse_expansion: bool = False

    @property
    def kind(self) -> Kind:
        if not isinstance(self.where, str):
            return self.where
        if self.where not in _loaded:
            module, _, cls = self.where.partition(":")
            _loaded[self.where] = getattr(importlib.import_module(module), cls)()
        return _loaded[self.where]

    def does(self, capability: Can) -> bool:
        return capability in self.can


_K = "runner.kinds."
_O, _D, _E, _DE, _F, _N, _R, _B = (Can.OBSERVE, Can.DESTROY, Can.EXPAND, Can.DEFER_EXPANSION,
                                   Can.FINGERPRINT, Can.NARROW_DEPENDENCIES, Can.REFERENCE,
                                   Can.BUDGET)
_ENGINE = frozenset({_R, _N})  # the Docker kinds: `engine` names a droplet they depend on
_CONTAINER = frozenset({_O, _D, _F}) | _ENGINE
_RUBRIC = frozenset({_O, _D, _E, _DE, _F, _N, _R})
KINDS: dict[str, KindEntry] = {e.name: e for e in [
    KindEntry("value", _K + "value:ValueKind", side_effects=False),
    KindEntry("shell", _K + "shell:ShellKind", can=frozenset({_O, _F}), paths=True),
    KindEntry("file_exists", _K + "file_exists:FileExistsKind", can=frozenset({_O}), paths=True),
    KindEntry("docker_pull", _K + "docker_pull:DockerPullKind", can=frozenset({_O, _D}) | _ENGINE),
    KindEntry("docker_build", _K + "docker_build:DockerBuildKind",
              can=_CONTAINER | {Can.RETIRE}, paths=True),
    KindEntry("docker_run", _K + "docker_run:DockerRunKind", can=_CONTAINER | {Can.CLAIM},
              replace_on_change=True),
    KindEntry("docker_pool", _K + "docker_pool:DockerPoolKind", can=frozenset({_E}) | _ENGINE),
    KindEntry("docker_pool_member", _K + "docker_pool:DockerPoolMemberKind", internal=True,
              can=_CONTAINER, replace_on_change=True),
    KindEntry("docker_shell", _K + "docker_shell:DockerShellKind",
              can=frozenset({_F, _B}) | _ENGINE, paths=True),
    KindEntry("docker_volume_pool", _K + "docker_volume_pool:DockerVolumePoolKind",
              can=frozenset({_E}) | _ENGINE),
    KindEntry("docker_volume_member", _K + "docker_volume_pool:DockerVolumeMemberKind",
              internal=True, can=_CONTAINER, replace_on_change=True),
    KindEntry("docker_extract_volume", _K + "docker_extract_volume:DockerExtractVolumeKind",
              can=_CONTAINER | {Can.CLAIM}),
    KindEntry("rubrics_import", _K + "rubrics_import:RubricsImportKind", can=frozenset({_F}),
              paths=True),
    KindEntry("rubric_set", _K + "rubric_set:RubricSetKind", can=_RUBRIC, paths=True,
              reuse_expansion=True),
    KindEntry("dynamic_rubric", _K + "dynamic_rubric:DynamicRubricKind", can=_RUBRIC, paths=True),
    KindEntry("rubric_shell", _K + "rubric_shell:RubricShellKind", internal=True,
              can=frozenset({_F, _N}), summary="runner.report.grading:apply_summary",
              paths=True),
    KindEntry("competency", _K + "competency:CompetencyKind", document="Competency",
              can=frozenset({_F}), side_effects=False),
    KindEntry("background", _K + "background:BackgroundKind", document="Background",
              side_effects=False),
    KindEntry("scenario_set", _K + "scenario_set:ScenarioSetKind", document="ScenarioSet",
              can=frozenset({_D, _F, _R}), paths=True),
    KindEntry("task", _K + "task:TaskKind", document="Task",
              can=frozenset({_O, _D, _E, _F, _N, _R}), fails_with_children=True, paths=True),
    KindEntry("task_draft", _K + "task_draft:TaskDraftKind", internal=True,
              can=frozenset({_O, _F, _N}), paths=True),
    KindEntry("task_deploy", _K + "task_deploy:TaskDeployKind", internal=True,
              can=frozenset({_D, _N}), paths=True),
    KindEntry("task_pool", _K + "task_pool:TaskPoolKind", document="TaskPool",
              can=frozenset({_E, _R}), paths=True),
    KindEntry("model_task_check", _K + "model_task_check:ModelTaskCheckKind",
              can=frozenset({_O, _F}), paths=True),
    KindEntry("droplet", _K + "droplet:DropletKind", document="Droplet",
              can=frozenset({_O, _D}), paths=True),
    KindEntry("deployment", _K + "deployment:DeploymentKind", document="Deployment",
              can=frozenset({_E, _R}), paths=True),
    KindEntry("deployment_replica", _K + "deployment_replica:DeploymentReplicaKind",
              internal=True, can=frozenset({_O, _D, _F, _N}), paths=True),
]}

DOCUMENTS: dict[str, KindEntry] = {e.document: e for e in KINDS.values() if e.document}
STEP_TYPES: dict[str, KindEntry] = {n: e for n, e in KINDS.items()
                                    if e.document is None and not e.internal}


def kinds_that(capability: Can) -> frozenset[str]:
    """The kinds that declare `capability`: a loop over 5,000 resources asks this set once, not
    each resource's entry (made afresh: tests add kinds to the table)."""
    return frozenset(n for n, e in KINDS.items() if capability in e.can)


def kind(name: str) -> Kind:
    return KINDS[name].kind


def entry(name: str) -> KindEntry:
    return KINDS[name]


def replaces_on_change(name: str) -> bool:
    """For the pure plan: a change of this kind's settings replaces it."""
    found = KINDS.get(name)
    return bool(found and found.replace_on_change)
