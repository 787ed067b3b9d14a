"""Images as taskform resources: drift (deleted, tag moved), what a build context sends,
removal of what is ours, and an image sent from one engine to another."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.docker.engine import DockerEngine, ImageInfo
from runner.providers.docker.labels import Owner, short_id
from runner.vocabulary import IN_SYNC, Observation

Log = Callable[[str], None]


def image_drift(engine: DockerEngine, recorded: dict[str, Any]) -> Observation:
    """Gone, or its tag now points at another image."""
    image_id, tag = recorded.get("image_id") or "", recorded.get("image_tag") or ""
    if not image_id:
        return IN_SYNC
    if engine.image(image_id) is None:
        return Observation(exists=False, reasons=(
            f"image {tag} ({short_id(image_id)}) was deleted outside taskform",))
    current = engine.image(tag) if tag else None
    if tag and current is None:
        return Observation(reasons=(f"tag {tag} was removed outside taskform",))
    if tag and current is not None and current.id != image_id:
        return Observation(reasons=(f"tag {tag} now points to another image "
                                    f"({short_id(current.id)}, not {short_id(image_id)})",))
    return IN_SYNC


def context_files(context: Path, excludes: list[str], dockerfile: str) -> list[str]:
    """The paths (relative to `context`) a build sends to the engine: the context minus the
    exclude patterns, as Docker's own `.dockerignore` rules select them."""
    from docker.utils.build import exclude_paths

    return sorted(exclude_paths(str(context), excludes, dockerfile=dockerfile))


def owned_images(engine: DockerEngine, owner: Owner) -> list[str]:
    """Ids of every image this owner built (old builds included)."""
    return [i.id for i in engine.images(owner.filters())]


def remove_owned_image(engine: DockerEngine, owner: Owner, image_id: str, log: Log,
                       tags: list[str] | None = None, quiet: bool = False) -> None:
    """Untag our tags and delete the image, only if it carries this owner's labels.

    `quiet`: an image still in use (an old build a container runs) is left for `taskform gc`."""
    image = engine.image(image_id)
    if image is None:
        return
    if not owner.owns(image.labels):
        log(f"left image {short_id(image_id)} alone: taskform did not build it here")
        return
    for tag in tags or []:
        if tag in image.tags or f"{tag}:latest" in image.tags:
            engine.remove_image(tag, noprune=True)
    try:
        if engine.remove_image(image_id):
            log(f"removed image {short_id(image_id)}")
    except StepFailed as exc:
        if not quiet:
            raise
        log(f"kept old image {short_id(image_id)} ({exc.message}); `taskform gc` can "
            "remove it later")


def send_image(source: DockerEngine, target: DockerEngine, reference: str,
               call: Call) -> ImageInfo:
    """Stream an image from `source` to `target`, `docker save | docker load` with nothing
    written between: the image keeps its id there (ids are digests of the content), and a tag
    given as `reference` comes along."""
    image = source.image(reference)
    if image is None:
        raise StepFailed(f"image {reference} is on neither {target.name} nor {source.name}",
                         retryable=False)
    sent = [0]
    started = time.monotonic()

    def chunks() -> Iterator[bytes]:
        for chunk in source.save_image(reference):
            call.check_cancelled()
            sent[0] += len(chunk)
            yield chunk

    call.log(f"sending image {reference} ({short_id(image.id)}) from {source.name} to "
             f"{target.name}")
    target.load_image(chunks())
    found = target.image(image.id)
    if found is None:
        raise StepFailed(f"image {short_id(image.id)} was sent to {target.name}, but it is not "
                         "there", retryable=False)
    call.log(f"sent image {short_id(image.id)} to {target.name}: {sent[0] / 1e6:.1f} MB in "
             f"{time.monotonic() - started:.1f}s")
    return found
