"""Images as taskform resources: drift (deleted, tag moved), what a build context sends,
removal of what is ours, and an image sent from one engine to another."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from runner.errors import StepFailed
from runner.providers.call import Call
from runner.providers.docker import labels
from runner.providers.docker.engine import DockerEngine, ImageInfo, split_tag
from runner.providers.docker.ignore import context_paths
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


def built_image_drift(engine: DockerEngine, recorded: dict[str, Any],
                      address: str = "") -> Observation:
    """An image taskform built is known by its id: only its deletion is drift. A tag of it
    that someone moved or removed (another workspace building the same tag, say) is a note:
    nothing here uses the tag, so nothing changes."""
    image_id = str(recorded.get("image_id") or "")
    tags = [str(t) for t in recorded.get("tags") or [recorded.get("image_tag")] if t]
    if not image_id:
        return IN_SYNC
    image = engine.image(image_id)
    if image is None:
        shown = tags[0] if tags else "of this step"
        return Observation(exists=False, reasons=(
            f"image {shown} ({short_id(image_id)}) was deleted outside taskform",))
    notes = []
    again = f" (`taskform apply -replace {address}` builds and tags it again)" if address else ""
    for tag in tags:
        if full_tag(tag) in image.tags:
            continue
        current = engine.image(tag)
        where = "was removed" if current is None else \
            f"now points to another image ({short_id(current.id)})"
        notes.append(f"tag {tag} {where}; this workspace goes on using the image it built "
                     f"({short_id(image_id)}) by its id{again}")
    return Observation(notes=tuple(notes))


def full_tag(reference: str) -> str:
    """`repo[:tag]` as the engine lists it: `repo:latest` when no tag is given."""
    repo, tag = split_tag(reference)
    return f"{repo}:{tag}"


def workspace_tag(reference: str, workspace: str) -> str:
    """A tag only this workspace uses: `repo:tag-<6 hex of the workspace path>`."""
    repo, tag = split_tag(reference)
    return f"{repo}:{tag}-{labels.workspace_tag(workspace)}"


def retire_image(engine: DockerEngine, owner: Owner, image_id: str, ours: list[str],
                 log: Log) -> str | None:
    """Remove an image a rebuild replaced, now that what used it has moved on; a message when it
    has to stay: a container still uses it, or a tag taskform did not put there (`ours`: the
    tags it did) points to it."""
    image = engine.image(image_id)
    if image is None:
        return None
    kept = f"kept the replaced image {short_id(image_id)}"
    if not owner.owns(image.labels):
        return f"{kept}: taskform did not build it here"
    users = engine.containers({"ancestor": image_id})
    if users:
        # a container run from our image inherits its labels: only one labelled with another
        # address than the image's own was made by taskform
        theirs = any(not owner.owns(c.labels, any_address=True)
                     or c.labels.get(labels.LABEL_ADDRESS) == owner.address for c in users)
        who = " (not all taskform's)" if theirs else ""
        names, many = ", ".join(sorted(c.name for c in users)), len(users) > 1
        return (f"{kept}: container{'s' if many else ''} {names}{who} still "
                f"use{'' if many else 's'} it; `taskform gc` removes it once nothing does")
    mine = {full_tag(t) for t in ours}
    foreign = sorted(t for t in image.tags if t not in mine)
    if foreign:
        return f"{kept}: tag {', '.join(foreign)}, which taskform did not make, points to it"
    for tag in image.tags:  # our tags the new build did not take over (a dropped extra tag)
        engine.remove_image(tag, noprune=True)
    if engine.remove_image(image_id):
        log(f"removed the replaced image {short_id(image_id)}")
    return None


def context_files(context: Path, excludes: list[str], dockerfile: str) -> list[str]:
    """The paths (relative to `context`) a build sends to the engine: the context minus the
    exclude patterns, as Docker's own `.dockerignore` rules select them."""
    return sorted(context_paths(str(context), list(excludes), dockerfile))


def owned_images(engine: DockerEngine, owner: Owner) -> list[str]:
    """Ids of every image this owner built (old builds included)."""
    return [i.id for i in engine.images(owner.filters())]


def remove_owned_image(engine: DockerEngine, owner: Owner, image_id: str, log: Log,
                       tags: list[str] | None = None) -> None:
    """Untag our tags and delete the image, only if it carries this owner's labels."""
    image = engine.image(image_id)
    if image is None:
        return
    if not owner.owns(image.labels):
        log(f"left image {short_id(image_id)} alone: taskform did not build it here")
        return
    for tag in tags or []:
        if tag in image.tags or f"{tag}:latest" in image.tags:
            engine.remove_image(tag, noprune=True)
    if engine.remove_image(image_id):
        log(f"removed image {short_id(image_id)}")


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
