"""A GitHub REST test server on 127.0.0.1 implementing the endpoints PyGithub calls for
publishing (repos, topics, the Git Data API, contents for empty repos), driven through real
PyGithub with `base_url`. Blob ids are real git object ids, so trees compare as on GitHub."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def blob_sha(content: str) -> str:
    data = content.encode()
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    owner: str
    name: str
    private: bool
    description: str = ""
    archived: bool = False
    topics: list[str] = field(default_factory=list)
    refs: dict[str, str] = field(default_factory=dict)     # branch -> commit sha
    commits: dict[str, dict[str, Any]] = field(default_factory=dict)
    trees: dict[str, dict[str, tuple[str, str, str]]] = field(default_factory=dict)  # sha -> path -> (mode, blob, content)

    def files(self, branch: str = "main") -> dict[str, str]:
        head = self.refs.get(branch)
        if not head:
            return {}
        tree = self.trees[self.commits[head]["tree"]]
        return {path: content for path, (_, _, content) in tree.items()}


class GitHubServer:
    def __init__(self, token: str = "ghp-test-token", user: str = "tester",
                 orgs: tuple[str, ...] = ("acme",)) -> None:
        self.token, self.user, self.orgs = token, user, set(orgs)
        self.repos: dict[str, Repo] = {}
        self.log: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # shutdown() waits for the serving loop to wake up: at the default 0.5 s poll
        # that was half a second of every test that starts a server
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> GitHubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def writes(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p in self.log if m != "GET"]

    def add_repo(self, owner: str, name: str, private: bool, files: dict[str, str] | None = None,
                 description: str = "") -> Repo:
        """A repository made outside taskform (to be adopted)."""
        repo = Repo(owner, name, private, description)
        self.repos[f"{owner}/{name}"] = repo
        if files is not None:
            self._commit(repo, files, [], "existing")
        return repo

    # -- the git object store ------------------------------------------------------------

    def _tree(self, repo: Repo, entries: dict[str, tuple[str, str, str]]) -> str:
        sha = hashlib.sha1(json.dumps(sorted((p, m, b) for p, (m, b, _) in entries.items()))
                           .encode()).hexdigest()
        repo.trees[sha] = entries
        return sha

    def _commit(self, repo: Repo, files: dict[str, str], parents: list[str], message: str,
                branch: str = "main") -> str:
        tree = self._tree(repo, {p: ("100644", blob_sha(c), c) for p, c in files.items()})
        sha = self._new_commit(repo, tree, parents, message)
        repo.refs[branch] = sha
        return sha

    def _new_commit(self, repo: Repo, tree: str, parents: list[str], message: str) -> str:
        sha = hashlib.sha1(f"{tree}{parents}{message}{len(repo.commits)}".encode()).hexdigest()
        repo.commits[sha] = {"tree": tree, "parents": parents, "message": message}
        return sha

    # -- JSON shapes ---------------------------------------------------------------------

    def _repo_json(self, repo: Repo) -> dict[str, Any]:
        full = f"{repo.owner}/{repo.name}"
        owner_type = "Organization" if repo.owner in self.orgs else "User"
        return {"id": abs(hash(full)) % 10**8, "name": repo.name, "full_name": full,
                "owner": {"login": repo.owner, "type": owner_type,
                          "url": f"{self.base_url}/users/{repo.owner}"},
                "private": repo.private, "visibility": "private" if repo.private else "public",
                "description": repo.description, "archived": repo.archived, "topics": repo.topics,
                "html_url": f"https://github.test/{full}", "url": f"{self.base_url}/repos/{full}",
                "default_branch": "main"}

    def _commit_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        base = f"{self.base_url}/repos/{repo.owner}/{repo.name}/git"
        commit = repo.commits[sha]
        return {"sha": sha, "url": f"{base}/commits/{sha}", "message": commit["message"],
                "tree": {"sha": commit["tree"], "url": f"{base}/trees/{commit['tree']}"},
                "parents": [{"sha": p, "url": f"{base}/commits/{p}"} for p in commit["parents"]]}

    def _tree_json(self, repo: Repo, sha: str) -> dict[str, Any]:
        return {"sha": sha, "truncated": False,
                "url": f"{self.base_url}/repos/{repo.owner}/{repo.name}/git/trees/{sha}",
                "tree": [{"path": p, "mode": m, "type": "blob", "sha": b, "size": len(c)}
                         for p, (m, b, c) in sorted(repo.trees[sha].items())]}

    def _ref_json(self, repo: Repo, branch: str) -> dict[str, Any]:
        base = f"{self.base_url}/repos/{repo.owner}/{repo.name}/git"
        sha = repo.refs[branch]
        return {"ref": f"refs/heads/{branch}", "url": f"{base}/refs/heads/{branch}",
                "object": {"sha": sha, "type": "commit", "url": f"{base}/commits/{sha}"}}

    # -- routing -------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: dict[str, list[str]],
               body: dict[str, Any]) -> tuple[int, Any]:
        if path == "/user" and method == "GET":
            return 200, {"login": self.user, "id": 1, "type": "User",
                         "url": f"{self.base_url}/users/{self.user}"}
        m = re.fullmatch(r"/orgs/([^/]+)", path)
        if m and method == "GET":
            if m[1] not in self.orgs:
                return 404, {"message": "Not Found"}
            return 200, {"login": m[1], "id": 2, "url": f"{self.base_url}/orgs/{m[1]}"}
        m = re.fullmatch(r"/(?:orgs/([^/]+)|user)/repos", path)
        if m and method == "POST":
            return self._create(m[1] or self.user, body)
        m = re.fullmatch(r"/repos/([^/]+)/([^/]+)(/.*)?", path)
        if not m:
            return 404, {"message": f"Not Found: {method} {path}"}
        repo = self.repos.get(f"{m[1]}/{m[2]}")
        if repo is None:
            return 404, {"message": "Not Found"}
        return self._repo_route(repo, method, m[3] or "", query, body)

    def _create(self, owner: str, body: dict[str, Any]) -> tuple[int, Any]:
        name = body["name"]
        if f"{owner}/{name}" in self.repos:
            return 422, {"message": "Repository creation failed.",
                         "errors": [{"message": "name already exists on this account"}]}
        repo = Repo(owner, name, bool(body.get("private")), body.get("description") or "")
        self.repos[f"{owner}/{name}"] = repo
        if body.get("auto_init"):
            self._commit(repo, {"README.md": f"# {name}\n"}, [], "Initial commit")
        return 201, self._repo_json(repo)

    def _repo_route(self, repo: Repo, method: str, rest: str, query: dict[str, list[str]],
                    body: dict[str, Any]) -> tuple[int, Any]:
        empty = not repo.refs
        if rest == "" and method == "GET":
            return 200, self._repo_json(repo)
        if rest == "" and method == "PATCH":
            for key in ("private", "archived", "description"):
                if key in body:
                    setattr(repo, key, body[key])
            return 200, self._repo_json(repo)
        if rest == "" and method == "DELETE":
            del self.repos[f"{repo.owner}/{repo.name}"]
            return 204, None
        if rest == "/topics" and method == "PUT":
            repo.topics = list(body.get("names") or [])
            return 200, {"names": repo.topics}
        if rest.startswith("/git/") and empty:
            return 409, {"message": "Git Repository is empty."}
        m = re.fullmatch(r"/git/ref/heads/(.+)", rest)
        if m and method == "GET":
            if m[1] not in repo.refs:
                return 404, {"message": "Not Found"}
            return 200, self._ref_json(repo, m[1])
        m = re.fullmatch(r"/git/commits/([0-9a-f]+)", rest)
        if m and method == "GET":
            return (200, self._commit_json(repo, m[1])) if m[1] in repo.commits else \
                (404, {"message": "Not Found"})
        m = re.fullmatch(r"/git/trees/([0-9a-f]+)", rest)
        if m and method == "GET":
            return (200, self._tree_json(repo, m[1])) if m[1] in repo.trees else \
                (404, {"message": "Not Found"})
        if rest == "/git/trees" and method == "POST":
            base = repo.trees.get(body.get("base_tree") or "", {})
            entries = dict(base)
            for e in body["tree"]:
                entries[e["path"]] = (e["mode"], blob_sha(e["content"]), e["content"])
            sha = self._tree(repo, entries)
            return 201, self._tree_json(repo, sha)
        if rest == "/git/commits" and method == "POST":
            if body["tree"] not in repo.trees:
                return 422, {"message": "Tree SHA does not exist"}
            sha = self._new_commit(repo, body["tree"], list(body.get("parents") or []),
                                   body["message"])
            return 201, self._commit_json(repo, sha)
        if rest == "/git/refs" and method == "POST":
            branch = body["ref"].removeprefix("refs/heads/")
            if branch in repo.refs:
                return 422, {"message": "Reference already exists"}
            repo.refs[branch] = body["sha"]
            return 201, self._ref_json(repo, branch)
        m = re.fullmatch(r"/git/refs/heads/(.+)", rest)
        if m and method == "PATCH":
            old = repo.refs.get(m[1])
            if old is None:
                return 422, {"message": "Reference does not exist"}
            if not body.get("force") and old not in self._ancestors(repo, body["sha"]):
                return 422, {"message": "Update is not a fast forward"}
            repo.refs[m[1]] = body["sha"]
            return 200, self._ref_json(repo, m[1])
        m = re.fullmatch(r"/contents/(.+)", rest)
        if m and method == "PUT":
            import base64

            content = base64.b64decode(body.get("content") or "").decode()
            branch = body.get("branch") or "main"
            files = {**repo.files(branch), m[1]: content}
            parents = [repo.refs[branch]] if branch in repo.refs else []
            sha = self._commit(repo, files, parents, body.get("message") or "", branch)
            return 201, {"content": {"path": m[1], "sha": blob_sha(content)},
                         "commit": self._commit_json(repo, sha)}
        return 404, {"message": f"Not Found: {method} {rest}"}

    def _ancestors(self, repo: Repo, sha: str) -> set[str]:
        seen, todo = set(), [sha]
        while todo:
            current = todo.pop()
            if current in seen or current not in repo.commits:
                continue
            seen.add(current)
            todo.extend(repo.commits[current]["parents"])
        return seen

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}") if length else {}
                if self.headers.get("Authorization") not in (f"token {server.token}",
                                                             f"Bearer {server.token}"):
                    return self._send(401, {"message": "Bad credentials"})
                with server.lock:
                    server.log.append((self.command, parts.path))
                    status, data = server.handle(self.command, parts.path,
                                                 parse_qs(parts.query), body)
                self._send(status, data)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

            def _send(self, status: int, data: Any) -> None:
                payload = b"" if data is None else json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
