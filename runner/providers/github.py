"""GitHub through PyGithub (imported lazily): create-or-adopt repositories, publish a file
tree as one commit through the Git Data API only when it differs from the branch head, and
archive or delete on request. Repositories taskform creates carry the `taskform` topic and
their address in the description; nothing else is ever archived or deleted."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from runner.errors import ProviderError, StepFailed
from runner.providers.git import Pushed
from runner.strict import StrictModel


class GithubSettings(StrictModel):
    """Publishing to GitHub (or GitHub Enterprise: its API URL), with the token read from the
    declared secret variable `token_variable`."""

    base_url: str = "https://api.github.com"
    token_variable: str | None = None
    timeout_seconds: float = Field(default=30, gt=0)
    seconds_between_requests: float = Field(default=0.25, ge=0)  # GitHub's secondary rate
    seconds_between_writes: float = Field(default=1.0, ge=0)     # limits want writes spaced


TOPIC = "taskform"


@dataclass(frozen=True)
class RepoState:
    url: str
    private: bool
    owned: bool  # carries taskform's topic and this address


def blob_sha(content: str) -> str:
    """The git object id of a file's content, as GitHub reports it in trees."""
    data = content.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def mode_of(path: str) -> str:
    return "100755" if path.endswith(".sh") else "100644"


def marker(address: str) -> str:
    return f"(managed by taskform: {address})"


class GitHub:
    """One authenticated PyGithub client."""

    def __init__(self, settings: GithubSettings, token: str):
        from github import Auth, Github

        self.gh = Github(base_url=settings.base_url.rstrip("/"), auth=Auth.Token(token),
                         timeout=int(settings.timeout_seconds),
                         seconds_between_requests=settings.seconds_between_requests or None,
                         seconds_between_writes=settings.seconds_between_writes or None)

    def close(self) -> None:
        self.gh.close()

    def find(self, owner: str, name: str) -> Any | None:
        from github import UnknownObjectException

        try:
            repo = self.gh.get_repo(f"{owner}/{name}")
            repo.full_name  # noqa: B018 - completes the lazy object: 404 here means "not there"
            return repo
        except UnknownObjectException:
            return None

    def state(self, repo: Any, address: str) -> RepoState:
        owned = TOPIC in (repo.topics or []) and marker(address) in (repo.description or "")
        return RepoState(url=repo.html_url, private=bool(repo.private), owned=owned)

    def ensure(self, owner: str, name: str, visibility: str, description: str, address: str,
               log: Callable[[str], None]) -> tuple[Any, bool]:
        """The repository, created (True) or adopted (False), with the wanted visibility."""
        repo = self.find(owner, name)
        if repo is None:
            log(f"creating {visibility} repository {owner}/{name}")
            repo = self._create(owner, name, visibility, f"{description} {marker(address)}")
            repo.replace_topics([TOPIC])
            return repo, True
        holder = re.search(r"\(managed by taskform: ([^)]+)\)", repo.description or "")
        if holder and holder[1] != address:
            raise StepFailed(f"repository {owner}/{name} belongs to {holder[1]} (its taskform "
                             "marker); give this task another publish.repo", retryable=False)
        log(f"adopting existing repository {owner}/{name}")
        private = visibility != "public"
        if bool(repo.private) != private:
            log(f"making {owner}/{name} {visibility} (it was "
                f"{'private' if repo.private else 'public'})")
            repo.edit(private=private)
        return repo, False

    def _create(self, owner: str, name: str, visibility: str, description: str) -> Any:
        from github import GithubException, UnknownObjectException

        args: dict[str, Any] = {"private": visibility != "public", "description": description,
                                "auto_init": True}  # the Git Data API refuses empty repos
        try:
            org = self.gh.get_organization(owner)
            org.login  # noqa: B018 - 404 here means the owner is a user, not an organisation
            if visibility == "internal":
                args["visibility"] = "internal"
            return org.create_repo(name, **args)
        except UnknownObjectException:
            user = self.gh.get_user()
            if user.login != owner:
                raise ProviderError(f"GitHub owner {owner!r} is neither an organisation nor the "
                                    f"token's user ({user.login!r})") from None
            return user.create_repo(name, **args)
        except GithubException as exc:
            raise StepFailed(f"cannot create repository {owner}/{name}: {_reason(exc)}") from None

    def push(self, repo: Any, files: Mapping[str, str], message: str, branch: str) -> Pushed:
        """One commit holding exactly `files`, or nothing when the branch already does."""
        from github import InputGitTreeElement

        ref, head, empty = self._ref(repo, branch)
        if empty:  # the Git Data API needs one commit to exist; ours replaces this file
            repo.create_file(".taskform-init", "initialise", "", branch=branch)
            ref, head, _ = self._ref(repo, branch)
        parents = []
        if head is not None:
            commit = repo.get_git_commit(head)
            if self._tree_of(repo, commit.tree.sha) == {p: (mode_of(p), blob_sha(c))
                                                         for p, c in files.items()}:
                return Pushed(head, changed=False)
            parents = [commit]
        elements = [InputGitTreeElement(path, mode_of(path), "blob", content=content)
                    for path, content in sorted(files.items())]
        tree = repo.create_git_tree(elements)
        commit = repo.create_git_commit(message, tree, parents)
        if ref is not None:
            ref.edit(commit.sha, force=False)
        else:
            repo.create_git_ref(f"refs/heads/{branch}", commit.sha)
        return Pushed(commit.sha, changed=True)

    def head(self, owner: str, name: str, branch: str) -> tuple[Any | None, str | None]:
        """(repository or None, commit at branch or None)."""
        repo = self.find(owner, name)
        return (repo, self._ref(repo, branch)[1]) if repo is not None else (None, None)

    def _ref(self, repo: Any, branch: str) -> tuple[Any | None, str | None, bool]:
        """(ref, commit, repository is empty) of a branch; (None, None, _) when it is absent."""
        from github import GithubException

        try:
            ref = repo.get_git_ref(f"heads/{branch}")
            return ref, ref.object.sha, False
        except GithubException as exc:
            if exc.status in (404, 409):  # no such branch; 409: the repository is empty
                return None, None, exc.status == 409
            raise StepFailed(f"cannot read {repo.full_name} {branch}: {_reason(exc)}") from None

    def _tree_of(self, repo: Any, sha: str) -> dict[str, tuple[str, str]]:
        tree = repo.get_git_tree(sha, recursive=True)
        return {e.path: (e.mode, e.sha) for e in tree.tree if e.type == "blob"}

    def archive(self, repo: Any) -> None:
        repo.edit(archived=True)

    def delete(self, repo: Any) -> None:
        repo.delete()


def _reason(exc: Any) -> str:
    data = getattr(exc, "data", None)
    message = data.get("message") if isinstance(data, dict) else None
    return f"HTTP {getattr(exc, 'status', '?')}: {message or exc}"
