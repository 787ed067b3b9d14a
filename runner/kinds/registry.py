"""The one table of kinds. It feeds validation, the JSON Schema, plan and apply.

Adding a kind: write its module, add one line here, add its tests (docs/kinds.md). A kind's
module is imported the first time the kind is used, so a plan loads only the kinds it meets
(taskform starts fast however many kinds there are)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from runner.kinds.base import Kind

_loaded: dict[str, Kind] = {}


@dataclass(frozen=True)
class KindEntry:
    """`where`: "module:Class" (imported on first use), or the kind itself.
    `document`: the document kind that declares it (None: a pipeline step type).
    `internal`: only made by expansion, never written in a spec."""

    name: str
    where: str | Kind
    document: str | None = None
    internal: bool = False

    @property
    def kind(self) -> Kind:
        if not isinstance(self.where, str):
            return self.where
        if self.where not in _loaded:
            module, _, cls = self.where.partition(":")
            _loaded[self.where] = getattr(importlib.import_module(module), cls)()
        return _loaded[self.where]


_K = "runner.kinds."
KINDS: dict[str, KindEntry] = {e.name: e for e in [
    KindEntry("value", _K + "value:ValueKind"),
    KindEntry("shell", _K + "shell:ShellKind"),
    KindEntry("file_exists", _K + "file_exists:FileExistsKind"),
    KindEntry("docker_pull", _K + "docker_pull:DockerPullKind"),
    KindEntry("docker_build", _K + "docker_build:DockerBuildKind"),
    KindEntry("docker_run", _K + "docker_run:DockerRunKind"),
    KindEntry("docker_pool", _K + "docker_pool:DockerPoolKind"),
    KindEntry("docker_pool_member", _K + "docker_pool:DockerPoolMemberKind", internal=True),
    KindEntry("docker_shell", _K + "docker_shell:DockerShellKind"),
    KindEntry("docker_volume_pool", _K + "docker_volume_pool:DockerVolumePoolKind"),
    KindEntry("docker_volume_member", _K + "docker_volume_pool:DockerVolumeMemberKind",
              internal=True),
    KindEntry("docker_extract_volume", _K + "docker_extract_volume:DockerExtractVolumeKind"),
    KindEntry("rubrics_import", _K + "rubrics_import:RubricsImportKind"),
    KindEntry("rubric_set", _K + "rubric_set:RubricSetKind"),
    KindEntry("dynamic_rubric", _K + "dynamic_rubric:DynamicRubricKind"),
    KindEntry("rubric_shell", _K + "rubric_shell:RubricShellKind", internal=True),
    KindEntry("competency", _K + "competency:CompetencyKind", document="Competency"),
    KindEntry("background", _K + "background:BackgroundKind", document="Background"),
    KindEntry("scenario_set", _K + "scenario_set:ScenarioSetKind", document="ScenarioSet"),
    KindEntry("task", _K + "task:TaskKind", document="Task"),
    KindEntry("task_draft", _K + "task_draft:TaskDraftKind", internal=True),
    KindEntry("task_pool", _K + "task_pool:TaskPoolKind", document="TaskPool"),
    KindEntry("model_task_check", _K + "model_task_check:ModelTaskCheckKind"),
]}

DOCUMENTS: dict[str, KindEntry] = {e.document: e for e in KINDS.values() if e.document}
STEP_TYPES: dict[str, KindEntry] = {n: e for n, e in KINDS.items()
                                    if e.document is None and not e.internal}


def kind(name: str) -> Kind:
    return KINDS[name].kind
