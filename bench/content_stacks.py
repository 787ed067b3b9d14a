"""Benchmark: generating a task for every stack of the table, offline and through the OpenAI
protocol, and grading every offline exercise in Docker.

    python3 bench/content_stacks.py [--rounds 3] [--grade]

Generation: per stack, the median wall time of `content.generate.generate` (task, solution,
gates, review; for a task graded by review also its two rubric reviews) with the template
provider, and with the real `openai` client against the test server of tests/doubles (a local
HTTP server: this measures taskform and the client, not a model) for chat and responses, single
and turns. Grading (--grade, needs Docker and the base image): one apply of a workspace with a
`verify: docker` task per exercise; per exercise the seconds of each grading (golden and the
unmodified starter, every criterion) as recorded, and the apply's wall time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any

from common import REPO, taskform

sys.path.insert(0, str(REPO / "tests"))  # the OpenAI test server and its model double

from doubles.openai_server import OpenAIServer  # noqa: E402
from doubles.task_model import answer  # noqa: E402

from runner.connections import Connections  # noqa: E402
from runner.content import exercises, llm_choice, stacks  # noqa: E402
from runner.content.generate import TaskInputs, generate  # noqa: E402
from runner.content.profile import profile_of  # noqa: E402
from runner.providers.call import Call  # noqa: E402
from runner.providers.llm import LLMSettings  # noqa: E402
from runner.providers.openai_llm import OpenAILLM  # noqa: E402
from runner.workspace import Workspace, WorkspaceConfig  # noqa: E402

COMPETENCIES = {
    "redis": ["Redis"], "docker": ["Docker"], "mongodb": ["MongoDB"],
    "sql-postgresql": ["SQL", "PostgreSQL"], "python-fastapi": ["Python - FastAPI"],
    "java-kafka": ["Java", "Kafka"], "go": ["Golang", "Redis"],
    "nodejs-express": ["Node.js", "Express"], "typescript": ["TypeScript"], "reactjs": ["ReactJs"],
    "nextjs": ["NextJs", "TypeScript"], "react-native": ["React Native"],
    "non-code": ["Prompt Engineering"], "mixed-stack": ["Go", "Kafka"]}
MODES = [("chat", "single"), ("chat", "turns"), ("responses", "single"), ("responses", "turns")]
KEY = "sk-bench"


def inputs_for(ws: Workspace, stack: str, provider: str) -> TaskInputs:
    competencies = [{"name": n, "proficiency": "BASIC"} for n in COMPETENCIES[stack]]
    resolution = stacks.resolve(ws, competencies)
    profile = profile_of(ws, resolution, provider, None)
    exercise, scenario = "", ""
    if provider == "template":
        choice = exercises.choose(ws, resolution.stack.scaffold, scenario=None, requested=None,
                                  seed=stack, variables=exercises.scenario_variables(
                                      competencies, "BASIC"), category=resolution.category)
        exercise, scenario = choice.exercise, choice.scenario
    return TaskInputs(repo=f"{stack}-task", competencies=competencies,
                      background={"organization_background": "A shop",
                                  "role_context": "Developer"},
                      scenario=scenario, scenario_key="", resolution=resolution,
                      minutes="15-20", scaffold=resolution.stack.scaffold, profile=profile,
                      exercise=exercise)


def timed(rounds: int, run: Any) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
        if not result.passed:
            sys.exit(f"a gate failed: {result.failures()}")
    return statistics.median(times)


def generation(rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp, \
            OpenAIServer(api_key=KEY) as server:
        server.model = answer
        offline = Workspace(root=Path(tmp), config=WorkspaceConfig())
        template = llm_choice.llm_for(offline, Connections())
        print(f"{'stack':16} {'offline':>9}" + "".join(f"{a + '/' + c:>18}" for a, c in MODES))
        for stack in COMPETENCIES:
            row = [timed(rounds, partial(generate, offline, template,
                                         inputs_for(offline, stack, "template"), Call(), 0))]
            for api, conversation in MODES:
                settings = LLMSettings(provider="openai", base_url=server.base_url, api=api,
                                       conversation=conversation, model="bench")
                ws = Workspace(root=Path(tmp), config=WorkspaceConfig(llm=settings))
                llm = OpenAILLM(settings, KEY)
                inputs = inputs_for(ws, stack, "openai")
                row.append(timed(rounds, partial(generate, ws, llm, inputs, Call(), 0)))
                llm.close()
            print(f"{stack:16} {row[0] * 1000:7.0f}ms" +
                  "".join(f"{t * 1000:16.0f}ms" for t in row[1:]))


def grading() -> None:
    from runner.content import scaffold
    from runner.state import open_state
    from runner.workspace import open_workspace

    shipped = Workspace(root=Path("/nonexistent"), config=WorkspaceConfig())
    names = {"python-fastapi": "Python - FastAPI", "node-express": "Node.js", "go": "Go",
             "sql-postgresql": "PostgreSQL"}
    catalogue = [(n, e) for n in names for e in scaffold.exercises(shipped, n)]
    docs = [f"apiVersion: taskform/v1\nkind: Competency\nmetadata: {{name: {n}}}\n"
            f"spec: {{name: {c!r}, proficiency: BASIC}}\n" for n, c in names.items()]
    docs.append("apiVersion: taskform/v1\nkind: Background\nmetadata: {name: shop}\n"
                "spec: {organization_background: A shop, role_context: Developer}\n")
    docs += [f"apiVersion: taskform/v1\nkind: Task\nmetadata: {{name: {e}}}\nspec: "
             f"{{competencies: [{n}], background: shop, generator: {{exercise: {e}}}, "
             f"verify: {{docker: {{pool_size: 1, timeout_seconds: 180}}}}}}\n"
             for n, e in catalogue]
    with tempfile.TemporaryDirectory(prefix="taskform-bench-") as tmp:
        root = Path(tmp)
        (root / "taskform.yaml").write_text("parallelism: 6\n")
        (root / "specs").mkdir()
        (root / "specs" / "exercises.yaml").write_text("---\n".join(docs))
        wall = taskform(root, "apply", "-auto-approve")
        records = open_state(open_workspace(root)).records()
        print(f"\n{'exercise':22} {'criteria':>8} {'golden (s)':>26} {'starter (s)':>26}")
        for name, exercise in catalogue:
            cells: dict[str, list[float]] = {"golden": [], "original": []}
            for address, record in records.items():
                if address.startswith(f'task.{exercise}["grade",') and \
                        record.kind == "rubric_shell":
                    cells[record.outputs["solution"]].append(record.outputs["seconds"])
            print(f"{name + '/' + exercise:22} {len(cells['golden']):8} "
                  f"{_cells(cells['golden']):>26} {_cells(cells['original']):>26}")
        print(f"\nall {len(catalogue)} exercises, first apply (images, pools, gradings): "
              f"{wall:.1f}s")
        taskform(root, "destroy", "-auto-approve")


def _cells(seconds: list[float]) -> str:
    return " ".join(f"{s:.1f}" for s in seconds) + f" (sum {sum(seconds):.1f})"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--grade", action="store_true")
    args = parser.parse_args()
    generation(args.rounds)
    if args.grade:
        grading()
