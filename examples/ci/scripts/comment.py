#!/usr/bin/env python3
"""taskform's voice on GitHub, through PyGithub: one plan comment per pull request (posted,
then updated in place on every push, never duplicated), and one drift issue (opened, updated
while the drift lasts, closed when it is gone).

Each is found again by a hidden marker on its first line; `--key` tells workspaces apart when
one repository holds several (one comment per workspace, as Atlantis keeps one per project).

Environment: GITHUB_TOKEN (required), GITHUB_REPOSITORY (owner/name; or --repo),
GITHUB_API_URL (default https://api.github.com; GitHub Enterprise, or a test server).

    comment.py pr NUMBER BODY_FILE [--key KEY]
    comment.py issue BODY_FILE [--title TITLE] [--key KEY]
    comment.py close-issue [--key KEY]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

LIMIT = 65_536  # characters GitHub accepts in a comment or an issue body
CUT_NOTE = "\n\n_(cut to fit GitHub's 65,536-character limit)_\n"


def marker(kind: str, key: str) -> str:
    return f"<!-- taskform:{kind}:{key} -->"


def with_marker(kind: str, key: str, body: str) -> str:
    """The body under its marker, cut (with a note) to what GitHub accepts."""
    text = f"{marker(kind, key)}\n{body}"
    if len(text) > LIMIT:
        text = text[: LIMIT - len(CUT_NOTE)] + CUT_NOTE
    return text


def repository(args: argparse.Namespace) -> Any:
    from github import Auth, Github

    token = os.environ.get("GITHUB_TOKEN")
    name = args.repo or os.environ.get("GITHUB_REPOSITORY")
    if not token or not name:
        sys.exit("comment.py: GITHUB_TOKEN and GITHUB_REPOSITORY (or --repo) must be set")
    url = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
    return Github(base_url=url, auth=Auth.Token(token)).get_repo(name)


def post_on_pull_request(repo: Any, number: int, body: str, key: str) -> str:
    """Update the pull request's plan comment, or post it the first time."""
    text = with_marker("plan", key, body)
    issue = repo.get_issue(number)
    for comment in issue.get_comments():
        if comment.body.startswith(marker("plan", key)):
            comment.edit(text)
            return f"updated {comment.html_url}"
    return f"posted {issue.create_comment(text).html_url}"


def open_drift_issue(repo: Any, title: str, body: str, key: str) -> str:
    """Update the open drift issue, or open one."""
    text = with_marker("drift", key, body)
    found = find_drift_issue(repo, key)
    if found is not None:
        found.edit(title=title, body=text)
        return f"updated {found.html_url}"
    return f"opened {repo.create_issue(title=title, body=text).html_url}"


def close_drift_issue(repo: Any, key: str) -> str:
    found = find_drift_issue(repo, key)
    if found is None:
        return "no drift issue is open"
    found.create_comment("The real world matches the specs again: closing.")
    found.edit(state="closed")
    return f"closed {found.html_url}"


def find_drift_issue(repo: Any, key: str) -> Any:
    for issue in repo.get_issues(state="open"):
        if issue.pull_request is None and (issue.body or "").startswith(marker("drift", key)):
            return issue
    return None


def main(argv: list[str] | None = None) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--repo", help="owner/name (default: GITHUB_REPOSITORY)")
    common.add_argument("--key", default="default",
                        help="which workspace's comment or issue (default: default)")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    verbs = parser.add_subparsers(dest="verb", required=True)
    pr = verbs.add_parser("pr", parents=[common],
                          help="post or update the plan comment of a pull request")
    pr.add_argument("number", type=int)
    pr.add_argument("body_file", type=Path)
    issue = verbs.add_parser("issue", parents=[common], help="open or update the drift issue")
    issue.add_argument("body_file", type=Path)
    issue.add_argument("--title", default="taskform: drift detected")
    verbs.add_parser("close-issue", parents=[common],
                     help="close the drift issue, if one is open")
    args = parser.parse_args(argv)
    repo = repository(args)
    if args.verb == "pr":
        said = post_on_pull_request(repo, args.number, args.body_file.read_text(), args.key)
    elif args.verb == "issue":
        said = open_drift_issue(repo, args.title, args.body_file.read_text(), args.key)
    else:
        said = close_drift_issue(repo, args.key)
    print(f"comment.py: {said}")


if __name__ == "__main__":
    main()
