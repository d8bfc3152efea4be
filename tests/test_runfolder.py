"""Run folders are published whole or not at all, never silently replace a run, and follow the umask."""

import os
import signal
import stat

import pytest

import xsq
from xsq.cli import runfolder
from xsq.cli.runfolder import RunFolder

RUN = frozenset({"model.npz", "metrics.json"})


def listing(path):
    return sorted(os.listdir(path))


def test_default_runs_get_their_own_folder_and_latest_follows(tmp_path, monkeypatch):
    monkeypatch.setattr(runfolder.time, "gmtime", lambda *a: runfolder.time.struct_time((2026, 1, 2, 3, 4, 5, 4, 2, 0)))
    root = tmp_path / "runs"
    paths = []
    for seed in (0, 0, 3):
        with RunFolder(seed=seed, root=str(root)) as f:
            f.write("a.txt", f"seed {seed}".encode())
            paths.append(f.publish())
    assert paths[0].endswith("20260102T030405Z-seed0") and paths[1] == paths[0] + "-2"
    assert paths[2].endswith("20260102T030405Z-seed3")
    assert os.readlink(root / "latest") == os.path.basename(paths[2])
    assert (root / "latest" / "a.txt").read_text() == "seed 3"
    assert [n for n in listing(root) if n.startswith(".") and "partial" in n] == []


@pytest.mark.parametrize("kind", ["folder", "file"])
def test_an_earlier_real_latest_is_kept(tmp_path, kind):
    root = tmp_path / "runs"
    root.mkdir()
    if kind == "folder":
        (root / "latest").mkdir()
        (root / "latest" / "model.npz").write_text("old")
    else:
        (root / "latest").write_text("notes of the user's")
    with RunFolder(root=str(root)) as f:
        f.write("a.txt", b"new")
        f.publish()
    moved = [root / n for n in listing(root) if n.endswith("-previous")]
    assert len(moved) == 1 and f.notes and os.path.islink(root / "latest")
    if kind == "folder":
        assert (moved[0] / "model.npz").read_text() == "old"
    else:
        assert moved[0].read_text() == "notes of the user's"


def test_an_existing_out_is_refused_unless_overwrite(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_text("good old model")
    (out / "metrics.json").write_text("{}")
    with pytest.raises(xsq.InputError, match="already holds an earlier run.*--overwrite"):
        RunFolder(str(out), replaceable=RUN, mark=RUN)
    with RunFolder(str(out), overwrite=True, replaceable=RUN, mark=RUN) as f:
        f.write("model.npz", b"new")
        f.write("metrics.json", b"{}")
        f.publish()
    assert listing(out) == ["metrics.json", "model.npz"] and (out / "model.npz").read_text() == "new"
    assert [n for n in listing(tmp_path) if "partial" in n or n.endswith(".old")] == []


def test_overwrite_renames_the_old_run_aside_and_removes_it(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with RunFolder(str(out), overwrite=True, replaceable=frozenset({"old.txt"})) as f:
        f.write("new.txt", b"new")
        f.publish()
    assert listing(out) == ["new.txt"] and [n for n in listing(tmp_path) if "partial" in n] == []


def test_not_a_folder_and_not_writable(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(xsq.InputError, match="exists and is not a folder"):
        RunFolder(str(tmp_path / "file"))
    with pytest.raises(xsq.InputError, match="cannot write to output folder"):
        with RunFolder("/proc/xsq-cannot-write-here/run"):  # not writable even by root
            pass


def test_one_writer_at_a_time(tmp_path):
    out = str(tmp_path / "run")
    with RunFolder(out) as first:
        with pytest.raises(xsq.InputError, match="another xsq run is writing to"):
            with RunFolder(out):
                pass
        first.write("a.txt", b"1")
        first.publish()
    with RunFolder(out, overwrite=True, replaceable=frozenset({"a.txt"})) as again:  # the lock went with the first
        again.publish()
    assert sorted(os.listdir(tmp_path)) == ["run"]  # no lock file left behind


def test_an_interrupted_write_leaves_the_old_folder_untouched(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with RunFolder(str(out), overwrite=True, replaceable=RUN) as f:
            f.write("model.npz", b"new")
            raise KeyboardInterrupt
    assert listing(out) == ["model.npz"] and (out / "model.npz").read_text() == "old"
    assert [n for n in listing(tmp_path) if "partial" in n] == []


def test_ctrl_c_during_publish_waits_for_it(tmp_path, monkeypatch):
    move = runfolder.move

    def move_and_interrupt(a, b):
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the publish holds SIGINT back
        move(a, b)

    f = RunFolder(str(tmp_path / "run")).__enter__()
    f.write("a.txt", b"1")
    monkeypatch.setattr(runfolder, "move", move_and_interrupt)
    with pytest.raises(KeyboardInterrupt):
        f.publish()
    f.close()
    assert f.published and listing(tmp_path / "run") == ["a.txt"]


def test_modes_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        with RunFolder(str(tmp_path / "run")) as f:
            f.write("a.txt", b"1")
            path = f.publish()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(os.path.join(path, "a.txt")).st_mode) == 0o644


def test_overwrite_replaces_only_a_run_and_never_the_current_folder(tmp_path, monkeypatch):
    out = tmp_path / "keep"
    out.mkdir()
    (out / "thesis.tex").write_text("months of work")
    with pytest.raises(xsq.InputError, match=r"holds files this command does not write \(thesis.tex\)"):
        RunFolder(str(out), overwrite=True, replaceable=RUN)
    (out / "thesis.tex").unlink()
    (out / "model.npz").write_text("a file of the user's that only shares a name")
    with pytest.raises(xsq.InputError, match=r"holds some files but not an earlier run \(no metrics.json\)"):
        RunFolder(str(out), overwrite=True, replaceable=RUN, mark=RUN)
    (out / "model.npz").unlink()
    (out / "thesis.tex").write_text("months of work")
    monkeypatch.chdir(out)
    for path in (".", "", str(tmp_path)):
        with pytest.raises(xsq.InputError, match="is the current folder or holds it"):
            RunFolder(path, overwrite=True, replaceable=RUN)
    assert (out / "thesis.tex").read_text() == "months of work"


def test_a_run_that_is_not_published_leaves_no_folders_it_made(tmp_path):
    with pytest.raises(RuntimeError):
        with RunFolder(str(tmp_path / "deep" / "nested" / "out")):
            raise RuntimeError("the run failed")
    with pytest.raises(RuntimeError):
        with RunFolder(root=str(tmp_path / "runs")):
            raise RuntimeError("the run failed")
    assert os.listdir(tmp_path) == []


def test_only_regular_run_files_make_an_earlier_run_and_leftovers_are_nothing(tmp_path):
    out = tmp_path / "trick"
    (out / "model.npz").mkdir(parents=True)
    (out / "model.npz" / "important.txt").write_text("the user's")
    (out / "metrics.json").write_text("{}")
    with pytest.raises(xsq.InputError, match=r"holds some files but not an earlier run \(model.npz is not a file\)"):
        RunFolder(str(out), overwrite=True, replaceable=RUN, mark=RUN)
    assert (out / "model.npz" / "important.txt").read_text() == "the user's"
    left = tmp_path / "left"
    left.mkdir()
    (left / ".xsq-abc123.tmp").write_text("a crashed writer's")
    with RunFolder(str(left), replaceable=RUN, mark=RUN) as f:
        f.write("model.npz", b"new")
        f.publish()
    assert listing(left) == ["model.npz"]


def test_an_earlier_latest_never_replaces_what_was_moved_aside_before(tmp_path):
    root = tmp_path / "runs"
    root.mkdir()
    for k in range(2):
        if (root / "latest").is_symlink():
            (root / "latest").unlink()
        (root / "latest").write_text(f"notes {k}")
        os.utime(root / "latest", (1577836800, 1577836800))  # both from 2020-01-01: the same stamp
        with RunFolder(root=str(root)) as f:
            f.write("a.txt", b"new")
            f.publish()
    moved = sorted(n for n in listing(root) if "-previous" in n)
    assert moved == ["20200101T000000Z-previous", "20200101T000000Z-previous-2"]
    assert {(root / n).read_text() for n in moved} == {"notes 0", "notes 1"}
