"""taskform.yaml from the spec cache: an unchanged workspace opens without YAML or pydantic and
gives exactly what validating gives; a change is validated again; no secret reaches the disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from runner.spec import configcache
from runner.workspace import open_workspace
from tests.conftest import subprocess_env

CONFIG = """
parallelism: 3
specs: ["defs/*.yaml"]
grading: {timeout_seconds: 12}
variables:
  team: assessments
  region: {env: TF_TEST_REGION, default: eu}
"""

PROBE = """
import json, sys
from runner.workspace import open_workspace
ws = open_workspace(sys.argv[1])
print(json.dumps([ws.spec_patterns, ws.parallelism, ws.state_backend, ws.variables,
                  "pydantic" in sys.modules, "yaml" in sys.modules]))
ws.config.grading.timeout_seconds  # the models load when asked for
print("pydantic" in sys.modules)
"""


def probe(root: Path, env: dict[str, str] | None = None) -> list[str]:
    proc = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True,
                          text=True, env=subprocess_env(env), check=True)
    return proc.stdout.splitlines()


def test_an_unchanged_taskform_yaml_opens_without_pydantic(ws):
    ws.write("taskform.yaml", CONFIG)
    first = probe(ws.root)
    again = probe(ws.root)
    settings = '[["defs/*.yaml"], 3, "sqlite", {"team": "assessments", "region": "eu"}'
    assert first == [settings + ", true, true]", "True"]  # validated, then kept
    assert again[0].startswith(settings + ", false, ") and again[1] == "True"
    assert probe(ws.root, {"TF_TEST_REGION": "us"})[0].startswith(
        '[["defs/*.yaml"], 3, "sqlite", {"team": "assessments", "region": "us"}, false')


def test_a_changed_taskform_yaml_is_validated_again(ws):
    ws.write("taskform.yaml", CONFIG)
    assert open_workspace(ws.root).parallelism == 3
    ws.write("taskform.yaml", CONFIG.replace("parallelism: 3", "parallelism: 0"))
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output == ("Error: 1 error in the specs:\n  taskform.yaml:1:14: parallelism: "
                             "expected greater than or equal to 1, got 0\n")


def test_a_secret_literal_keeps_taskform_yaml_out_of_the_cache(ws):
    ws.write("taskform.yaml", "variables: {token: {value: first-literal-5e1}}\n")
    open_workspace(ws.root)
    entry = ws.root / ".taskform" / "cache" / "specs" / configcache._name()
    assert b"first-literal-5e1" in entry.read_bytes()
    ws.write("taskform.yaml", "variables: {token: {value: first-literal-5e1, secret: true}}\n")
    assert open_workspace(ws.root).secrets == ["first-literal-5e1"]
    assert not entry.exists()
    ws.write("taskform.yaml", "variables: {token: {env: TF_TEST_TOKEN, secret: true}}\n")
    opened = probe(ws.root, {"TF_TEST_TOKEN": "from-env-9c3"})
    assert entry.exists() and b"from-env-9c3" not in entry.read_bytes()
    assert '"token": "from-env-9c3"' in opened[0]


def test_the_models_from_the_cache_equal_those_validated(ws):
    ws.write("taskform.yaml", "parallelism: 3\n")
    validated = open_workspace(ws.root).config  # validated now, then kept
    cached = open_workspace(ws.root)
    assert cached._config is None  # from the cache: no model until asked for
    assert cached.config == validated
    # a default keeps its type (45, not the 45.0 the dump would validate to): a grading's
    # settings copy it, and their fingerprint digests it
    assert repr(validated.grading.timeout_seconds) == "45"
    assert repr(cached.config.grading.timeout_seconds) == "45"
