"""`Task` document: competencies + background + scenario -> a generated assessment task (task
JSON, README, starter, solution, grading material) that must pass every quality gate, then a
starter repository and a private answers repository. A task failing a gate is recorded failed
with the reasons and never published. Also the kind of `TaskPool`'s children.

With `verify: docker` the task expands into its grading pipeline (`runner/content/verify.py`):
generation, grading image, locked-down pool, and a rubric step that must find the golden patch
passing and the original failing every criterion. With `verify: deploy` a child deploys the
task to a leased droplet, waits for its health check, runs its kill.sh and checks that nothing of
it is left (`kinds/task_deploy.py`). Those children run first; the Task's own
apply then publishes, and a child that failed fails the Task, so nothing is published."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from runner.address import Address, Selection
from runner.content import publish, taskdir, verify
from runner.content.settings import (
    DeployVerifySettings,
    DockerVerifySettings,
    PublishSettings,
    VerifySettings,
    deploy_verify,
    docker_verify,
)
from runner.kinds import task_draft
from runner.kinds.base import BaseKind, Child, Context, Expansion
from runner.kinds.task_draft import Draft, TaskSpecSettings, make_draft, read_draft
from runner.providers.docker.labels import workspace_tag
from runner.state.base import Record
from runner.vocabulary import Observation


class TaskSettings(TaskSpecSettings):
    publish: PublishSettings = Field(default_factory=PublishSettings)
    verify: VerifySettings | None = Field(
        default=None, description="`docker`: grade the generated task in Docker (golden passes, "
        "original fails) before publishing; `deploy`: deploy it to a droplet, check its health, "
        "run kill.sh and check nothing is left; or {docker: {pool_size, timeout_seconds, repeat, "
        "report}, deploy: {droplet | pool, health, timeout}}")


class TaskKind(BaseKind):
    name = "task"
    settings_model = TaskSettings

    def references(self, settings: TaskSettings) -> Iterable[str | Selection]:
        yield from task_draft.references(settings)
        options = deploy_verify(settings.verify)
        if options is not None:
            yield droplets_of(options)

    def dependency_view(self, ctx: Context, settings: TaskSettings, dependency: str,
                        outputs: Any) -> Any:
        return task_draft.scenario_view(ctx, settings, dependency, outputs)

    def fingerprint(self, ctx: Context, settings: TaskSettings) -> dict[str, str]:
        return task_draft.fingerprint(ctx, settings)

    def expand(self, ctx: Context, settings: TaskSettings,
               expansion: Expansion) -> list[Child] | None:
        if settings.verify is None:
            return None
        raw, repo = dict(expansion.raw), repo_name(ctx, settings)
        options = docker_verify(settings.verify)
        children = [draft_child(repo, raw, options is not None)]
        if options is not None:
            children += verify_children(ctx.address, repo, workspace_tag(str(ctx.workspace.root)),
                                        raw, options)
        deployed = deploy_verify(settings.verify)
        if deployed is not None:
            droplets = [d.removeprefix("droplet.") for d in expansion.depends_on
                        if d.startswith("droplet.") and "[" not in d]
            children.append(deploy_child(ctx.address, raw, droplets))
        return children

    def observe(self, ctx: Context, record: Record) -> Observation:
        outputs = record.outputs
        repo = outputs.get("repo")
        if not repo:
            return Observation(exists=False, reasons=("nothing was generated yet",))
        missing = taskdir.missing(ctx.workspace, repo)
        if missing:
            return Observation(reasons=(f"generated files in .taskform/tasks/{repo} are missing "
                                        f"({', '.join(missing)})",))
        settings = PublishSettings.model_validate((record.settings or {}).get("publish") or {})
        return Observation(reasons=tuple(publish.drift(ctx.workspace, ctx.connections, settings,
                                                       outputs.get("published") or {})))

    def apply(self, ctx: Context, settings: TaskSettings, prior: Record | None) -> dict[str, Any]:
        verified = settings.verify is not None
        if verified:  # its children generated and graded it: publish what they checked
            draft = read_draft(ctx, ctx.outputs(str(ctx.address.child(verify.DRAFT))),
                               ctx.address)
        else:
            draft = make_draft(ctx, settings, repo_name(ctx, settings), ctx.address)
        published = self._publish(ctx, settings, draft)
        outputs = {**draft.outputs, "status": "ready", "published": published}
        if verified:
            outputs["verification"] = verify.summary(
                ctx.address, ctx.outputs, docker=docker_verify(settings.verify) is not None,
                deployed=deploy_verify(settings.verify) is not None)
        return outputs

    def destroy(self, ctx: Context, record: Record) -> None:
        repo = record.outputs.get("repo")
        raw = (record.settings or {}).get("publish") or {}
        published = record.outputs.get("published") or {}
        if published:
            publish.retire(ctx.workspace, ctx.connections, str(ctx.address),
                           PublishSettings.model_validate(raw), published, ctx.log)
        if repo:
            taskdir.remove(ctx.workspace, repo)

    def _publish(self, ctx: Context, settings: TaskSettings, draft: Draft) -> dict[str, Any]:
        generated = draft.generated
        assert generated.draft is not None
        trees = {"starter": generated.draft.code_files,
                 "answers": taskdir.answers_tree(generated, draft.rubrics)}
        return publish.publish(ctx.workspace, ctx.connections, str(ctx.address), ctx.labels(),
                               settings.publish, draft.outputs["repo"], trees,
                               f"taskform: {ctx.address} ({draft.outputs['generation'][:12]})",
                               ctx.log)


def repo_name(ctx: Context, settings: TaskSettings) -> str:
    if settings.publish.repo:
        return settings.publish.repo
    address = ctx.address
    return "-".join([address.parts[-1], *(str(k) for k in address.key)])


def droplets_of(options: DeployVerifySettings) -> str | Selection:
    """The droplets a deployed check may use: the named one, those with the pool's labels, or
    (neither given) every Droplet of the workspace."""
    if options.droplet is not None:
        return f"droplet.{options.droplet}"
    labels = options.pool.labels if options.pool is not None else {}
    at = ("verify", "deploy", "pool", "labels") if options.pool is not None else ("verify",)
    return Selection("droplet", tuple(sorted(labels.items())), at=at)


def draft_child(repo: str, settings: dict[str, Any], graded: bool) -> Child:
    """Generation and gates; `settings` are the Task's, as written."""
    draft_settings = {k: settings[k] for k in verify.DRAFT_KEYS if settings.get(k) is not None}
    if graded:
        draft_settings["verify"] = "docker"
    return Child(key=(verify.DRAFT,), kind="task_draft", settings={**draft_settings, "repo": repo})


def deploy_child(task: Address, settings: dict[str, Any], droplets: list[str]) -> Child:
    """Deployed, healthy, removed, nothing left: after the draft, before publishing."""
    raw = settings["verify"]
    options = raw.get("deploy") if isinstance(raw, dict) else None
    own = {k: options[k] for k in ("health", "timeout") if isinstance(options, dict) and k in options}
    return Child(key=(verify.DEPLOY,), kind="task_deploy",
                 settings={"task": str(task.child(verify.DRAFT)), "droplets": droplets, **own},
                 depends_on=(str(task.child(verify.DRAFT)),))


def verify_children(task: Address, repo: str, workspace_tag: str, settings: dict[str, Any],
                    options: DockerVerifySettings) -> list[Child]:
    """The grading pipeline after the draft; `settings` are the Task's, as written."""
    draft, image, pool = (str(task.child(k)) for k in (verify.DRAFT, verify.IMAGE, verify.POOL))
    folder = "{{ ref('" + draft + "').grading.dir }}"
    grade: dict[str, Any] = {
        "pool": pool, "task_dir": folder, "file": "rubrics.json", "golden": "golden.patch",
        "held_out_tests": "held_out_tests.patch", "solutions": [], "original": True,
        "workdir": "/app", "git_dir": "/srv/pristine.git", "user": "grader",
        "validate": {"golden_must_pass": True, "original_must_fail": True,
                     "repeat": options.repeat}}
    if options.timeout_seconds is not None:
        grade["timeout_seconds"] = options.timeout_seconds
    if options.report:
        grade["report"] = options.report
    return [
        Child(key=(verify.IMAGE,), kind="docker_build",
              settings={"context": folder, "image_tag": verify.image_tag(repo, workspace_tag)}),
        Child(key=(verify.POOL,), kind="docker_pool",
              settings={"image_id": "{{ ref('" + image + "').image_id }}",
                        "pool_size": options.pool_size, "parameters": list(verify.LOCKED_DOWN)}),
        # the pool is named by address, not read in a template: say that the step waits for it
        Child(key=(verify.GRADE,), kind="rubric_set", settings=grade, depends_on=(pool,)),
    ]
