"""xsq sweep --backend dask against a real cluster: a scheduler and two worker processes on this machine.

The cells through the cluster are the cells through loky; a worker killed mid-sweep loses no finished cell
(its task runs again elsewhere); and a sweep stopped after that resumes to the same result."""

import csv
import os
import signal

import pytest

from xsq.cli.main import main
from xsq.lab.journal import Journal

GRID = ["--lr", "1e-3,1e-2,1e-1", "--scaling", "scaled", "--hidden", "4", "--batch", "all"]
GRID += ["--optimizer", "sgd,adam", "--seeds", "0", "--formulas", "stable", "--steps", "60", "--quiet"]
CELLS = 6


def rows(folder):
    with open(folder / "sweep.csv") as f:
        return sorted(({k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)), key=str)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Two single-threaded worker processes, each under a nanny that restarts it when it dies. They are forked
    from a server process that has imported distributed and xsq's sweep once, not spawned to import them anew.
    distributed is imported here: a test process that runs none of these tests does not pay for it. Its scratch
    space is a folder of the test's own, not dask's default under the system's temporary folder."""
    from dask import config as dask_config
    from distributed import LocalCluster
    from distributed.utils import get_mp_context

    scratch = str(tmp_path_factory.mktemp("dask"))
    with dask_config.set({"distributed.worker.multiprocessing-method": "forkserver", "temporary-directory": scratch}):
        get_mp_context().set_forkserver_preload(["distributed", "xsq.lab.sweep"])  # after distributed's own choice
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
            yield c


@pytest.fixture(scope="module")
def loky(tmp_path_factory):
    folder = tmp_path_factory.mktemp("loky") / "sweep"
    assert main(["sweep", *GRID, "--jobs", "1", "--out", str(folder)]) == 0
    return rows(folder)


def dask(cluster, folder):
    return main(["sweep", *GRID, "--backend", "dask", "--scheduler", cluster.scheduler_address, "--out", str(folder)])


def test_the_cluster_gives_the_cells_loky_gives(cluster, loky, tmp_path):
    assert dask(cluster, tmp_path / "s") == 0
    assert rows(tmp_path / "s") == loky and len(loky) == CELLS


def test_a_worker_killed_mid_sweep_loses_no_finished_cell_and_the_sweep_resumes(
    cluster, loky, tmp_path, capsys, monkeypatch, recwarn
):
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        pids = client.run(os.getpid)  # the worker processes, by address
    add, seen = Journal.add, []

    def kill_then_stop(journal, row):
        add(journal, row)
        seen.append(dict(row))
        if len(seen) == 2:  # two cells finished: kill a worker, with the others queued or running
            os.kill(next(iter(pids.values())), signal.SIGKILL)
        if len(seen) == 4:  # two more arrived after the kill: then the user stops the sweep
            raise KeyboardInterrupt

    monkeypatch.setattr(Journal, "add", kill_then_stop)
    folder = tmp_path / "s"
    assert dask(cluster, folder) == 130
    assert "kept the 4 finished cells" in capsys.readouterr().err
    assert not [str(w.message) for w in recwarn]  # joblib's note on the cells it cancelled is not the user's
    kept = rows(folder)
    assert len(kept) == 4 and all(row in loky for row in kept)  # each as loky ran it, none lost or doubled
    monkeypatch.undo()
    assert dask(cluster, folder) == 0
    assert f"resuming: 4 of {CELLS} cells already done" in capsys.readouterr().err
    assert rows(folder) == loky


UNREACHABLE = ["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", "--timeout", "0.5"]


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "tls://127.0.0.1:9"])  # tls: no certificates given
def test_an_unreachable_scheduler_is_refused_before_anything_is_written(capsys, tmp_path, address):
    args = [*UNREACHABLE[:3], address, *UNREACHABLE[4:]]
    code = main(["sweep", "--out", str(tmp_path / "s"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "cannot reach the Dask scheduler" in err, err
    assert not (tmp_path / "s").exists()
