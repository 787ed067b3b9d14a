"""The one table of kinds. It feeds validation, the JSON Schema, plan and apply.

Adding a kind: write its module, add one line here, add its tests (docs/kinds.md)."""

from __future__ import annotations

from dataclasses import dataclass

from runner.kinds.background import BackgroundKind
from runner.kinds.base import Kind
from runner.kinds.competency import CompetencyKind
from runner.kinds.docker_build import DockerBuildKind
from runner.kinds.docker_extract_volume import DockerExtractVolumeKind
from runner.kinds.docker_pool import DockerPoolKind, DockerPoolMemberKind
from runner.kinds.docker_pull import DockerPullKind
from runner.kinds.docker_run import DockerRunKind
from runner.kinds.docker_shell import DockerShellKind
from runner.kinds.docker_volume_pool import DockerVolumeMemberKind, DockerVolumePoolKind
from runner.kinds.dynamic_rubric import DynamicRubricKind
from runner.kinds.file_exists import FileExistsKind
from runner.kinds.model_task_check import ModelTaskCheckKind
from runner.kinds.rubric_set import RubricSetKind
from runner.kinds.rubric_shell import RubricShellKind
from runner.kinds.rubrics_import import RubricsImportKind
from runner.kinds.scenario_set import ScenarioSetKind
from runner.kinds.shell import ShellKind
from runner.kinds.task import TaskKind
from runner.kinds.task_draft import TaskDraftKind
from runner.kinds.task_pool import TaskPoolKind
from runner.kinds.value import ValueKind


@dataclass(frozen=True)
class KindEntry:
    """`document`: the document kind that declares it (None: a pipeline step type).
    `internal`: only made by expansion, never written in a spec."""

    kind: Kind
    document: str | None = None
    internal: bool = False

    @property
    def name(self) -> str:
        return self.kind.name


KINDS: dict[str, KindEntry] = {e.name: e for e in [
    KindEntry(ValueKind()),
    KindEntry(ShellKind()),
    KindEntry(FileExistsKind()),
    KindEntry(DockerPullKind()),
    KindEntry(DockerBuildKind()),
    KindEntry(DockerRunKind()),
    KindEntry(DockerPoolKind()),
    KindEntry(DockerPoolMemberKind(), internal=True),
    KindEntry(DockerShellKind()),
    KindEntry(DockerVolumePoolKind()),
    KindEntry(DockerVolumeMemberKind(), internal=True),
    KindEntry(DockerExtractVolumeKind()),
    KindEntry(RubricsImportKind()),
    KindEntry(RubricSetKind()),
    KindEntry(DynamicRubricKind()),
    KindEntry(RubricShellKind(), internal=True),
    KindEntry(CompetencyKind(), document="Competency"),
    KindEntry(BackgroundKind(), document="Background"),
    KindEntry(ScenarioSetKind(), document="ScenarioSet"),
    KindEntry(TaskKind(), document="Task"),
    KindEntry(TaskDraftKind(), internal=True),
    KindEntry(TaskPoolKind(), document="TaskPool"),
    KindEntry(ModelTaskCheckKind()),
]}

DOCUMENTS: dict[str, KindEntry] = {e.document: e for e in KINDS.values() if e.document}
STEP_TYPES: dict[str, KindEntry] = {n: e for n, e in KINDS.items()
                                    if e.document is None and not e.internal}


def kind(name: str) -> Kind:
    return KINDS[name].kind
