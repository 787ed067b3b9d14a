"""Spec loading: every kind of bad input gives file:line:col, the YAML path and what was
expected, all errors at once, exit code 1, and no traceback."""

from __future__ import annotations

import pytest

from runner.kinds.registry import STEP_TYPES

ERRORS = [
    ("unknown kind", """
        apiVersion: taskform/v1
        kind: Pipelin
        metadata: {name: p}
        spec: {}
        """,
     "specs/main.yaml:2:7: kind: unknown kind 'Pipelin'; expected one of: Background, "
     "Competency, Deployment, Droplet, Pipeline, ScenarioSet, Task, TaskPool"),
    ("api version", """
        apiVersion: taskform/v2
        kind: Competency
        metadata: {name: c}
        spec: {name: C, proficiency: BASIC}
        """,
     "specs/main.yaml:1:13: apiVersion: expected 'taskform/v1', got 'taskform/v2'"),
    ("unknown key", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: 1, inptu: 2}
        """,
     "specs/main.yaml:7:25: spec.steps.a.value.inptu: unknown key 'inptu'; expected one of: "
     "input"),
    ("unknown key spelled like a type", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {int: 2}
        """,  # pydantic's union tags are spelled so too; this one was dropped, then a crash
     "specs/main.yaml:7:15: spec.steps.a.value.int: unknown key 'int'; expected one of: input"),
    ("wrong type", """
        apiVersion: taskform/v1
        kind: Competency
        metadata: {name: c}
        spec: {name: C, proficiency: EXPERT}
        """,
     "specs/main.yaml:4:30: spec.proficiency: expected 'BEGINNER', 'BASIC', 'INTERMEDIATE' or "
     "'ADVANCED', got \"EXPERT\""),
    ("missing key", """
        apiVersion: taskform/v1
        kind: Background
        metadata: {name: b}
        spec: {role_context: dev}
        """,
     "specs/main.yaml:4:7: spec.organization_background: required key is missing"),
    ("unknown step type", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              sehll: {command: "true"}
        """,
     "specs/main.yaml:7:7: spec.steps.a.sehll: unknown step type or key 'sehll'; expected one "
     f"step type ({', '.join(sorted(STEP_TYPES))}) and optionally depends_on, when, retries, "
     "retry_delay, timeout, lifecycle, description"),
    ("dangling depends_on", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: 1}
              depends_on: [nope]
        """,
     "specs/main.yaml:8:20: spec.steps.a.depends_on[0]: depends on step 'nope', which this "
     "pipeline does not define; steps: a"),
    ("dangling reference", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: '{{ ref("pipeline.q.x").value }}'}
        """,
     "specs/main.yaml:7:22: spec.steps.a.value.input: references pipeline.q.x, which is not "
     "defined"),
    ("unknown variable", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: "{{ var.nope }}"}
        """,
     "specs/main.yaml:7:22: spec.steps.a.value.input: unknown variable 'nope'; declared in "
     "taskform.yaml: none"),
    ("bad template", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: "{{ var. }}"}
        """,
     "specs/main.yaml:7:22: spec.steps.a.value.input: invalid template: expected name or "
     "number"),
    ("bad yaml", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p
        spec: {}
        """,
     "specs/main.yaml:4:5: invalid YAML: while parsing a flow mapping did not find expected ',' "
     "or '}'"),
    ("duplicate key", """
        apiVersion: taskform/v1
        kind: Competency
        metadata: {name: c}
        spec: {name: C, proficiency: BASIC, name: D}
        """,
     "specs/main.yaml:4:37: spec.name: duplicate key 'name' (first defined at line 4)"),
    ("negative retries", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: 1}
              retries: -1
        """,
     "specs/main.yaml:8:16: spec.steps.a.retries: expected a whole number from 0 to 100, got -1"),
    ("bad timeout", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              value: {input: 1}
              timeout: 5 years
        """,
     "specs/main.yaml:8:16: spec.steps.a.timeout: expected a duration like 30s, 5m, 1h30m or "
     "a number of seconds, got '5 years'"),
    ("kind that is a list", """
        apiVersion: taskform/v1
        kind: [Pipeline]
        metadata: {name: p}
        spec: {}
        """,
     "specs/main.yaml:2:7: kind: expected one of: Background, Competency, Deployment, "
     "Droplet, Pipeline, ScenarioSet, Task, TaskPool, got a list"),
    ("timeout that is a list", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}, timeout: [5]}
        """,
     "specs/main.yaml:6:37: spec.steps.a.timeout: expected a duration like 30s, 5m or a "
     "number of seconds"),
    ("timeout .nan", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}, timeout: .nan}
        """,
     "specs/main.yaml:6:37: spec.steps.a.timeout: expected a finite duration, got nan"),
    ("retry_delay .inf", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}, retry_delay: .inf}
        """,
     "specs/main.yaml:6:41: spec.steps.a.retry_delay: expected a finite duration, got inf"),
    ("retry_delay past a week", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}, retry_delay: 200h}
        """,
     "specs/main.yaml:6:41: spec.steps.a.retry_delay: expected at most 168h (7 days), got "
     "'200h'"),
    ("api version that is a mapping", """
        apiVersion: {a: 1}
        kind: Competency
        metadata: {name: c}
        spec: {name: C, proficiency: BASIC}
        """,
     "specs/main.yaml:1:13: apiVersion: expected 'taskform/v1', got a mapping"),
    ("union type", """
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a:
              shell: {command: 3}
        """,
     "specs/main.yaml:7:24: spec.steps.a.shell.command: expected a valid string or a valid "
     "list, got 3"),
]


@pytest.mark.parametrize("text,expected", [(t, e) for _, t, e in ERRORS],
                         ids=[n for n, _, _ in ERRORS])
def test_each_error_names_place_path_and_expectation(ws, text, expected):
    ws.spec(text)
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output == f"Error: 1 error in the specs:\n  {expected}\n"


def test_all_errors_of_a_load_come_together(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1, x: 1}}
            b: {value: {input: 1}, retries: yes}
        """)
    ws.spec("""
        apiVersion: taskform/v1
        kind: Nope
        metadata: {name: q}
        spec: {}
        """, name="other.yaml")
    result = ws.cli("validate")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "Error: 3 errors in the specs:",
        "  specs/main.yaml:6:27: spec.steps.a.value.x: unknown key 'x'; expected one of: input",
        "  specs/main.yaml:7:37: spec.steps.b.retries: expected a whole number from 0 to 100, "
        "got True",
        "  specs/other.yaml:2:7: kind: unknown kind 'Nope'; expected one of: Background, "
        "Competency, Deployment, Droplet, Pipeline, ScenarioSet, Task, TaskPool",
    ]


def test_duplicate_document_name(ws):
    doc = """
        apiVersion: taskform/v1
        kind: Competency
        metadata: {name: c}
        spec: {name: C, proficiency: BASIC}
        """
    ws.spec(doc, "a.yaml")
    ws.spec(doc, "b.yaml")
    result = ws.cli("validate")
    assert result.output == ("Error: 1 error in the specs:\n  specs/b.yaml:3:18: metadata.name: "
                             "duplicate name 'c': Competency 'c' is already defined at "
                             "specs/a.yaml:3\n")


def test_dependency_cycle_names_its_path(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            a: {value: {input: 1}, depends_on: [c]}
            b: {value: {input: '{{ steps.a.value }}'}}
            c: {value: {input: 1}, depends_on: [b]}
        """)
    result = ws.cli("validate")
    assert result.output == ("Error: 1 error in the specs:\n  specs/main.yaml:6:5: dependency "
                             "cycle: pipeline.p.a -> pipeline.p.c -> pipeline.p.b -> "
                             "pipeline.p.a\n")


def test_bad_input_through_a_real_process_has_no_traceback(ws):
    ws.spec("kind: [")
    proc = ws.run("plan")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.startswith("Error: 1 error in the specs:\n  specs/main.yaml:")


def test_bad_taskform_yaml(ws):
    ws.write("taskform.yaml", "parallelism: lots\nstate: {backend: redis}\n")
    result = ws.cli("validate")
    assert result.output.splitlines() == [
        "Error: 2 errors in the specs:",
        "  taskform.yaml:1:14: parallelism: expected a valid integer, unable to parse string as "
        "an integer, got \"lots\"",
        "  taskform.yaml:2:18: state.backend: expected 'sqlite' or 'postgresql', got \"redis\"",
    ]


@pytest.mark.parametrize("config,expected", [
    ("a: 1\n---\nb: 2\n",
     "taskform.yaml:3:1: taskform.yaml holds one YAML document; remove this second one"),
    ("specs: [/etc/*.yaml]\n",
     'taskform.yaml:1:9: specs[0]: expected a path inside the workspace, got "/etc/*.yaml" '
     "(absolute paths are refused)"),
    ("specs: ['specs/../../*.yaml']\n",
     'taskform.yaml:1:9: specs[0]: expected a path inside the workspace, got '
     '"specs/../../*.yaml" (it climbs out of the workspace with ..)'),
    ("specs: ['']\n",
     "taskform.yaml:1:9: specs[0]: expected a path inside the workspace, got an empty text"),
    ("specs: ['specs/a**.yaml']\n",
     "taskform.yaml:1:9: specs[0]: expected a glob like specs/**/*.yaml ('**' only as a whole "
     'part of the path), got "specs/a**.yaml"'),
    ("state: {path: /tmp/state.db}\n",
     'taskform.yaml:1:15: state.path: expected a path inside the workspace, got '
     '"/tmp/state.db" (absolute paths are refused)'),
    ("grading: {timeout_seconds: .inf}\n",
     "taskform.yaml:1:28: grading.timeout_seconds: expected a finite number, got Infinity"),
], ids=["second document", "absolute glob", "climbing glob", "empty glob", "bad glob",
        "state outside",
        "infinite number"])
def test_taskform_yaml_that_reaches_outside_or_is_not_one_document(ws, config, expected):
    ws.write("taskform.yaml", config)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, f"Error: 1 error in the specs:\n  {expected}\n")


def test_a_spec_file_that_links_out_of_the_workspace_is_not_read(ws, tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text("apiVersion: taskform/v1\nkind: Nope\n")
    (ws.root / "specs").mkdir()
    (ws.root / "specs" / "evil.yaml").symlink_to(secret)
    result = ws.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        "Error: 1 error in the specs:\n  specs/evil.yaml:1:1: the file is a symbolic link to a "
        "file outside the workspace; a spec cannot read files outside its workspace\n"))


def test_missing_workspace_config(tmp_path, taskform_main, capsys):
    assert taskform_main("-C", str(tmp_path), "validate") == 1
    assert capsys.readouterr().err == (f"Error: no taskform.yaml in {tmp_path}: a workspace "
                                       "needs one (an empty file is valid); use -C DIR to run "
                                       "in another folder\n")
    import gc

    assert gc.isenabled()  # main() pauses the cycle collector only while it runs


def test_empty_taskform_yaml_and_no_specs_is_valid(ws):
    result = ws.cli("validate")
    assert result.exit_code == 0
    assert result.output == "Valid: 0 documents, 0 resources in 0 files.\n"
