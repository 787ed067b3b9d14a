"""Images as taskform resources: drift (deleted, tag moved) and removal of what is ours."""

from __future__ import annotations

from typing import Any

from runner.errors import StepFailed
from runner.kinds.base import Context
from runner.providers.docker import api_errors, client, is_owned, short_id
from runner.vocabulary import IN_SYNC, Observation


def split_tag(reference: str) -> tuple[str, str]:
    """`repo[:tag]` -> (repo, tag); a registry port is not a tag (`127.0.0.1:5000/x`)."""
    repo, sep, tag = reference.rpartition(":")
    if not sep or "/" in tag:
        return reference, "latest"
    return repo, tag


def find_image(ctx: Context, reference: str) -> Any:
    import docker

    with api_errors(f"inspect image {reference}"):
        try:
            return client(ctx).images.get(reference)
        except docker.errors.ImageNotFound:
            return None


def image_drift(ctx: Context, recorded: dict[str, Any]) -> Observation:
    """Gone, or its tag now points at another image."""
    image_id, tag = recorded.get("image_id") or "", recorded.get("image_tag") or ""
    if not image_id:
        return IN_SYNC
    if find_image(ctx, image_id) is None:
        return Observation(exists=False, reasons=(
            f"image {tag} ({short_id(image_id)}) was deleted outside taskform",))
    current = find_image(ctx, tag) if tag else None
    if tag and current is None:
        return Observation(reasons=(f"tag {tag} was removed outside taskform",))
    if tag and current is not None and current.id != image_id:
        return Observation(reasons=(f"tag {tag} now points to another image "
                                    f"({short_id(current.id)}, not {short_id(image_id)})",))
    return IN_SYNC


def owned_images(ctx: Context) -> list[str]:
    """Ids of every image this resource built in this workspace (old builds included)."""
    from runner.providers.docker import LABEL_ADDRESS, LABEL_WORKSPACE

    filters = {"label": [f"{LABEL_WORKSPACE}={ctx.workspace.root}",
                         f"{LABEL_ADDRESS}={ctx.address}"]}
    with api_errors("list images"):
        return [str(i.id) for i in client(ctx).images.list(all=True, filters=filters)]


def remove_owned_image(ctx: Context, image_id: str, tags: list[str] | None = None,
                       quiet: bool = False) -> None:
    """Untag our tags and delete the image, only if it carries this resource's labels.

    `quiet`: an image still in use (an old build a container runs) is left for `taskform gc`."""
    import docker

    image = find_image(ctx, image_id)
    if image is None:
        return
    if not is_owned(image.labels, ctx.workspace, str(ctx.address)):
        ctx.log(f"left image {short_id(image_id)} alone: taskform did not build it here")
        return
    api = client(ctx).api
    for tag in tags or []:
        if tag in image.tags or f"{tag}:latest" in image.tags:
            with api_errors(f"untag {tag}"):
                try:
                    api.remove_image(tag, noprune=True)
                except docker.errors.ImageNotFound:
                    pass
    try:
        with api_errors(f"remove image {short_id(image_id)}"):
            try:
                api.remove_image(image_id)
                ctx.log(f"removed image {short_id(image_id)}")
            except docker.errors.ImageNotFound:
                pass
    except StepFailed as exc:
        if not quiet:
            raise
        ctx.log(f"kept old image {short_id(image_id)} ({exc.message}); `taskform gc` can "
                "remove it later")
