"""docker_pull from the local registry (127.0.0.1:5000, started by scripts/docker-up.sh):
a real pull, the expected id checked, prevent_run_before and the re-pull interval honoured."""

from __future__ import annotations

import datetime as dt

import pytest
from docker_fixtures import REGISTRY_IMAGE

pytestmark = pytest.mark.docker


@pytest.fixture
def registry(dws):
    import urllib.request

    try:
        urllib.request.urlopen("http://127.0.0.1:5000/v2/", timeout=5).close()
    except OSError as exc:
        pytest.skip(f"no registry answers on 127.0.0.1:5000 ({exc}); start it with "
                    "`bash scripts/docker-up.sh`")
    return dws


def spec(dws, extra: str = "") -> None:
    dws.spec(f"""
        apiVersion: taskform/v1
        kind: Pipeline
        metadata: {{name: pl}}
        spec:
          steps:
            base:
              docker_pull: {{image_tag: "{REGISTRY_IMAGE}"{extra}}}
        """)


def remove_local(dws) -> None:
    try:
        dws.client.images.remove(REGISTRY_IMAGE)
    except Exception:  # noqa: BLE001 - not there is fine
        pass


def test_pull_for_real_then_no_op_and_repull_when_deleted(registry):
    dws = registry
    remove_local(dws)
    spec(dws)
    result = dws.apply("-v")
    assert f"pulling {REGISTRY_IMAGE}" in result.output
    out = dws.outputs("pipeline.pl.base")
    image = dws.client.images.get(REGISTRY_IMAGE)
    assert out["image_id"] == image.id
    assert out["repo_digest"].startswith("127.0.0.1:5000/taskform/base@sha256:")
    pulled = dt.datetime.fromisoformat(out["pulled_at"].replace("Z", "+00:00"))
    due = dt.datetime.fromisoformat(out["next_pull_after"].replace("Z", "+00:00"))
    assert due - pulled == dt.timedelta(hours=6)
    assert dws.plan_lines() == ["No changes. 1 resource matches the specs."]

    remove_local(dws)
    assert dws.plan_lines()[:2] == [
        "  ~ pipeline.pl.base  (docker_pull, update)",
        f"      # tag {REGISTRY_IMAGE} was removed outside taskform",
    ]
    dws.apply()
    assert dws.client.images.get(REGISTRY_IMAGE).id == image.id


def test_an_expected_id_that_differs_is_a_failure(registry):
    dws = registry
    spec(dws, ', image_id: "sha256:' + "0" * 64 + '"')
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    image = dws.client.images.get(REGISTRY_IMAGE)
    assert (f"pipeline.pl.base: pulled {REGISTRY_IMAGE} has id {image.id}, expected sha256:"
            + "0" * 64) in result.output


def test_an_expected_id_that_matches_passes(registry):
    dws = registry
    dws.client.images.pull(REGISTRY_IMAGE)
    expected = dws.client.images.get(REGISTRY_IMAGE).id
    spec(dws, f', image_id: "{expected}"')
    dws.apply()
    assert dws.outputs("pipeline.pl.base")["image_id"] == expected


def test_prevent_run_before_holds_the_pull(registry):
    dws = registry
    remove_local(dws)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    spec(dws, f', prevent_run_before: "{later}"')
    result = dws.cli("apply", "-auto-approve")
    assert result.exit_code == 1
    assert (f"{REGISTRY_IMAGE} is not present, and prevent_run_before ({later}) forbids pulling "
            "it before then") in result.output
    dws.client.images.pull(REGISTRY_IMAGE)
    result = dws.apply("-v")
    assert f"not pulled: prevent_run_before is {later}; using the local image" in result.output
    assert dws.outputs("pipeline.pl.base")["pulled_at"] is None


def test_the_pull_interval_makes_a_repull_due(registry):
    dws = registry
    spec(dws, ', pull_interval: "1s"')
    dws.apply()
    pulled = dws.outputs("pipeline.pl.base")["pulled_at"]
    import time

    time.sleep(1.1)
    assert dws.plan_lines()[:2] == [
        "  ~ pipeline.pl.base  (docker_pull, update)",
        f"      # pull_interval passed: last pulled at {pulled}",
    ]


def test_destroy_leaves_a_pulled_image_unless_asked(registry):
    dws = registry
    spec(dws)
    dws.apply()
    assert dws.cli("destroy", "-auto-approve").exit_code == 0
    dws.client.images.get(REGISTRY_IMAGE)  # still there
    spec(dws, ", remove_on_destroy: true")
    dws.apply()
    assert dws.cli("destroy", "-auto-approve").exit_code == 0
    with pytest.raises(Exception, match="No such image"):
        dws.client.images.get(REGISTRY_IMAGE)
