"""The spec cache does not grow without end: entries not read for a month go at the next write
(once a day), entries in use stay, and nothing taskform did not name is removed."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from spec_cache_kit import VALID, VALID_OUTPUT, entry

from runner.spec.cachestore import CacheStore, user_key
from runner.spec.cachesweep import DAY, KEEP_DAYS, marker_of, sweep, sweep_if_due

OLD = KEEP_DAYS * DAY + 3600  # older than the sweep keeps


def aged(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def entry_file(folder: Path, n: int, layer: str = "parse") -> Path:
    path = folder / f"{n:064x}.{layer}.json"
    path.write_text("{}")
    return path


def test_only_what_taskform_names_and_no_one_read_for_a_month_is_removed(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    stale = aged(entry_file(folder, 1), OLD)
    stale_other_layer = aged(entry_file(folder, 2, "workspace-desired"), OLD)
    recent = aged(entry_file(folder, 3), (KEEP_DAYS - 1) * DAY)
    left_temp = folder / ".x1y2z3.tmp"
    left_temp.write_text("")
    aged(left_temp, DAY + 60)
    fresh_temp = folder / ".a1b2c3.tmp"  # another process's write, under way
    fresh_temp.write_text("")
    foreign = [folder / name for name in
               ("notes.txt", f"{1:064x}.parse.json.bak", f"{1:063x}.parse.json", "ABC.json")]
    for path in foreign:
        path.write_text("someone's")
        aged(path, OLD)
    outside = tmp_path / "outside.json"
    outside.write_text("keep me")
    aged(outside, OLD)
    link = folder / f"{4:064x}.parse.json"
    link.symlink_to(outside)
    aged(link, OLD)
    assert sweep(folder, time.time()) == 4
    assert names(folder) == {recent.name, fresh_temp.name, *(p.name for p in foreign)}
    assert outside.read_text() == "keep me"  # the link went, not what it pointed to
    assert not stale.exists() and not stale_other_layer.exists() and not left_temp.exists()


def test_a_sweep_runs_once_a_day_and_not_through_a_planted_marker(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    now = time.time()
    aged(entry_file(folder, 1), OLD)
    assert sweep_if_due(folder, now) == 0  # a new marker starts the count
    assert sweep_if_due(folder, now + DAY - 60) == 0
    assert sweep_if_due(folder, now + DAY + 60) == 1
    aged(entry_file(folder, 2), OLD)
    assert sweep_if_due(folder, now + DAY + 120) == 0  # swept a minute ago
    marker_of(folder).unlink()
    target = tmp_path / "target"
    target.write_text("")
    aged(target, 10 * DAY)
    marker_of(folder).symlink_to(target)
    before = target.stat().st_mtime
    assert sweep_if_due(folder, now + 3 * DAY) == 0
    assert target.stat().st_mtime == before  # nothing was touched through the link
    marker_of(folder).unlink()
    os.mkfifo(marker_of(folder))
    assert sweep_if_due(folder, now + 3 * DAY) == 0  # and a FIFO does not hang it


def test_an_entry_read_is_kept_fresh_and_an_unread_one_goes(tmp_path, user_cache):
    key = user_key(user_cache / "taskform")
    assert key is not None
    folder = tmp_path / ".taskform" / "cache" / "specs"
    store = CacheStore(folder, key)
    assert store.write("a" * 64 + ".parse.json", {"x": 1}, 1000)
    assert store.write("b" * 64 + ".parse.json", {"x": 2}, 1000)
    used, unused = folder / ("a" * 64 + ".parse.json"), folder / ("b" * 64 + ".parse.json")
    aged(used, OLD), aged(unused, OLD)
    aged(marker_of(folder), 2 * DAY)
    assert store.read(used.name, 1000) == {"x": 1}
    assert used.stat().st_mtime > time.time() - 60
    later = CacheStore(folder, key)  # the next command, writing an entry
    assert later.write("c" * 64 + ".parse.json", {"x": 3}, 1000)
    assert names(folder) == {used.name, "c" * 64 + ".parse.json"}
    assert later.read(used.name, 1000) == {"x": 1}


def test_a_workspace_sheds_its_older_versions_and_an_older_taskforms_entries(ws, user_cache):
    spec = ws.spec(VALID)
    assert ws.cli("validate").exit_code == 0
    folder = ws.root / ".taskform" / "cache" / "specs"
    # two edits ago (a changed file reads the version before it, which then stays)
    gone = {entry(ws, "parse", spec).name, entry(ws, "loaded", spec).name}
    spec.write_text(spec.read_text().replace("input: 1", "input: 4"))
    assert ws.cli("validate").exit_code == 0
    older_taskform = {f"{n:064x}.{layer}.json" for n in (7, 8) for layer in ("parse", "loaded")}
    for name in older_taskform:  # names no code of today computes
        (folder / name).write_text("{}")
    for path in folder.iterdir():
        aged(path, OLD)
    aged(marker_of(folder), 2 * DAY)
    spec.write_text(spec.read_text().replace("input: 2", "input: 3"))
    result = ws.cli("validate")
    assert (result.exit_code, result.output) == \
        (0, VALID_OUTPUT)
    assert not (gone | older_taskform) & names(folder)
    assert entry(ws, "loaded", spec).name in names(folder)  # this version's, just written
    again = ws.cli("validate")
    assert (again.exit_code, again.output) == (0, VALID_OUTPUT)


def test_two_commands_sweeping_at_once_remove_each_entry_once(tmp_path):
    folder = tmp_path / "specs"
    folder.mkdir()
    for n in range(1500):
        aged(entry_file(folder, n), OLD)
    kept = entry_file(folder, 99999)  # written just now by one of them
    start, counts = threading.Barrier(2), []

    def one_command() -> None:
        start.wait()
        counts.append(sweep(folder, time.time()))

    workers = [threading.Thread(target=one_command) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sum(counts) == 1500  # a file the other removed first is skipped, not an error
    assert names(folder) == {kept.name}
