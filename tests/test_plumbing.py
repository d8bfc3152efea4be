"""The plumbing's promises: one atomic writer that replaces only what it may, run folders swapped whole,
xsq importable without fcntl, signals that end a command with one line and their own exit status, an
``xsq --help`` that imports no command, and sweep workers that neither outnumber the cells nor print
tracebacks on Ctrl-C. Everything hostile is made under tmp_path (a FIFO, a socket, a folder)."""

import os
import re
import signal
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import xsq
from xsq import files
from xsq.cli.main import main
from xsq.cli.runfolder import RunFolder

ROOT = Path(xsq.__file__).parent.parent
SWEEP = ["sweep", "--lr", "1e-3,1e-2", "--scaling", "raw", "--hidden", "1", "--batch", "all", "--optimizer", "sgd"]
SWEEP += ["--formulas", "stable", "--quiet"]


@pytest.fixture
def oddities(tmp_path):
    """A FIFO, a folder and a socket, each where a file might be written."""
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "inside.txt").write_text("the user's")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "socket"))
    yield {"fifo": "a FIFO", "folder": "a folder", "socket": "a socket"}
    sock.close()


def kinds(folder):
    return {n: files._kind(os.path.join(folder, n)) for n in os.listdir(folder)}


def test_nothing_but_a_file_is_written_over(tmp_path, oddities):
    before, written = kinds(tmp_path), []
    for name, kind in oddities.items():
        with pytest.raises(xsq.InputError, match=f"is {kind}, not a file; it was left as it was"):
            files.write_atomic(tmp_path / name, written.append)  # refused before anything is written
    assert (
        kinds(tmp_path) == before and written == [] and (tmp_path / "folder" / "inside.txt").read_text() == "the user's"
    )


def test_a_model_is_not_saved_over_a_fifo_and_takes_any_kind_of_path(tmp_path, oddities):
    x = np.linspace(0.0, 2.0, 20)[:, None]
    model = xsq.fit(x, x**2, epochs=30, restarts=0, hidden=4)
    with pytest.raises(xsq.InputError, match="is a FIFO"):
        model.save(tmp_path / "fifo")
    with pytest.raises(xsq.InputError, match="is a folder"):
        model.save(str(tmp_path / "folder"))
    assert files._kind(str(tmp_path / "fifo")) == "a FIFO"
    with pytest.raises(xsq.InputError, match="an empty path names no file"):
        model.save("")
    with pytest.raises(xsq.InputError, match="an empty path names no file"):
        xsq.load_model(b"")
    with pytest.raises(xsq.InputError, match="names a folder, not a file"):
        model.save(str(tmp_path / "new") + os.sep)
    path = os.fsencode(tmp_path / "m.npz")
    model.save(path)
    assert np.array_equal(xsq.load_model(path).predict(x), model.predict(x))
    assert sorted(os.listdir(tmp_path)) == ["fifo", "folder", "m.npz", "socket"]  # no temporary file left


def test_move_replaces_only_its_own_kind(tmp_path):
    (tmp_path / "a").write_text("new")
    (tmp_path / "b").write_text("old")
    files.move(str(tmp_path / "a"), str(tmp_path / "b"))
    assert (tmp_path / "b").read_text() == "new" and not (tmp_path / "a").exists()
    os.symlink("b", tmp_path / "link")
    os.symlink("elsewhere", tmp_path / "link2")
    files.move(str(tmp_path / "link2"), str(tmp_path / "link"))
    assert os.readlink(tmp_path / "link") == "elsewhere"
    (tmp_path / "d1").mkdir()
    (tmp_path / "d1" / "x").write_text("x")
    (tmp_path / "empty").mkdir()
    files.move(str(tmp_path / "d1"), str(tmp_path / "empty"))
    assert (tmp_path / "empty" / "x").read_text() == "x"
    with pytest.raises(xsq.InputError, match="is a file, not a folder"):
        files.move(str(tmp_path / "empty"), str(tmp_path / "b"))
    with pytest.raises(xsq.InputError, match="is a symbolic link, not a file"):
        files.move(str(tmp_path / "b"), str(tmp_path / "link"))
    assert os.readlink(tmp_path / "link") == "elsewhere" and (tmp_path / "b").read_text() == "new"


def test_a_run_folder_is_not_published_over_what_replaced_it(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(xsq.InputError, match="is a FIFO, not a folder"):
        with RunFolder(str(out)) as f:
            f.write("model.npz", b"new")
            os.mkfifo(out)  # made by someone else while the run trained
            f.publish()
    assert files._kind(str(out)) == "a FIFO" and sorted(os.listdir(tmp_path)) == ["run"]


def test_an_overwrite_that_fails_halfway_puts_the_old_run_back(tmp_path, monkeypatch):
    from xsq.cli import runfolder

    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_text("old")
    real, calls = files.move, []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(runfolder, "move", second_fails)
    with pytest.raises(OSError):
        with RunFolder(str(out), overwrite=True, replaceable=frozenset({"model.npz"})) as f:
            f.write("model.npz", b"new")
            f.publish()
    assert (out / "model.npz").read_text() == "old" and sorted(os.listdir(tmp_path)) == ["run"]


def test_only_the_atomic_writer_renames():
    found = []
    for path in [*ROOT.joinpath("xsq").rglob("*.py"), *ROOT.joinpath("scripts").rglob("*.py")]:
        text = path.read_text()
        if re.search(r"\bos\.(replace|rename)\b|renameat", text):
            found.append(path.relative_to(ROOT).as_posix())
    assert found == ["xsq/files.py"]


def run_python(code, **kw):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env, **kw)


def test_xsq_imports_where_there_is_no_fcntl():
    res = run_python("import sys; sys.modules['fcntl'] = None; import xsq; xsq.fit; xsq.load_model; print('ok')")
    assert res.returncode == 0 and res.stdout == "ok\n", res.stderr


def test_help_imports_no_command():
    res = run_python(
        "import contextlib, sys\nfrom xsq.cli.main import main\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(None):\n    main(['--help'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('xsq.cli.commands.') or m in ('joblib', 'tqdm')))"
    )
    assert res.returncode == 0 and res.stdout == "[]\n", res.stdout + res.stderr


SIGINT_ON_IMPORT = """
import importlib.abc, os, signal, sys
class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "joblib":  # imported by xsq sweep's own module, once the command line is parsed
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
from xsq.__main__ import main
sys.exit(main({argv!r}))
"""


def test_ctrl_c_as_a_command_is_imported_saves_nothing(tmp_path):
    res = run_python(SIGINT_ON_IMPORT.format(argv=[*SWEEP, "--out", str(tmp_path / "s")]))
    assert res.returncode == 130 and res.stderr == "xsq sweep: interrupted: nothing was saved\n", res.stderr
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_save_the_best_so_far_with_their_own_status(capsys, tmp_path, monkeypatch, signum):
    from xsq.training import lm_policy

    real, calls = lm_policy.lm_step, []

    def step(*args):
        calls.append(1)
        if len(calls) == 30:
            os.kill(os.getpid(), signum)
        return real(*args)

    monkeypatch.setattr(lm_policy, "lm_step", step)
    code = main(["train", "--quiet", "--restarts", "0", "--epochs", "100", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 128 + signum and err.count("\n") == 1 and "interrupted: saved the best model so far" in err, err
    assert xsq.load_model(tmp_path / "r" / "model.npz").record.interrupted


def test_a_second_signal_while_saving_leaves_the_earlier_run(capsys, tmp_path, monkeypatch):
    from xsq.cli import runfolder

    out = tmp_path / "run"
    out.mkdir()
    (out / "model.npz").write_text("the previous run")
    (out / "metrics.json").write_text("{}")
    write, calls = runfolder.write_atomic, []

    def signalled(*args):  # two signals while the run is written: the second acts at once
        calls.append(1)
        if len(calls) == 1:
            os.kill(os.getpid(), signal.SIGINT)
            os.kill(os.getpid(), signal.SIGTERM)
        write(*args)

    monkeypatch.setattr(runfolder, "write_atomic", signalled)
    code = main(["train", "--quiet", "--restarts", "0", "--epochs", "30", "--out", str(out), "--overwrite"])
    err = capsys.readouterr().err
    assert code == 143 and err == "xsq train: interrupted: nothing was saved\n", err
    assert (out / "model.npz").read_text() == "the previous run" and sorted(os.listdir(tmp_path)) == ["run"]


def test_a_second_signal_as_the_run_is_published_says_it_was_saved(capsys, tmp_path, monkeypatch):
    from xsq.cli import runfolder

    write, move, calls = runfolder.write_atomic, runfolder.move, []

    def signal_once(signum, real):
        def wrapped(*args):
            if signum not in calls:
                calls.append(signum)
                os.kill(os.getpid(), signum)
            real(*args)

        return wrapped

    monkeypatch.setattr(runfolder, "write_atomic", signal_once(signal.SIGINT, write))  # held for later
    monkeypatch.setattr(runfolder, "move", signal_once(signal.SIGTERM, move))  # waits for the publish to end
    out = tmp_path / "r"
    code = main(["train", "--quiet", "--restarts", "0", "--epochs", "30", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 143 and err == f"xsq train: interrupted: the run was saved to {out}\n", err
    assert not xsq.load_model(out / "model.npz").record.interrupted


def test_sweep_workers_are_capped_at_the_cells(capsys, tmp_path, monkeypatch):
    from xsq.cli.commands import sweep as command

    asked = []

    class Sequential:  # joblib's Parallel, run here, noting how many workers it was asked for
        def __init__(self, n_jobs=None, **kw):
            asked.append(n_jobs)

        def __call__(self, tasks):
            return (f(*a, **k) for f, a, k in tasks)

    monkeypatch.setattr(command, "Parallel", Sequential)
    monkeypatch.setattr(command.os, "cpu_count", lambda: 4)
    assert main([*SWEEP, "--steps", "5", "--jobs", "3", "--out", str(tmp_path / "a")]) == 0
    assert asked == [2] and capsys.readouterr().err == ""
    assert main([*SWEEP, "--steps", "5", "--jobs", "1000", "--out", str(tmp_path / "b")]) == 0
    assert asked == [2, 2]
    assert capsys.readouterr().err == "note: --jobs 1000 is more than the 4 CPUs; capped at the 2 cells to run\n"


@pytest.mark.parametrize(
    "note",
    [
        "2 tasks which were still being processed by the workers have been cancelled.",
        "1 tasks have been successfully executed  but not used. Additionally, 1 tasks which were still being "
        "processed by the workers have been cancelled.",
    ],
)
def test_joblibs_note_on_the_cells_a_stopped_sweep_cancels_is_not_shown(monkeypatch, recwarn, note):
    import xsq.cli.commands.sweep as command

    class Stopped:  # joblib's Parallel, whose results warn as they are closed early (joblib's two forms)
        def __init__(self, **kwargs):
            pass

        def __call__(self, tasks):
            def results():
                try:
                    yield {"row": 1}
                    yield {"row": 2}
                except GeneratorExit:
                    warnings.warn(note, UserWarning, stacklevel=1)
                    raise

            return results()

    monkeypatch.setattr(command, "Parallel", Stopped)
    cells = command._cells_in_parallel([], None, 2, None)
    assert next(cells) == {"row": 1}
    cells.close()  # Ctrl-C, or a cell that failed: the sweep stops here
    assert [str(w.message) for w in recwarn] == []


WORKER_START = """
import os
if os.environ.get("XSQ_TEST_PARENT", str(os.getpid())) != str(os.getpid()):  # a sweep's worker, starting up
    import signal, time
    while not os.path.exists(os.environ["XSQ_TEST_GO"]):  # until the parent has started every worker
        time.sleep(0.01)
    try:
        os.close(os.open(os.environ["XSQ_TEST_GO"] + ".sent", os.O_CREAT | os.O_EXCL))  # one worker only
        os.killpg(0, signal.SIGINT)  # a Ctrl-C at the terminal reaches xsq and every worker
    except FileExistsError:
        pass
    import decimal, json  # noqa (a worker that heeds it dies here, printing a traceback)
"""
CTRL_C_AS_WORKERS_START = """
import os, sys
os.environ["XSQ_TEST_PARENT"] = str(os.getpid())
import xsq.cli.commands.sweep as command
real = command.Parallel
class Parallel(real):
    def __call__(self, tasks):
        out = real.__call__(self, tasks)
        def results():
            try:
                open(os.environ["XSQ_TEST_GO"], "w").close()  # every worker started, and may send its Ctrl-C
                yield from out
            finally:  # a Ctrl-C in this frame, not joblib's, leaves joblib's generator for xsq's filter to close
                out.close()
        return results()
command.Parallel = Parallel
from xsq.__main__ import main
sys.exit(main({argv!r}))
"""


def test_ctrl_c_as_sweep_workers_start_ends_with_one_line(tmp_path):
    argv = [*SWEEP, "--steps", "100000", "--jobs", "2", "--out", str(tmp_path / "s")]
    (tmp_path / "sitecustomize.py").write_text(WORKER_START)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(tmp_path)]), XSQ_TEST_GO=str(tmp_path / "go"))
    proc = subprocess.Popen(
        [sys.executable, "-c", CTRL_C_AS_WORKERS_START.format(argv=argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # a process group of its own, as a terminal gives a command
    )
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # whatever is left of it
        except ProcessLookupError:
            pass
    assert proc.returncode == 130, err
    assert err.splitlines() == [
        f"xsq sweep: interrupted: kept the 0 finished cells in {tmp_path / 's'}; run the same command again to "
        "finish the rest"
    ], err
