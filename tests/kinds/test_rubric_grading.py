"""Grading on the real engine: rubric_set → rubric_shell in a locked-down pool. Statuses by
exit code and markers, tamper attempts caught, hard deadlines that leave no process and no
container behind, patches that do not apply, the result cache, infrastructure retries."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest
from grading_workspace import (
    FIXED,
    LOCKED_DOWN,
    cell,
    make_patch,
    processes,
    statuses,
    write_spec,
    write_task,
)

from tests.conftest import subprocess_env

pytestmark = pytest.mark.docker

ADD = "python3 -m unittest tests.test_hidden.Add"
NEGATIVE = "python3 -m unittest tests.test_hidden.Negative"


CHECK = "python3 -c 'import calc; assert calc.add(2, 3) == 5'"  # no test runner: markers decide


def test_statuses_by_evidence_and_by_markers_where_no_test_runner_reports(dws):
    dws.write("taskform.yaml", "grading: {pass_marker: '#__PASS__#', timeout_seconds: 20}\n")
    write_task(dws, [("add", f"{ADD} && echo '#__PASS__#'", 3, True),
                     ("liar", "echo '#__PASS__#'; exit 1", 1, False),
                     ("quiet", CHECK, 1, False), ("unmarked", ADD, 1, False)],
               {"solution1": make_patch(FIXED)})
    write_spec(dws)
    result = dws.apply()
    assert statuses(dws) == {
        ("add", "solution1"): "PASS", ("add", "golden"): "PASS", ("add", "original"): "FAIL",
        ("liar", "solution1"): "FAIL", ("liar", "golden"): "FAIL", ("liar", "original"): "FAIL",
        ("quiet", "solution1"): "FAIL", ("quiet", "golden"): "FAIL",
        ("quiet", "original"): "FAIL", ("unmarked", "solution1"): "PASS",
        ("unmarked", "golden"): "PASS", ("unmarked", "original"): "FAIL"}
    assert cell(dws, "liar", "solution1")["reason"] == \
        "printed the pass marker #__PASS__# but exit code 1"
    assert cell(dws, "quiet", "golden")["reason"] == \
        "exit code 0, but the pass marker #__PASS__# was not printed"
    assert (cell(dws, "quiet", "golden")["evidence"], cell(dws, "add", "golden")["evidence"]) \
        == ("markers", "results")
    assert cell(dws, "unmarked", "golden")["tests"] == [
        {"id": "tests.test_hidden.Add.test_add", "outcome": "passed", "message": "",
         "seconds": cell(dws, "unmarked", "golden")["tests"][0]["seconds"]}]
    original = cell(dws, "add", "original")
    assert original["reason"] == ("1 of 1 tests failed: tests.test_hidden.Add.test_add "
                                  "(AssertionError: -1 != 5)")
    assert original["tests"][0]["message"] == (
        'Traceback (most recent call last):\n  File "/app/tests/test_hidden.py", line 8, in '
        'test_add\n    self.assertEqual(calc.add(2, 3), 5)\nAssertionError: -1 != 5')
    assert "pipeline.g.grade  (4 criteria × 3 solutions · rubric task/TASK_DATA.md)" \
        in result.output  # apply prints the matrix it graded
    assert processes(dws) == {c.name: [] for c in dws.labelled("containers")}


def test_a_planted_file_and_a_shipped_conftest_are_caught(dws):
    # `plant` fixes nothing; importing its calc.py drops an always-passing unittest.py into
    # /app, which would shadow the standard library for every later grading in the container
    plant = make_patch({"calc.py": "import pathlib\n\npathlib.Path('/app/unittest.py')."
                                   "write_text('raise SystemExit(0)\\n')\n\n\n"
                                   "def add(a, b):\n    return a - b\n"})
    conftest = make_patch({"conftest.py": "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)"
                                          "\ndef pytest_runtest_makereport(item, call):\n"
                                          "    outcome = yield\n    outcome.get_result()."
                                          "outcome = 'passed'\n", **FIXED})
    write_task(dws, [("add", ADD, 2, True), ("negative", NEGATIVE, 1, False)],
               {"solution1": plant, "solution2": conftest})
    write_spec(dws, pool_size=1)  # one container: every grading follows another one
    dws.apply()
    assert statuses(dws) == {
        ("add", "solution1"): "FAIL", ("negative", "solution1"): "FAIL",
        ("add", "solution2"): "ERROR", ("negative", "solution2"): "ERROR",
        ("add", "golden"): "PASS", ("negative", "golden"): "PASS",
        ("add", "original"): "FAIL", ("negative", "original"): "FAIL"}
    assert cell(dws, "add", "solution2")["reason"] == (
        "solution modifies test-harness files: conftest.py (protected: conftest.py, "
        "sitecustomize.py, usercustomize.py, *.pth, pytest.ini)")
    assert "AssertionError: -1 != 5" in cell(dws, "add", "solution1")["output"]


HUNG = [("spin", "while true; do :; done", 1, False),
        ("sleepers", "for i in $(seq 1 40); do sleep 300 & done; wait", 1, False),
        ("daemon", "setsid sleep 300 < /dev/null > /dev/null 2>&1 & echo left", 1, False)]


def test_a_hung_test_and_a_fork_of_sleepers_end_as_timeout_and_leave_nothing(dws):
    write_task(dws, HUNG, {}, golden=make_patch(FIXED))
    write_spec(dws, extra="timeout_seconds: 2\noriginal: false")
    dws.apply()
    found = statuses(dws)
    assert found == {("spin", "golden"): "TIMEOUT", ("sleepers", "golden"): "TIMEOUT",
                     ("daemon", "golden"): "PASS"}
    for criterion in ("spin", "sleepers"):
        graded = cell(dws, criterion, "golden")
        assert graded["reason"] == "timed out after 2s (exit code 124)"
        assert graded["seconds"] <= 2 + 1  # the deadline holds: a second at most past it
    containers = dws.labelled("containers")
    members = {m["container_name"] for m in dws.outputs("pipeline.g.pool")["members"]}
    assert {c.name for c in containers} == members and len(containers) == 2  # no sandbox left
    assert dws.labelled("volumes") == []
    assert processes(dws) == {name: [] for name in members}  # fresh sandboxes: members idle
    assert not [c for c in containers if c.labels.get("taskform.replaces")]
    assert dws.plan_lines() == ["No changes. 8 resources match the specs."]
    gc = dws.cli("gc")
    assert (gc.exit_code, gc.output) == (0, "No unowned objects: every labelled container, "
                                         "volume and image of this workspace belongs to a "
                                         "recorded resource.\n")


def test_reusing_containers_a_timed_out_one_is_replaced_never_reused(dws):
    write_task(dws, HUNG[:1], {}, golden=make_patch(FIXED))
    write_spec(dws, pool_size=1, extra="timeout_seconds: 2\noriginal: false\nisolation: reuse")
    dws.apply()
    assert statuses(dws) == {("spin", "golden"): "TIMEOUT"}
    containers = dws.labelled("containers")
    assert [c.labels.get("taskform.replaces") is not None for c in containers] == [True]
    assert processes(dws) == {c.name: [] for c in containers}
    assert dws.plan_lines() == ["No changes. 5 resources match the specs."]


def test_a_patch_that_does_not_apply_is_an_error_with_gits_message(dws):
    stale = make_patch({"calc.py": "def add(a, b):\n    return a + b  # fixed\n"},
                       base={**dict(FIXED), "tests/__init__.py": ""})
    write_task(dws, [("add", ADD, 1, True)], {"solution1": stale})
    write_spec(dws)
    dws.apply()
    graded = cell(dws, "add", "solution1")
    assert graded["status"] == "ERROR"
    assert graded["reason"] == "patch does not apply: error: patch failed: calc.py:1"
    assert "error: calc.py: patch does not apply" in graded["output"]


def test_a_changed_patch_regrades_only_that_solution(dws):
    write_task(dws, [("add", ADD, 2, True), ("negative", NEGATIVE, 1, False)],
               {"solution1": make_patch(FIXED), "solution2": make_patch(FIXED)})
    write_spec(dws)
    dws.apply()
    first = {k: v.run_id for k, v in dws.state().records().items()}
    dws.write("task/solution2.patch", make_patch({"calc.py": "def add(a, b):\n    return 5\n"}))
    lines = dws.plan_lines()
    assert lines == [
        "  ~ pipeline.g.grade  (rubric_set, update)",
        '      # pipeline.g.grade["add","solution2"] will change',
        '      # pipeline.g.grade["negative","solution2"] will change',
        '  ~ pipeline.g.grade["add","solution2"]  (rubric_shell, update)',
        "      # file task/solution2.patch changed",
        '  ~ pipeline.g.grade["negative","solution2"]  (rubric_shell, update)',
        "      # file task/solution2.patch changed",
        "Plan: 0 to create, 3 to update, 0 to replace, 0 to destroy, 10 unchanged.",
    ]
    dws.apply()
    now = dws.state().records()
    rerun = sorted(a for a, r in now.items() if r.run_id != first[a])
    assert rerun == ['pipeline.g.grade', 'pipeline.g.grade["add","solution2"]',
                     'pipeline.g.grade["negative","solution2"]']
    assert statuses(dws)[("add", "solution2")] == "PASS"
    assert statuses(dws)[("negative", "solution2")] == "FAIL"
    assert dws.plan_lines() == ["No changes. 13 resources match the specs."]


def test_rescoring_a_criterion_updates_its_records_without_grading_again(dws):
    write_task(dws, [("add", ADD, 2, True)], {"solution1": make_patch(FIXED)})
    write_spec(dws)
    dws.apply()
    before = cell(dws, "add", "solution1")
    dws.write("task/TASK_DATA.md", (dws.root / "task/TASK_DATA.md").read_text()
              .replace("**Score**: 2", "**Score**: 5"))
    result = dws.cli("apply", "-auto-approve", "-v")
    assert result.exit_code == 0, result.output
    assert "the recorded result has the same cache key: not graded again" in result.output
    after = cell(dws, "add", "solution1")
    assert after["criterion"]["score"] == 5.0
    assert (after["started_at"], after["cache_key"]) == (before["started_at"],
                                                         before["cache_key"])
    assert dws.outputs("pipeline.g.grade")["scores"]["solution1"]["earned"] == 5.0


def test_a_failing_setup_command_is_an_infrastructure_error_retried_then_failed(dws):
    write_task(dws, [("add", ADD, 1, True)], {})
    write_spec(dws, extra="setup: ['echo preparing; exit 3']\noriginal: false",
               step="retries: 1\nretry_delay: 0.1s")
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    record = dws.state().records()['pipeline.g.grade["add","golden"]']
    assert record.status == "failed"
    assert record.error.startswith("grading in tf-g-pool-")
    assert "a setup command failed: preparing (after 2 attempts)" in record.error.splitlines()[0]
    assert "setup command 1 failed with exit code 3: echo preparing; exit 3" in record.output
    report = dws.cli("report", "g")
    assert "add × golden: ERROR — grading in tf-g-pool-" in report.output


def test_a_pool_that_is_not_locked_down_is_refused_before_anything_runs(dws):
    write_task(dws, [("add", ADD, 1, True)], {})
    write_spec(dws, parameters=[p for p in LOCKED_DOWN if p not in ("--network none",
                                                                    "--pids-limit 128")])
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    record = dws.state().records()['pipeline.g.grade["add","golden"]']
    assert record.error.startswith("pool pipeline.g.pool cannot grade untrusted code: container "
                                   "tf-g-pool-")
    assert "has a network (--network none); has no --pids-limit limit. The pool's " \
           "parameters should hold: --network none, --memory 512m" in record.error
    assert dws.labelled("containers") and processes(dws) == {
        c.name: [] for c in dws.labelled("containers")}  # nothing ran


def test_a_pool_that_mounts_host_paths_is_refused_naming_them(dws):
    write_task(dws, [("add", ADD, 1, True)], {})
    write_spec(dws, pool_size=1, parameters=[*LOCKED_DOWN, "-v /etc:/host-etc:ro"])
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    record = dws.state().records()['pipeline.g.grade["add","golden"]']
    problem = record.error.split(": container tf-g-pool-0-", 1)[1].split(" ", 1)[1]
    assert problem.startswith("mounts host paths (-v /etc:/host-etc). The pool's parameters "
                              "should hold: --network none,")
    assert problem.endswith(", and no -v, --device or --volumes-from")
    members = {m["container_name"] for m in dws.outputs("pipeline.g.pool")["members"]}
    assert {c.name for c in dws.labelled("containers")} == members  # no sandbox was made


def test_the_host_watchdog_stops_a_grading_that_hangs_outside_the_command(dws):
    # setup commands run as root before the command's deadline starts: the host's watchdog
    # (grading.watchdog_slack_seconds) stops one that hangs
    (dws.root / "taskform.yaml").write_text("grading: {watchdog_slack_seconds: 2}\n")
    write_task(dws, [("add", ADD, 1, True)], {})
    write_spec(dws, pool_size=1, extra="setup: ['sleep 600']\noriginal: false\n"
                                       "timeout_seconds: 1\nkill_after: 0")
    dws.apply()
    graded = cell(dws, "add", "golden")
    assert graded["status"] == "TIMEOUT"
    assert graded["reason"].startswith("the host watchdog stopped the grading after 2.")
    assert graded["reason"].endswith("s, before its command started")
    assert processes(dws) == {c.name: [] for c in dws.labelled("containers")}
    members = {m["container_name"] for m in dws.outputs("pipeline.g.pool")["members"]}
    assert {c.name for c in dws.labelled("containers")} == members  # the sandbox is gone
    assert dws.plan_lines() == ["No changes. 5 resources match the specs."]


def read_until(proc: subprocess.Popen[str], text: str) -> None:
    """Read the apply's output up to a line containing `text`; fail if it ends first."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if text in line:
            return
    pytest.fail(f"the apply ended (exit {proc.wait()}) before printing {text!r}")


def apply_in_background(dws, until: str) -> subprocess.Popen[str]:
    """`taskform apply -auto-approve -v` in its own process, read up to a line with `until`."""
    proc = subprocess.Popen([sys.executable, "-m", "runner", "-C", str(dws.root), "apply",
                             "-auto-approve", "-v"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=subprocess_env())
    read_until(proc, until)
    return proc


@pytest.mark.slow
def test_a_second_interrupt_cancels_a_grading_and_discards_its_container(dws):
    write_task(dws, [("slow", "sleep 120", 1, False)], {})
    write_spec(dws, pool_size=1, extra="original: false")
    assert dws.cli("apply", "-auto-approve", "-target", "pipeline.g.pool").exit_code == 0
    proc = apply_in_background(dws, until="grading in tf-g-pool-0-")
    proc.send_signal(signal.SIGINT)
    read_until(proc, "Interrupt received")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    assert 'pipeline.g.grade["slow","golden"]: FAILED [' in out
    assert "]: cancelled by interrupt" in out
    assert processes(dws) == {c.name: [] for c in dws.labelled("containers")}
    assert len(dws.labelled("containers")) == 1
    lines = dws.plan_lines()
    assert '      # the last apply failed: cancelled by interrupt' in lines
    assert lines[-1] == "Plan: 1 to create, 1 to update, 0 to replace, 0 to destroy, 3 unchanged."


@pytest.mark.slow
def test_a_first_interrupt_leaves_gradings_still_waiting_for_a_container_to_the_next_apply(dws):
    write_task(dws, [("slow", "sleep 3", 1, False)],
               {"solution1": make_patch(FIXED), "solution2": make_patch(FIXED)})
    write_spec(dws, pool_size=1, extra="original: false")
    assert dws.cli("apply", "-auto-approve", "-target", "pipeline.g.pool").exit_code == 0
    proc = apply_in_background(dws, until="grading in tf-g-pool-0-")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1, out
    graded = [s for s in ("golden", "solution1", "solution2")
              if f'pipeline.g.grade["slow","{s}"]: created' in out]
    waiting = [s for s in ("golden", "solution1", "solution2")
               if f'pipeline.g.grade["slow","{s}"]: not started: the run stopped before it began' in out]
    assert len(graded) == 1 and len(waiting) == 2, out
    assert set(statuses(dws)) == {("slow", graded[0])}  # nothing recorded for the two
    lines = dws.plan_lines()
    assert lines[-1] == "Plan: 3 to create, 0 to update, 0 to replace, 0 to destroy, 4 unchanged."
    rerun = dws.cli("apply", "-auto-approve")
    assert rerun.exit_code == 0, rerun.output
    assert set(statuses(dws)) == {("slow", s) for s in ("golden", "solution1", "solution2")}


def test_a_volume_pool_grades_too(dws):
    write_task(dws, [("add", ADD, 1, True)], {"solution1": make_patch(FIXED)})
    params = ", ".join(f'"{p}"' for p in LOCKED_DOWN)
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: g}}
        spec:
          steps:
            image:
              docker_build: {{context: task, image_tag: "{dws.tag}"}}
            volumes:
              docker_volume_pool:
                image_id: "{{{{ steps.image.image_id }}}}"
                solutions: [original, golden]
                parameters: [{params}]
            grade:
              rubric_set: {{pool: volumes, task_dir: task, git_dir: /srv/pristine.git}}
        """)
    dws.apply()
    assert statuses(dws) == {("add", "solution1"): "PASS", ("add", "golden"): "PASS",
                             ("add", "original"): "FAIL"}
    assert dws.plan_lines() == ["No changes. 8 resources match the specs."]


def test_gates_fail_the_step_naming_the_criteria_and_a_flaky_golden_is_caught(dws):
    # a counter the grading user may write that no reset touches: the test passes on even runs
    # (only a fixed calc.py gets to count, so only the golden patch's runs do)
    counter = ("python3 -c 'import calc; assert calc.add(2, 3) == 5' && "
               "n=$(cat /var/lib/flaky/n 2>/dev/null || echo 0) && echo $((n + 1)) > "
               "/var/lib/flaky/n && [ $((n % 2)) = 0 ]")
    write_task(dws, [("flaky", counter, 1, False), ("add", ADD, 1, True),
                     ("catches-nothing", "true", 1, False)], {},
               dockerfile_extra="RUN mkdir -p /var/lib/flaky && chown grader /var/lib/flaky\n")
    # a file that outlives a grading: only containers reused between gradings have one
    write_spec(dws, pool_size=1, extra="validate: {repeat: 3}\nisolation: reuse")
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    golden = cell(dws, "flaky", "golden")
    assert golden["repeats"] == ["PASS", "FAIL", "PASS"]
    assert golden["status"] == "FAIL"
    assert golden["reason"] == "flaky: PASS, FAIL, PASS; run 2: exit code 1"
    record = dws.state().records()["pipeline.g.grade"]
    assert record.status == "failed"
    assert record.error.splitlines()[0] == (
        "validation gates failed: the original passes 1 criterion it should fail: "
        "catches-nothing; the golden result is flaky across 3 runs for 1 criterion: flaky "
        "(PASS, FAIL, PASS)")
    assert "  #1 flaky × golden: FAIL — flaky: PASS, FAIL, PASS; run 2: exit code 1\n" \
        "\npipeline.g.grade failed: validation gates failed: the original passes 1 criterion" \
        in result.output  # the matrix apply prints says which gate failed


def test_output_past_the_limit_is_cut_in_the_middle_with_a_note(dws):
    write_task(dws, [("noisy", "seq 1 20000; exit 1", 1, False)], {})
    write_spec(dws, extra="output_limit: 2000\noriginal: false")
    dws.apply()
    graded = cell(dws, "noisy", "golden")
    assert (graded["status"], graded["output_truncated"], graded["output_bytes"]) == \
        ("FAIL", True, 108894)
    assert graded["output"].startswith("1\n2\n3\n")
    assert graded["output"].rstrip().endswith("19999\n20000")
    assert "bytes of output cut (limit 2000 bytes)" in graded["output"]


def test_a_new_top_level_module_shadowing_the_test_framework_is_refused(dws):
    # with `python3 -m unittest` the work dir comes first on sys.path: a solution's own
    # unittest.py would run instead of the real test runner and exit 0
    shadow = make_patch({"unittest.py": "raise SystemExit(0)\n"})
    write_task(dws, [("add", ADD, 1, True)], {"solution1": shadow})
    write_spec(dws, extra="original: false")
    dws.apply()
    graded = cell(dws, "add", "solution1")
    assert (graded["status"], graded["reason"]) == (
        "ERROR", "solution adds a module named like the test framework, which the work dir "
                 "would shadow: unittest.py")


def test_a_solution_rewriting_the_held_out_tests_package_init_is_refused(dws):
    # tests/__init__.py runs before the held-out tests are imported: it could make every
    # test pass (TestCase.run replaced by a no-op) without touching them
    rigged = make_patch({"tests/__init__.py": "import unittest\n\nunittest.TestCase.run = "
                                              "lambda self, result=None: result\n"})
    write_task(dws, [("add", ADD, 1, True)], {"solution1": rigged})
    write_spec(dws, extra="original: false")
    dws.apply()
    graded = cell(dws, "add", "solution1")
    assert (graded["status"], graded["reason"]) == (
        "ERROR", "solution modifies the package of the held-out tests: tests/__init__.py")


def test_the_report_written_during_apply_masks_secrets_like_report_o(dws, monkeypatch):
    monkeypatch.setenv("TF_TEST_TOKEN", "hunter2-s3cr3t")
    dws.write("taskform.yaml", "variables:\n  token: {env: TF_TEST_TOKEN, secret: true}\n")
    write_task(dws, [("leak", "cat /tmp/token; exit 1", 1, False)], {})
    write_spec(dws, pool_size=1, extra="setup: ['echo {{ var.token }} > /tmp/token']\n"
                                       "original: false\nreport: reports/g.html")
    dws.apply()
    page = (dws.root / "reports/g.html").read_text()
    assert "hunter2-s3cr3t" not in page
    assert "(sensitive)" in page
    written = dws.cli("report", "g", "--format", "html", "-o", str(dws.root / "reports/o.html"))
    assert written.exit_code == 0, written.output
    assert "(sensitive)" in (dws.root / "reports/o.html").read_text()


NO_OP_PROBE = """
import json, sys
from runner.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules
                        if m.startswith(("runner.rubric.", "runner.kinds.rubric_shell")))))
"""
# what a graded set's settings are made of; the grading engine (solutions, results, evidence,
# sandboxes, leases, scripts) and the cells' kind are not needed to plan it again
SETTINGS_VOCABULARY = ["runner.rubric.jsonfile", "runner.rubric.markdown", "runner.rubric.model",
                       "runner.rubric.parse", "runner.rubric.patches", "runner.rubric.score",
                       "runner.rubric.status"]


def test_a_no_op_plan_of_a_graded_set_loads_nothing_of_the_grading_engine(dws):
    write_task(dws, [("add", ADD, 1, True)], {"solution1": make_patch(FIXED)})
    write_spec(dws)
    dws.apply()

    def loaded() -> list[str]:
        proc = subprocess.run([sys.executable, "-c", NO_OP_PROBE, "-C", str(dws.root), "plan"],
                              capture_output=True, text=True, env=subprocess_env(), timeout=120)
        assert proc.returncode == 0 and "No changes." in proc.stdout, proc.stdout + proc.stderr
        return list(json.loads(proc.stdout.splitlines()[-1]))

    loaded()  # the first plan after apply may fill the spec cache
    assert [m for m in loaded() if m not in SETTINGS_VOCABULARY] == []
