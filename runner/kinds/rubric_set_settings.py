"""The settings of a rubric step (`rubric_set`, and `dynamic_rubric` with task-sync's names on
top): what docs/grading.md's table of `rubric_set` settings says, validated, with task-sync's
own setting names read into taskform's."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ConfigDict, Field, model_validator

from runner.kinds.base import Settings
from runner.rubric.model import Isolation, ResultsFormat
from runner.rubric.parse import JSON_NAME, MARKDOWN_NAME
from runner.rubric.patches import DEFAULT_PROTECTED
from runner.rubric.score import ValidateSettings
from runner.spec.paths import TaskDirPath, WorkspacePath

# settings a grading reads when it runs: they may read other steps' outputs
RUNTIME_KEYS = ("setup", "workdir", "git_dir", "pristine", "expected_tree", "user")


class RubricSetSettings(Settings):
    pool: str = Field(description="the docker_pool or docker_volume_pool step whose containers "
                      "grade: a step name (pool), or an address (pipeline.shared.pool)")
    task_dir: WorkspacePath = Field(default=".", description="folder (in the workspace) holding the rubric "
                          "and the patches")
    file: TaskDirPath | None = Field(default=None, description="the rubric, in task_dir; when not "
                             "set: rubrics.json if it exists, else TASK_DATA.md")
    solutions: list[TaskDirPath] | dict[str, TaskDirPath] | None = Field(
        default=None, description="candidate patch files (named after the file: "
        "solution1.patch → solution1), or {name: file}; default: every solution*.patch in task_dir")
    golden: TaskDirPath | None = Field(default="golden.patch", description="the reference patch; null: "
                               "no golden column")
    original: bool = Field(default=True, description="also grade the unmodified project")
    held_out_tests: TaskDirPath = Field(default="held_out_tests.patch", description="the held-out tests "
                                "patch, applied after each solution")
    setup: list[str] = Field(default_factory=list, description="commands run as root in the work "
                             "dir after the reset, before the solution patch")
    pre_patch: TaskDirPath | None = Field(default=None, description="task-sync's pre_patch.patch: a "
                                  "script file run (with bash) after the setup commands")
    workdir: str = Field(default="/app", description="the project inside the containers")
    git_dir: str | None = Field(default=None, description="its git dir (default <workdir>/.git); "
                                "keep it root-owned")
    pristine: str = Field(default="HEAD", description="the commit every grading starts from")
    expected_tree: str | None = Field(default=None, description="when set, the reset must land "
                                      "on exactly this tree hash")
    user: str = Field(default="grader", description="the non-root user the command runs as (a "
                      "name, or uid:gid)")
    timeout_seconds: float | None = Field(default=None, gt=0, description="per held-out command "
                                          "(default: grading.timeout_seconds in taskform.yaml)")
    kill_after: float = Field(default=0.25, ge=0, le=60, description="seconds between SIGTERM "
                              "and SIGKILL at the deadline, inside the container (the host "
                              "kills the container 0.75 s after the deadline in any case)")
    output_limit: int | None = Field(default=None, gt=0, description="bytes of output kept per "
                                     "grading (default: grading.output_limit)")
    protected: list[str] = Field(default_factory=lambda: list(DEFAULT_PROTECTED),
                                 description="test-harness file names a solution may not touch")
    solution_paths: list[str] | None = Field(
        default=None, description="globs of the paths a solution may touch (`src/**`); "
        "default: the top-level folders (and top-level files) the golden patch touches")
    validate_: ValidateSettings | None = Field(default=None, alias="validate",
                                               description="gates: {golden_must_pass, "
                                               "original_must_fail, repeat}")
    require_lockdown: bool = Field(default=True, description="refuse a pool that is not locked "
                                   "down (network, limits, capabilities, no-new-privileges, init, "
                                   "no host paths or devices)")
    isolation: Isolation = Field(default="fresh", description="fresh: every grading in a "
                                 "sandbox of its own, removed afterwards; reuse: gradings take "
                                 "turns in the pool's containers, reset in between (trusted "
                                 "content only: not tamper-resistant)")
    results: ResultsFormat = Field(default="auto", description="how a criterion proves it "
                                   "passed: auto (the results of the test runner its command "
                                   "starts, else exit code and markers), markers, or junit / "
                                   "go-json (files the command writes into $TASKFORM_RESULTS)")
    report: WorkspacePath | None = Field(default=None, description="write the HTML report to this file "
                               "(in the workspace) after grading, e.g. reports/grading.html")
    files: list[TaskDirPath] | dict[TaskDirPath, Any] | None = Field(
        default=None, description="task-sync's file list: solutionN.patch, golden.patch, "
        "held_out_tests.patch, pre_patch.patch (hashes are ignored)")
    held_out_test: TaskDirPath | None = Field(default=None, description="task-sync's name for "
                                      "held_out_tests")

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="after")
    def _task_sync_names(self) -> RubricSetSettings:
        given = self.model_fields_set
        if self.held_out_test is not None:
            if "held_out_tests" in given:
                raise ValueError("set held_out_tests or task-sync's held_out_test, not both")
            self.held_out_tests = self.held_out_test
        if self.files is not None:
            # here, not above: the set's module loads on every plan, the solutions' only here
            from runner.rubric.solutions import classify_files

            found = classify_files(list(self.files), self.file)
            if "solutions" not in given:
                self.solutions = found.solutions
            if "golden" not in given:
                self.golden = found.golden
            if found.held_out_tests and "held_out_tests" not in given \
                    and self.held_out_test is None:
                self.held_out_tests = found.held_out_tests
            if found.pre_patch and "pre_patch" not in given:
                self.pre_patch = found.pre_patch
        validate = self.validate_
        if validate and validate.golden_must_pass and self.golden is None:
            raise ValueError("validate.golden_must_pass needs a golden patch (golden is null)")
        if validate and validate.original_must_fail and not self.original:
            raise ValueError("validate.original_must_fail needs the original (original is false)")
        return self

    def rubric_files(self) -> list[str]:
        names = [self.file] if self.file else [JSON_NAME, MARKDOWN_NAME]
        return [str(Path(self.task_dir) / name) for name in names]
