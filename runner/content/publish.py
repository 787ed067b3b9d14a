"""Publishing a task: a starter repository and a private `<name>-answers` repository, in local
bare git repositories (default) or on GitHub. Create-or-adopt, push only changes, record URLs
and commits; destroy keeps, archives or deletes per setting, and only what taskform created."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from runner.connections import Connections
from runner.content.settings import PublishSettings
from runner.errors import StepFailed
from runner.providers import git
from runner.workspace import Workspace

Log = Callable[[str], None]


def names(repo: str) -> dict[str, str]:
    return {"starter": repo, "answers": f"{repo}-answers"}


def publish(ws: Workspace, connections: Connections, address: str, labels: Mapping[str, str],
            settings: PublishSettings, repo: str, trees: Mapping[str, Mapping[str, str]],
            message: str, log: Log) -> dict[str, Any]:
    """Push each tree ("starter", "answers") to its repository; returns what was recorded."""
    out: dict[str, Any] = {"to": settings.to}
    for role, name in names(repo).items():
        visibility = settings.visibility if role == "starter" else "private"
        if settings.to == "git":
            out[role] = _git(ws, address, labels, settings, name, trees[role], message, log)
        else:
            out[role] = _github(ws, connections, address, settings, name, visibility, trees[role],
                                message, log)
    return out


def _git(ws: Workspace, address: str, labels: Mapping[str, str], settings: PublishSettings,
         name: str, files: Mapping[str, str], message: str, log: Log) -> dict[str, Any]:
    bare = ws.resolve(f"{settings.path}/{name}.git", "publish.path")
    created = git.ensure_bare(bare, labels)
    holder = git.labels_of(bare).get("address")
    if holder and holder != address:
        raise StepFailed(f"repository {ws.relative(bare)} belongs to {holder} (its taskform "
                         "label); give this task another publish.repo", retryable=False)
    owned = created or holder == address
    log(f"{'created' if created else 'using'} repository {ws.relative(bare)}")
    pushed = git.push(str(bare), files, message, settings.branch)
    log(f"{name}: {'pushed ' + pushed.commit[:12] if pushed.changed else 'already up to date'}")
    return {"name": name, "url": bare.as_uri(), "path": ws.relative(bare), "commit": pushed.commit,
            "visibility": "local", "owned": owned, "changed": pushed.changed}


def _github(ws: Workspace, connections: Connections, address: str, settings: PublishSettings,
            name: str, visibility: str, files: Mapping[str, str], message: str,
            log: Log) -> dict[str, Any]:
    client = github_client(ws, connections)
    assert settings.owner is not None
    repo, created = client.ensure(settings.owner, name, visibility, "Assessment task", address, log)
    pushed = client.push(repo, files, message, settings.branch)
    log(f"{settings.owner}/{name}: "
        f"{'pushed ' + pushed.commit[:12] if pushed.changed else 'already up to date'}")
    state = client.state(repo, address)
    return {"name": name, "owner": settings.owner, "url": state.url, "commit": pushed.commit,
            "visibility": visibility, "owned": created or state.owned, "changed": pushed.changed}


def github_client(ws: Workspace, connections: Connections) -> Any:
    from runner.providers.github import GitHub

    settings = ws.config.github
    secret = ws.secret(settings.token_variable, "github.token_variable", "GitHub token")
    return connections.get("github", settings.base_url, lambda: GitHub(settings, secret))


def drift(ws: Workspace, connections: Connections, settings: PublishSettings,
          published: Mapping[str, Any]) -> list[str]:
    """Why the published repositories no longer match what was recorded."""
    reasons = []
    for role in ("starter", "answers"):
        recorded = published.get(role) or {}
        name = recorded.get("name")
        if not name:
            continue
        if settings.to == "git":
            where = ws.resolve(recorded.get("path") or f"{settings.path}/{name}.git",
                               "publish.path")
            current = git.head(str(where), settings.branch)
        else:
            repo, current = github_client(ws, connections).head(settings.owner, name, settings.branch)
            if repo is not None and role == "answers" and not repo.private:
                reasons.append(f"answers repository {name} is public")
        if current is None:
            reasons.append(f"{role} repository {name} (branch {settings.branch}) is gone")
        elif current != recorded.get("commit"):
            reasons.append(f"{role} repository {name} moved from {str(recorded.get('commit'))[:12]} "
                           f"to {current[:12]}")
    return reasons


def retire(ws: Workspace, connections: Connections, address: str, settings: PublishSettings,
           published: Mapping[str, Any], log: Log) -> None:
    """Destroy: keep (default), archive or delete the repositories taskform created."""
    if settings.on_destroy == "keep":
        return
    for role in ("starter", "answers"):
        recorded = published.get(role) or {}
        if not recorded.get("name"):
            continue
        if not recorded.get("owned"):
            log(f"left {recorded['name']} alone: taskform did not create it")
            continue
        if settings.to == "git":
            _retire_git(ws, address, settings, recorded, log)
        else:
            _retire_github(ws, connections, address, settings, recorded, log)


def _retire_git(ws: Workspace, address: str, settings: PublishSettings,
                recorded: Mapping[str, Any], log: Log) -> None:
    bare: Path = ws.resolve(recorded.get("path") or "", "publish.path")
    if not (bare / "HEAD").is_file():
        return
    if git.labels_of(bare).get("address") != address:
        log(f"left {recorded['name']} alone: it does not carry this task's taskform labels")
        return
    if settings.on_destroy == "archive":
        log(f"archived {recorded['name']} to {ws.relative(git.archive(bare))}")
    else:
        git.remove(bare)
        log(f"deleted repository {recorded['name']}")


def _retire_github(ws: Workspace, connections: Connections, address: str,
                   settings: PublishSettings, recorded: Mapping[str, Any], log: Log) -> None:
    client = github_client(ws, connections)
    repo = client.find(str(settings.owner), recorded["name"])
    if repo is None:
        return
    if not client.state(repo, address).owned:
        log(f"left {settings.owner}/{recorded['name']} alone: it lacks taskform's topic and marker")
        return
    if settings.on_destroy == "archive":
        client.archive(repo)
        log(f"archived {settings.owner}/{recorded['name']}")
    else:
        client.delete(repo)
        log(f"deleted {settings.owner}/{recorded['name']}")
