"""A small gradable task for tests on the real engine: a Python project with a bug (`calc.add`
subtracts), its grading image on the base image, a held-out tests patch, patches made by real
git, a rubric, and a spec of build → locked-down pool → rubric_set."""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path
from typing import Any

from docker_fixtures import BASE_IMAGE

from tests.rubric.grading_kit import diff_of, make_repo

PROJECT = {
    "calc.py": "def add(a, b):\n    return a - b\n",
    "tests/__init__.py": "",
    "tests/test_visible.py": "import unittest\n\nimport calc\n\n\nclass Visible(unittest.TestCase):\n"
                             "    def test_zero(self):\n        self.assertEqual(calc.add(0, 0), 0)\n",
}
HELD_OUT = {
    "tests/test_hidden.py": "import unittest\n\nimport calc\n\n\nclass Add(unittest.TestCase):\n"
                            "    def test_add(self):\n        self.assertEqual(calc.add(2, 3), 5)\n\n\n"
                            "class Negative(unittest.TestCase):\n    def test_negative(self):\n"
                            "        self.assertEqual(calc.add(-2, -3), -5)\n",
}
FIXED = {"calc.py": "def add(a, b):\n    return a + b\n"}
DOCKERFILE = f"""FROM {BASE_IMAGE}
RUN useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin grader
COPY project/ /app/
RUN git init -q --separate-git-dir=/srv/pristine.git /app \\
 && git -C /app add -A \\
 && git -C /app -c user.name=t -c user.email=t@localhost commit -q -m pristine \\
 && chown -R grader:grader /app && chown root:root /app/.git && chmod -R go-w /srv/pristine.git
WORKDIR /app
"""
LOCKED_DOWN = ["--network none", "--memory 256m", "--pids-limit 128", "--cpus 1",
               "--cap-drop ALL", "--cap-add CHOWN", "--cap-add DAC_OVERRIDE", "--cap-add FOWNER",
               "--cap-add SETUID", "--cap-add SETGID", "--cap-add KILL",
               "--security-opt no-new-privileges", "--init"]



def make_patch(changes: dict[str, str | None], base: dict[str, str] | None = None) -> str:
    """The patch real git makes for `changes` (None deletes a file) against the project."""
    with tempfile.TemporaryDirectory() as tmp:
        return diff_of(make_repo(Path(tmp), base or PROJECT), changes)


def rubric(criteria: list[tuple[str, str, int, bool]]) -> str:
    """TASK_DATA.md for (id, command, score, required) criteria, `### #<n>: <id>` headers."""
    sections = []
    for n, (cid, command, score, required) in enumerate(criteria, 1):
        sections.append(f"### #{n}: {cid}\n\n**Score**: {score}\n**Required**: "
                        f"{'true' if required else 'false'}\n**Criterion**:\nCriterion {cid}.\n\n"
                        f"**Held-out tests**:\n```bash\n{command}\n```\n")
    return "# rubric\n\n" + "\n".join(sections)


def write_task(ws: Any, criteria: list[tuple[str, str, int, bool]],
               solutions: dict[str, str], golden: str | None = None,
               dockerfile_extra: str = "") -> None:
    """The task folder `task/`: image, project, rubric, held-out tests and patches."""
    ws.write("task/Dockerfile", DOCKERFILE + dockerfile_extra)
    ws.write("task/.dockerignore", "*\n!Dockerfile\n!project/\n")
    for rel, text in PROJECT.items():
        ws.write(f"task/project/{rel}", text)
    ws.write("task/TASK_DATA.md", rubric(criteria))
    ws.write("task/held_out_tests.patch", make_patch(HELD_OUT))
    ws.write("task/golden.patch", golden or make_patch(FIXED))
    for name, patch in solutions.items():
        ws.write(f"task/{name}.patch", patch)


def write_spec(dws: Any, *, pool_size: int = 2, extra: str = "", step: str = "",
               parameters: list[str] | None = None) -> None:
    """build → pool → rubric_set over `task/`; `extra` adds rubric_set settings (YAML lines),
    `step` adds step keys (retries, timeout...)."""
    params = ", ".join(f'"{p}"' for p in (parameters if parameters is not None else LOCKED_DOWN))
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: g}}
        spec:
          steps:
            image:
              docker_build: {{context: task, image_tag: "{dws.tag}"}}
            pool:
              docker_pool:
                image_id: "{{{{ steps.image.image_id }}}}"
                pool_size: {pool_size}
                parameters: [{params}]
            grade:
              rubric_set:
                pool: pool
                task_dir: task
                git_dir: /srv/pristine.git
{_block(extra, 16)}
{_block(step, 14)}
        """)


def _block(text: str, indent: int) -> str:
    return textwrap.indent(textwrap.dedent(text).strip(), " " * indent) if text else ""


def cell(dws: Any, criterion: str, solution: str, step: str = "pipeline.g.grade") -> dict[str, Any]:
    return dws.outputs(f'{step}["{criterion}","{solution}"]')


def statuses(dws: Any, step: str = "pipeline.g.grade") -> dict[tuple[str, str], str]:
    """Every recorded grading's status (failed records: ERROR), by (criterion, solution)."""
    from runner.address import parse_address

    out = {}
    for address, record in dws.state().records().items():
        if record.kind == "rubric_shell" and address.startswith(step + "["):
            key = tuple(str(k) for k in parse_address(address).key)
            out[key] = record.outputs.get("status") if record.status == "ok" else "ERROR"
    return out


def processes(dws: Any) -> dict[str, list[str]]:
    """The processes in each labelled container besides the keep-alive pair."""
    out = {}
    for container in dws.labelled("containers"):
        top = container.top(ps_args="-eo pid,user,args")
        rows = [" ".join(p) for p in top.get("Processes") or []]
        out[container.name] = [r for r in rows if "docker-init" not in r
                               and not r.endswith("sleep infinity")]
    return out
