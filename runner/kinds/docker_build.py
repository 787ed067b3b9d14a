"""`docker_build` (task-sync's step, its lost-settings bug fixed): build an image, and rebuild
only when its fingerprint changes: the watched files (default: the whole context minus
.dockerignore), the Dockerfile, the build args and the base images' ids. The build log streams
to the progress display and its tail is kept in the outputs.

The image is known by its id, which dependents read (`{{ steps.build.image_id }}`); its tags are
applied at build for people and other tools. A deleted image is drift and rebuilds with the
reason; a tag someone else moved (another workspace building the same tag) is only a note.
A rebuild makes the new image first and removes the old one only after the resources that used
it in the same apply have moved on (`retire`): a replaced image never pulls the floor from under
a container still running it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator

from runner.errors import StepFailed
from runner.fingerprint import digest
from runner.kinds.base import Context, cached_digest, hash_files
from runner.kinds.engines import (
    OnEngine,
    OnEngineSettings,
    engine,
    recorded_engine,
)
from runner.providers.docker.engine import BuildRequest, observing
from runner.providers.docker.images import (
    built_image_drift,
    context_files,
    owned_images,
    remove_owned_image,
    retire_image,
    workspace_tag,
)
from runner.providers.docker.labels import short_id
from runner.spec.paths import PathCheck, WorkspacePath
from runner.state.base import Record
from runner.vocabulary import Observation

InContext = Annotated[str, AfterValidator(PathCheck(within="context"))]
_FROM = re.compile(r"^\s*FROM\s+(?:--platform=\S+\s+)?(?P<image>\S+)(?:\s+AS\s+(?P<stage>\S+))?",
                   re.IGNORECASE)


BUILD_FLAGS = {"--network": "network_mode", "--platform": "platform", "--build-arg": "buildargs",
               "--target": "target"}


class DockerBuildSettings(OnEngineSettings):
    image_tag: str = Field(description="the tag of the built image, e.g. app:dev")
    context: WorkspacePath = Field(default=".", description="build context, inside the workspace")
    dockerfile: InContext = Field(default="Dockerfile", description="relative to the context")
    tags: list[str] = Field(default_factory=list, description="more tags for the same image")
    build_args: dict[str, str] = Field(default_factory=dict)
    target: str | None = Field(default=None, description="multi-stage target")
    params: list[str] = Field(default_factory=list, description="--no-cache, --pull, "
                              "--network X, --platform X, --build-arg K=V")
    files: list[WorkspacePath] | None = Field(default=None, description="watched files (globs, relative "
                                    "to the workspace); default: the whole context minus "
                                    ".dockerignore")

    @field_validator("params")
    @classmethod
    def _params(cls, value: list[str]) -> list[str]:
        parse_build_params(value)
        return value


def parse_build_params(params: list[str]) -> dict[str, Any]:
    """SDK build arguments for docker-build style flags; ValueError names a bad one."""
    opts: dict[str, Any] = {}
    words = " ".join(params).split()
    i = 0
    while i < len(words):
        word, i = words[i], i + 1
        name, _, value = word.partition("=")
        if name in ("--no-cache", "--pull"):
            opts["nocache" if name == "--no-cache" else "pull"] = True
            continue
        if name not in BUILD_FLAGS:
            raise ValueError(f"unsupported docker build parameter {word!r}; supported: "
                             "--no-cache, --pull, " + ", ".join(BUILD_FLAGS))
        if not value:
            if i >= len(words):
                raise ValueError(f"{name} needs a value")
            value, i = words[i], i + 1
        if name == "--build-arg":
            key, _, val = value.partition("=")
            opts.setdefault("buildargs", {})[key] = val
        else:
            opts[BUILD_FLAGS[name]] = value
    return opts


def build_options(settings: DockerBuildSettings) -> dict[str, Any]:
    opts = parse_build_params(settings.params)
    opts["buildargs"] = {**opts.get("buildargs", {}), **settings.build_args}
    if settings.target:
        opts["target"] = settings.target
    return opts


class DockerBuildKind(OnEngine):
    name = "docker_build"
    settings_model = DockerBuildSettings

    def fingerprint(self, ctx: Context, settings: DockerBuildSettings) -> dict[str, str]:
        context = _context_dir(ctx, settings)
        dockerfile = context / settings.dockerfile
        out = hash_files(ctx, settings.files, "files") if settings.files is not None \
            else _context_files(ctx, context, settings.dockerfile)
        if dockerfile.is_file():
            out[f"file:{ctx.workspace.relative(dockerfile)}"] = cached_digest(ctx, dockerfile)
            with observing():
                out.update(_base_images(ctx, dockerfile, settings))
        return out

    def observe(self, ctx: Context, record: Record) -> Observation:
        with observing():
            return built_image_drift(recorded_engine(ctx, record), record.outputs,
                                     str(ctx.address))

    def apply(self, ctx: Context, settings: DockerBuildSettings, prior: Record | None) -> dict[str, Any]:
        context = _context_dir(ctx, settings)
        if not (context / settings.dockerfile).is_file():
            raise StepFailed(f"no Dockerfile at {ctx.workspace.relative(context)}/"
                             f"{settings.dockerfile}", retryable=False)
        docker, owner = engine(ctx, settings.engine), ctx.owner()
        # where it is built is not what it is: the same labels (and image) on every engine
        config_hash = digest(settings.model_dump(exclude={"engine"}))[:16]
        tag, extras = _tags(ctx, settings)
        ctx.log(f"building {tag} from {ctx.workspace.relative(context)}")
        built = docker.build(BuildRequest(
            context=context, dockerfile=settings.dockerfile, tag=tag,
            labels=owner.labels(config_hash), excludes=tuple(_excludes(ctx, context)),
            options=build_options(settings)), ctx.call())
        image_id, tail = built.image_id, built.log_tail
        image = docker.image(image_id)
        if image is None or not owner.owns(image.labels):
            raise StepFailed(f"the built image {short_id(image_id)} does not carry taskform's "
                             "labels", retryable=False)
        for extra in extras:
            docker.tag(image_id, extra)
        # the image this replaces stays until what runs it has moved on: see retire
        return {"image_id": image_id, "image_tag": tag, "tags": [tag, *extras], "log_tail": tail}

    def retire(self, ctx: Context, old: Record, new: Record) -> str | None:
        old_id = old.outputs.get("image_id")
        if not old_id or old_id == new.outputs.get("image_id"):
            return None
        return retire_image(recorded_engine(ctx, old), ctx.owner(), str(old_id),
                            [str(t) for t in old.outputs.get("tags") or []], ctx.log)

    def destroy(self, ctx: Context, record: Record) -> None:
        docker, owner = recorded_engine(ctx, record), ctx.owner()
        image_id = record.outputs.get("image_id")
        if image_id:
            remove_owned_image(docker, owner, image_id, ctx.log,
                               tags=record.outputs.get("tags") or [])
        for old in owned_images(docker, owner):  # earlier builds kept while containers ran them
            remove_owned_image(docker, owner, old, ctx.log)


def _tags(ctx: Context, settings: DockerBuildSettings) -> tuple[str, list[str]]:
    """The tag and extra tags as written, or with this workspace's suffix when `docker.tag_scope`
    is `workspace` (no other workspace on the engine then builds the same tag)."""
    tags = [settings.image_tag, *settings.tags]
    if ctx.workspace.config.docker.tag_scope == "workspace":
        tags = [workspace_tag(t, str(ctx.workspace.root)) for t in tags]
    return tags[0], tags[1:]


def _context_dir(ctx: Context, settings: DockerBuildSettings) -> Path:
    context = ctx.path(settings.context, "context")
    if not context.is_dir():
        raise StepFailed(f"context {settings.context!r} is not a folder", retryable=False)
    return context


def _excludes(ctx: Context, context: Path) -> list[str]:
    """.dockerignore's patterns, plus taskform's state folder when the context holds it (it
    changes on every apply: sent to the engine, it would make every build a new one)."""
    ignore = context / ".dockerignore"
    patterns = []
    if ignore.is_file():
        patterns = [p.strip() for p in ignore.read_text().splitlines()
                    if p.strip() and not p.startswith("#")]
    state = ctx.workspace.state_dir.resolve()
    if state.is_relative_to(context):
        patterns.append(str(state.relative_to(context)))
    return patterns


def _context_files(ctx: Context, context: Path, dockerfile: str) -> dict[str, str]:
    """`file:` components for exactly what the engine will receive."""
    out = {}
    for rel in context_files(context, _excludes(ctx, context), dockerfile):
        path = context / rel
        if path.is_file() and not path.is_symlink():
            out[f"file:{ctx.workspace.relative(path)}"] = cached_digest(ctx, path)
    return out


def _base_images(ctx: Context, dockerfile: Path, settings: DockerBuildSettings) -> dict[str, str]:
    """`base image <ref>` components: the id each FROM image has on the engine now (with
    `-refresh=false`, the id recorded for it, when there is one: the engine is not asked)."""
    build_args = settings.build_args
    stages: set[str] = set()
    out = {}
    record = ctx.recorded.get(str(ctx.address))
    known = record.fingerprint if record is not None and not ctx.refresh else {}
    for line in dockerfile.read_text(errors="replace").splitlines():
        m = _FROM.match(line)
        if not m:
            continue
        image = re.sub(r"\$\{?(\w+)\}?", lambda a: build_args.get(a.group(1), a.group(0)),
                       m.group("image"))
        key = f"base image {image}"
        if key in known:
            out[key] = known[key]
        elif image.lower() not in stages and image != "scratch":
            found = engine(ctx, settings.engine).image(image)
            out[key] = found.id if found else "missing"
        if m.group("stage"):
            stages.add(m.group("stage").lower())
    return out
