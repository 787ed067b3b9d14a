"""The CI files of examples/ci are well-formed: the workflow files against the GitHub Actions
and GitLab CI schemas (check-jsonschema's vendored SchemaStore copies: actionlint's PyPI
wrapper downloads its binary while installing, which cannot work offline), the scripts they
run exist, and the pre-commit hook runs `taskform validate` as pre-commit would."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, subprocess_env

CI = REPO / "examples" / "ci"
WORKFLOWS = sorted((CI / "github-actions").glob("*.yml"))
SCHEMAS = [(path, "vendor.github-workflows") for path in WORKFLOWS] + \
    [(CI / "gitlab-ci.yml", "vendor.gitlab-ci")]


def schema_check(path: Path, schema: str) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("check-jsonschema")
    if tool is None:
        pytest.skip("check-jsonschema is not installed (pip install -e '.[test]')")
    return subprocess.run([tool, "--builtin-schema", schema, str(path)], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("path", "schema"), SCHEMAS, ids=[p.name for p, _ in SCHEMAS])
def test_the_workflow_files_match_their_schema(path: Path, schema: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    checked = schema_check(path, schema)
    assert (checked.returncode, checked.stdout) == (0, "ok -- validation done\n"), checked.stderr
    # and the check does catch a broken file: a job without its runner, a stage not a name
    broken = tmp_path / path.name
    broken.write_text(path.read_text().replace("runs-on:", "runs_on:")
                      .replace("stage: plan", "stage: {plan: 1}"))
    assert schema_check(broken, schema).returncode == 1


def test_the_workflows_run_the_scripts_the_tests_execute() -> None:
    named = set()
    for path in WORKFLOWS:
        workflow = yaml.safe_load(path.read_text())
        assert workflow["env"]["TASKFORM_CI"] == "examples/ci/scripts"
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                named |= set(re.findall(r'"\$TASKFORM_CI/([\w.-]+)"', step.get("run", "")))
    assert named == {"pr-plan.sh", "comment.py", "merge-apply.sh", "drift.sh"}
    gitlab = (CI / "gitlab-ci.yml").read_text()
    assert set(re.findall(r'"\$TASKFORM_CI/([\w.-]+)"', gitlab)) == {"pr-plan.sh",
                                                                     "merge-apply.sh"}
    for name in named:
        assert (CI / "scripts" / name).is_file(), name


def test_the_pre_commit_hook_validates_the_workspace(ws, tmp_path) -> None:  # type: ignore[no-untyped-def]
    [hook] = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    # pre-commit's manifest: these keys are required, and a python hook installs this package
    assert {"id", "name", "entry", "language"} <= set(hook) and hook["language"] == "python"
    assert hook["pass_filenames"] is False
    files = re.compile(hook["files"])
    assert [bool(files.search(p)) for p in ("taskform.yaml", "specs/a.yaml", "team/specs/b.yml",
                                            "README.md", "src/specs.py")] == [
        True, True, True, False, False]
    shim = tmp_path / "bin" / "taskform"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\nexec python3 -m runner \"$@\"\n")
    shim.chmod(0o755)
    env = subprocess_env({"PATH": f"{shim.parent}:{subprocess_env()['PATH']}"})
    ws.spec("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n"
            "  steps:\n    a: {value: {input: 1}}\n")
    good = subprocess.run(hook["entry"].split(), cwd=ws.root, env=env, capture_output=True,
                          text=True)
    assert (good.returncode, good.stdout) == (0, "Valid: 1 document, 1 resource in 1 file.\n")
    ws.spec("apiVersion: taskform/v1\nkind: Pipeline\nmetadata: {name: p}\nspec:\n"
            "  steps:\n    a: {value: {inptu: 1}}\n")
    bad = subprocess.run(hook["entry"].split(), cwd=ws.root, env=env, capture_output=True,
                         text=True)
    assert (bad.returncode, bad.stderr) == (1, (
        "Error: 1 error in the specs:\n  specs/main.yaml:6:17: spec.steps.a.value.inptu: "
        "unknown key 'inptu'; expected one of: input\n"))
