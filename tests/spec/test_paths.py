"""Settings that name paths are checked before anything runs: `validate` refuses absolute
paths and `..` that climbs out of the workspace, `plan` refuses symbolic links that lead out."""

from __future__ import annotations

import pytest

OUTSIDE = "expected a path inside the workspace, got"

CASES = [
    ("shell output", "s: {shell: {command: 'true', outputs: [../x.txt]}}",
     f'specs/main.yaml:6:44: spec.steps.s.shell.outputs[0]: {OUTSIDE} "../x.txt" (it climbs out '
     "of the workspace with ..)"),
    ("shell input glob", "s: {shell: {command: 'true', inputs: ['src/../../*.c']}}",
     f'specs/main.yaml:6:43: spec.steps.s.shell.inputs[0]: {OUTSIDE} "src/../../*.c" (it climbs '
     "out of the workspace with ..)"),
    ("file_exists absolute", "s: {file_exists: /etc/passwd}",
     f'specs/main.yaml:6:22: spec.steps.s.file_exists.files[0]: {OUTSIDE} "/etc/passwd" '
     "(absolute paths are refused)"),
    ("dockerfile out of its context", "s: {docker_build: {image_tag: 'a:b', context: app, "
     "dockerfile: ../../Dockerfile}}",
     f'specs/main.yaml:6:68: spec.steps.s.docker_build.dockerfile: {OUTSIDE} "../../Dockerfile" '
     "(it climbs out of the workspace with .. from app)"),
    ("rubric file out of task_dir", "s: {rubric_set: {pool: s, task_dir: task, file: ../../x.md}}",
     f'specs/main.yaml:6:53: spec.steps.s.rubric_set.file: {OUTSIDE} "../../x.md" (it climbs out '
     "of the workspace with .. from task)"),
    ("rubric report", "s: {rubric_set: {pool: s, report: /tmp/report.html}}",
     f'specs/main.yaml:6:39: spec.steps.s.rubric_set.report: {OUTSIDE} "/tmp/report.html" '
     "(absolute paths are refused)"),
    ("task-sync's file list", "s: {rubric_set: {pool: s, files: {../solution1.patch: abc}}}",
     f'specs/main.yaml:6:39: spec.steps.s.rubric_set.files.../solution1.patch: {OUTSIDE} '
     '"../solution1.patch" (it climbs out of the workspace with ..)'),
    ("docker -v that climbs", "s: {docker_run: {image_tag: 'a:b', parameters: [-v, "
     "'./../x:/x']}}",
     "specs/main.yaml:6:52: spec.steps.s.docker_run.parameters: -v ./../x: expected a folder "
     "inside the workspace (it climbs out of the workspace with ..)"),
    ("file_exists mapping that is not paths", "s: {file_exists: {command: ls}}",
     "specs/main.yaml:6:22: spec.steps.s.file_exists: expected a path, a list of paths, "
     "{files: [paths]}, or a map of paths to the times task-sync recorded for them"),
]


@pytest.mark.parametrize("step,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_path_out_of_the_workspace_is_a_validate_error(ws, step, expected):
    ws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: p}}
        spec:
          steps:
            {step}
        """)
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == (1, f"Error: 1 error in the specs:\n  {expected}\n")


def test_a_shell_step_with_an_output_outside_never_runs(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            w: {shell: {command: "echo x > ../x.txt", outputs: [../x.txt]}}
        """)
    result = ws.cli("apply", "-auto-approve")
    assert (result.exit_code, result.output) == (1, (
        f'Error: 1 error in the specs:\n  specs/main.yaml:6:57: spec.steps.w.shell.outputs[0]: '
        f'{OUTSIDE} "../x.txt" (it climbs out of the workspace with ..)\n'))
    assert not (ws.root.parent / "x.txt").exists()


def test_a_path_through_a_link_out_of_the_workspace_is_a_plan_error(ws, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (ws.root / "out").symlink_to(tmp_path / "elsewhere")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            w: {shell: {command: "echo x > x.txt", cwd: out, outputs: [out/x.txt]}}
            f: {file_exists: out/x.txt}
        """)
    assert ws.cli("validate").exit_code == 0  # the text is fine; the link is the filesystem's
    result = ws.cli("plan")
    assert (result.exit_code, result.output) == (1, (
        f"Error: pipeline.p.w (specs/main.yaml:6:5): cwd: 'out' leads out of the workspace "
        f"through a symbolic link (to {tmp_path / 'elsewhere'})\n"
        f"pipeline.p.w (specs/main.yaml:6:5): outputs: 'out/x.txt' leads out of the workspace "
        f"through a symbolic link (to {tmp_path / 'elsewhere' / 'x.txt'})\n"
        f"pipeline.p.f (specs/main.yaml:7:5): files: 'out/x.txt' leads out of the workspace "
        f"through a symbolic link (to {tmp_path / 'elsewhere' / 'x.txt'})\n"))
    assert not (tmp_path / "elsewhere" / "x.txt").exists()


def test_document_paths_are_checked_too(ws):
    ws.spec("""
        apiVersion: taskform/v1
        kind: Task
        metadata: {name: t}
        spec:
          competencies: [c]
          background: b
          scenario: {text: A scenario.}
          publish: {path: ../repos}
          generator: {scaffold: ../../etc}
        """)
    result = ws.cli("validate")
    assert result.output.splitlines() == [
        "Error: 2 errors in the specs:",
        f'  specs/main.yaml:8:19: spec.publish.path: {OUTSIDE} "../repos" (it climbs out of the '
        "workspace with ..)",
        "  specs/main.yaml:9:25: spec.generator.scaffold: expected the name of a folder of "
        'templates/tasks/, got "../../etc"',
    ]


def test_task_syncs_recorded_times_are_still_a_map_of_paths(ws):
    ws.write("a.txt", "")
    ws.spec("""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {name: p}
        spec:
          steps:
            f: {file_exists: {a.txt: "2025-01-01T00:00:00Z"}}
        """)
    assert ws.cli("apply", "-auto-approve").exit_code == 0
    assert list(ws.state().records()["pipeline.p.f"].outputs["files"]) == ["a.txt"]
