"""A stand-in for a model behind the OpenAI protocol (set as `OpenAIServer.model`): it reads
taskform's prompts as a model would and answers with a small but complete task for the stack
they name, its solution, reviews and submission reviews. Turns before the last are acknowledged
in prose; without structured output the JSON comes fenced inside chatter, as models write it."""

from __future__ import annotations

import json
import re
from typing import Any

from doubles.openai_server import Reply, Seen, chat

KILL = """#!/bin/sh
DIR="$(cd "$(dirname "$0")" && pwd)"
cd "$DIR" && docker compose -p "tf-{slug}" down --volumes --remove-orphans || true
docker rm -f $(docker ps -aq --filter "label=taskform.task={slug}") 2>/dev/null || true
cd / && rm -rf -- "$DIR"
"""
RUN = """#!/bin/sh
set -eu
cd "$(dirname "$0")"
docker compose -p "tf-{slug}" up -d --build
for _ in $(seq 1 30); do curl -fsS localhost:8080/health && exit 0; sleep 2; done
exit 1
"""
# per toolchain: source file, visible test, held-out test file and content, criterion command
LANGUAGES: dict[str, dict[str, str]] = {
    "python": {"source": "app/feature.py", "visible": "tests/test_smoke.py",
               "held_out": "tests/held_out/test_feature.py",
               "test": "from app.feature import limit\n\ndef test_feature_limits_pages():\n"
                       "    assert limit(500) == 100\n",
               "command": "python3 -m pytest -q tests/held_out/test_feature.py::"
                          "test_feature_limits_pages"},
    "node": {"source": "src/feature.js", "visible": "test/smoke.test.js",
             "held_out": "test/held_out/feature.test.js",
             "test": "const test = require('node:test');\nconst assert = require('node:assert');\n"
                     "const { limit } = require('../../src/feature');\n"
                     "test('feature limits pages', () => assert.strictEqual(limit(500), 100));\n",
             "command": "node --test --test-name-pattern=\"^feature limits pages$\" "
                        "test/held_out/feature.test.js"},
    "go": {"source": "feature/feature.go", "visible": "feature/feature_test.go",
           "held_out": "feature/feature_hidden_test.go",
           "test": "package feature\n\nimport \"testing\"\n\nfunc TestHiddenFeatureLimitsPages("
                   "t *testing.T) {\n\tif Limit(500) != 100 {\n\t\tt.Fatal(\"no limit\")\n\t}\n}\n",
           "command": "go test -count=1 -run '^TestHiddenFeatureLimitsPages$' ./feature"},
    "none": {"source": "src/main/java/app/Feature.java", "visible": "src/test/java/app/SmokeTest.java",
             "held_out": "src/test/java/app/FeatureHiddenTest.java",
             "test": "class FeatureHiddenTest { @org.junit.jupiter.api.Test void limitsPages() {} }\n",
             "command": "mvn -q test -Dtest=FeatureHiddenTest#limitsPages"},
}


def answer(seen: Seen) -> Reply:
    """The model: which question this is decides the answer."""
    last = seen.messages[-1]["content"] if seen.messages else ""
    if "Now write the task." in last:
        return _json(seen, task(seen.text))
    if "Now write its reference solution" in last:
        return _json(seen, solution(seen.text))
    if last.startswith("You review generated coding assessment tasks"):
        return _json(seen, {"pass": True, "issues": [], "feedback": "realistic and calibrated"})
    if last.startswith("You grade one submission"):
        return _json(seen, submission_review(last))
    return chat("I understand the organisation, the role, the competencies and the scenario.")


def _json(seen: Seen, value: dict[str, Any]) -> Reply:
    if seen.structured:
        return chat(value)
    return chat(f"Here is the JSON you asked for.\n\n```json\n{json.dumps(value, indent=2)}\n```"
                "\n\nI kept the starter free of the solution.")


def _facts(text: str) -> dict[str, str]:
    stack = re.search(r"(?:Stack requirements|Requirements) \(([^)]+)\):", text)
    slug = re.sub(r"[^a-z0-9]+", "-", (stack[1] if stack else "task").lower()).strip("-")
    competency = re.search(r"^- (.+?) \((BEGINNER|BASIC|INTERMEDIATE|ADVANCED)\)", text, re.M)
    return {"slug": f"{slug}-task", "name": competency[1] if competency else slug,
            "review": "graded by a rubric review" in text,
            "docker": "code_files must contain run.sh and kill.sh" in text,
            "toolchain": _toolchain(text)}  # type: ignore[dict-item]


def _toolchain(text: str) -> str:
    for marker, name in (("with Go 1.19", "go"), ("Node.js 18", "node"), ("Python 3.11", "python")):
        if re.search(rf"hidden tests run in [^\n]*{re.escape(marker)}", text):
            return name
    return "none"


def task(text: str) -> dict[str, Any]:
    facts = _facts(text)
    lang = LANGUAGES[str(facts["toolchain"])]
    source = "deliverable/PLAN.md" if facts["review"] else lang["source"]
    files = {"README.md": readme(str(facts["name"]), source),
             source: "# TODO\n" if facts["review"] else "// limit is missing\n"}
    if not facts["review"]:
        files[lang["visible"]] = "// a visible test that passes on the starter\n"
    if facts["docker"]:
        files.update({"run.sh": RUN.format(slug=facts["slug"]),
                      "kill.sh": KILL.format(slug=facts["slug"]),
                      "docker-compose.yml": "services:\n  app:\n    build: .\n"})
    return {"name": facts["slug"], "question": f"Add a page-size limit to the {facts['name']} "
            "service so that no page holds more than 100 items.",
            "code_files": files, "outcomes": ["Pages hold at most 100 items.", "Larger requests "
                                              "are capped."],
            "short_overview": ["Cap the page size."], "pre_requisites": [str(facts["name"])],
            "answer": "Clamp the requested size to 100 in the feature module.",
            "hints": "Clamp, do not reject.", "definitions": {"Page size": "items per page"}}


def readme(name: str, source: str) -> str:
    return (f"# Page limits\n\n## Task Overview\n\nThe {name} service returns unbounded pages; "
            "clients asking for 500 items time out.\n\n## Objectives\n\n- Cap pages at 100 "
            f"items in `{source}` (the page limit).\n- Keep smaller pages unchanged.\n\n"
            "## How to Verify\n\n- Run the tests with `make test`.\n\n## Helpful Tips\n\n"
            f"- The limit belongs in `{source}`.\n")


def solution(text: str) -> dict[str, Any]:
    facts = _facts(text)
    if facts["review"]:
        plan = ("# Change plan\n\n## Current State\n\nPages are unbounded and clients asking for "
                "500 items time out after 30 seconds on the catalogue service.\n")
        return {"files": {"deliverable/PLAN.md": plan}, "steps": ["Write the plan."],
                "tests": {}, "rubric": [{"id": "plan", "criterion": "The plan is specific.",
                                         "score": 10, "required": True, "command": ""}]}
    lang = LANGUAGES[str(facts["toolchain"])]
    return {"files": {lang["source"]: "// limit(n) returns min(n, 100)\n"},
            "steps": ["Clamp the page size to 100."], "tests": {lang["held_out"]: lang["test"]},
            "rubric": [{"id": "page-limit", "criterion": "Pages hold at most 100 items.",
                        "score": 10, "required": True, "command": lang["command"],
                        "behaviour": ["page", "limit"]}]}


def submission_review(prompt: str) -> dict[str, Any]:
    passed = "TODO" not in prompt.split("The submission's files:", 1)[-1]
    return {"criteria": [{"id": "plan", "pass": passed,
                          "reason": "specific" if passed else "still the template"}]}
