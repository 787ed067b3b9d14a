"""The GitHub REST test server (github_server.py) with issues, pull requests as issues, and
their comments: the endpoints PyGithub calls to post, find and edit a comment and to open,
find, edit and close an issue. Bodies past GitHub's 65,536 characters are refused with
GitHub's 422, as the real API does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from doubles.github_server import GitHubServer, Repo

BODY_LIMIT = 65_536


@dataclass
class Issue:
    number: int
    title: str
    body: str
    pull_request: bool = False
    state: str = "open"
    comments: list[int] = field(default_factory=list)


@dataclass
class Comment:
    id: int
    issue: int
    body: str


class GitHubWithIssues(GitHubServer):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.issues: dict[str, dict[int, Issue]] = {}
        self.comments: dict[int, Comment] = {}

    def add_pull_request(self, repo: Repo, title: str) -> int:
        """A pull request (as the issues API sees it); returns its number."""
        issues = self.issues.setdefault(f"{repo.owner}/{repo.name}", {})
        number = len(issues) + 1
        issues[number] = Issue(number, title, "", pull_request=True)
        return number

    def comments_on(self, repo: Repo, number: int) -> list[str]:
        issue = self.issues[f"{repo.owner}/{repo.name}"][number]
        return [self.comments[c].body for c in issue.comments]

    def _repo_route(self, repo: Repo, method: str, rest: str, query: dict[str, list[str]],
                    body: dict[str, Any]) -> tuple[int, Any]:
        if rest.startswith("/issues"):
            return self._issues_route(repo, method, rest, query, body)
        return super()._repo_route(repo, method, rest, query, body)

    def _issues_route(self, repo: Repo, method: str, rest: str, query: dict[str, list[str]],
                      body: dict[str, Any]) -> tuple[int, Any]:
        issues = self.issues.setdefault(f"{repo.owner}/{repo.name}", {})
        if len(str(body.get("body") or "")) > BODY_LIMIT:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "Issue", "code": "custom", "field": "body",
                 "message": f"body is too long (maximum is {BODY_LIMIT} characters)"}]}
        if rest == "/issues" and method == "GET":
            wanted = (query.get("state") or ["open"])[0]
            return 200, [self._issue_json(repo, i) for i in issues.values()
                         if wanted == "all" or i.state == wanted]
        if rest == "/issues" and method == "POST":
            issue = Issue(len(issues) + 1, body["title"], body.get("body") or "")
            issues[issue.number] = issue
            return 201, self._issue_json(repo, issue)
        m = re.fullmatch(r"/issues/comments/(\d+)", rest)
        if m and method == "PATCH":
            comment = self.comments[int(m[1])]
            comment.body = body["body"]
            return 200, self._comment_json(repo, comment)
        m = re.fullmatch(r"/issues/(\d+)(/comments)?", rest)
        if not m or int(m[1]) not in issues:
            return 404, {"message": "Not Found"}
        issue = issues[int(m[1])]
        if m[2] and method == "GET":
            return 200, [self._comment_json(repo, self.comments[c]) for c in issue.comments]
        if m[2] and method == "POST":
            comment = Comment(len(self.comments) + 1, issue.number, body["body"])
            self.comments[comment.id] = comment
            issue.comments.append(comment.id)
            return 201, self._comment_json(repo, comment)
        if method == "PATCH":
            for key in ("title", "body", "state"):
                if key in body:
                    setattr(issue, key, body[key])
        return 200, self._issue_json(repo, issue)

    def _issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        url = f"{self.base_url}/repos/{repo.owner}/{repo.name}/issues/{issue.number}"
        kind = "pull" if issue.pull_request else "issues"
        out = {"id": issue.number, "number": issue.number, "title": issue.title,
               "body": issue.body, "state": issue.state, "url": url,
               "comments_url": f"{url}/comments", "comments": len(issue.comments),
               "html_url": f"https://github.test/{repo.owner}/{repo.name}/{kind}/{issue.number}",
               "user": {"login": self.user, "type": "User"}}
        if issue.pull_request:
            out["pull_request"] = {"url": url.replace("/issues/", "/pulls/")}
        return out

    def _comment_json(self, repo: Repo, comment: Comment) -> dict[str, Any]:
        base = f"{self.base_url}/repos/{repo.owner}/{repo.name}/issues"
        return {"id": comment.id, "body": comment.body, "url": f"{base}/comments/{comment.id}",
                "issue_url": f"{base}/{comment.issue}",
                "html_url": f"https://github.test/{repo.owner}/{repo.name}/issues/"
                            f"{comment.issue}#issuecomment-{comment.id}",
                "user": {"login": self.user, "type": "User"}}
