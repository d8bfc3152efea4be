"""xsq sweep: outcomes with evidence, the question's configuration diverging or stalling, lambda_max,
results that do not depend on how cells run, resuming, and bad input refused before anything is written."""

import csv
import io
import json
import math
import os
import sys

import numpy as np
import pytest

from xsq.cli.main import main
from xsq.core.hessian import largest_eigenvalue, largest_stable_lr
from xsq.lab.outcomes import DIVERGED, LEARNED, STALLED, Evidence, classify, settled
from xsq.lab.sweep import Cell, lam_max, run_cell

SMALL = [
    "--scaling",
    "raw",
    "--hidden",
    "1",
    "--batch",
    "1",
    "--optimizer",
    "sgd",
    "--seeds",
    "0",
    "--formulas",
    "stable,question",
    "--steps",
    "700",
    "--quiet",
]


def sweep(capsys, tmp_path, *extra, out="sweep"):
    code = main(["sweep", "--lr", "1e-4,1e-2", *SMALL, "--out", str(tmp_path / out), *extra])
    return code, capsys.readouterr()


def rows(folder):
    with open(folder / "sweep.csv") as f:
        return [{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(f)]


def test_outcomes_are_defined_once():
    assert classify(Evidence(nonfinite_step=5, nonfinite_op="Z1"), 1e-2) == (DIVERGED, "non-finite at step 5, in Z1")
    assert classify(Evidence(blowup_step=3, blowup_factor=12.0), 1e-2)[0] == DIVERGED
    assert classify(Evidence(start_loss=1.0, best_loss=1.0, test_rmse_over_range=1e-5), 1e-2)[0] == STALLED
    assert classify(Evidence(start_loss=1.0, best_loss=0.5, test_rmse_over_range=0.5), 1e-2)[0] == STALLED
    assert classify(Evidence(start_loss=1.0, best_loss=0.5, test_rmse_over_range=1e-3), 1e-2)[0] == LEARNED
    assert settled(Evidence(start_loss=1.0, final_loss=0.5)) and not settled(Evidence(start_loss=1.0, final_loss=2.0))


def test_the_questions_configuration_diverges_as_written_and_stalls_when_stable():
    question = run_cell(Cell("question", "raw", 1, "1", "sgd", 0, 1e-4, 600), 1e-2)
    assert question["outcome"] == DIVERGED and question["question"]
    assert question["nonfinite_step"] == 587 and "softplus" in question["nonfinite_op"]
    stable = run_cell(Cell("stable", "raw", 1, "1", "sgd", 0, 1e-4, 600), 1e-2)
    assert stable["outcome"] == STALLED and stable["nonfinite_step"] is None
    blowup = run_cell(Cell("stable", "scaled", 16, "all", "sgd", 0, 5.0, 100), 1e-2)
    assert blowup["outcome"] == DIVERGED and blowup["blowup_factor"] >= 10
    learned = run_cell(Cell("stable", "scaled", 16, "all", "adam", 0, 0.1, 500), 1e-2)
    assert learned["outcome"] == LEARNED and learned["test_rmse_over_range"] <= 1e-2


def test_largest_eigenvalue_of_a_known_hessian():
    A = np.diag([3.0, -7.0, 0.5, 2.0])  # the largest magnitude is negative; the largest eigenvalue is 3
    eig = largest_eigenvalue(lambda t: 0.5 * t @ A @ t, np.ones(4))
    assert eig.converged and eig.value == pytest.approx(3.0, rel=1e-4)
    eig = largest_eigenvalue(lambda t: 0.5 * t @ np.diag([4.0, 1.0]) @ t, np.ones(2))
    assert eig.value == pytest.approx(4.0, rel=1e-5)
    assert math.isnan(largest_stable_lr(math.nan)) and largest_stable_lr(-1.0) == math.inf  # n/a; none


@pytest.mark.parametrize(
    "row", [("question", "raw", 1, "1", 0), ("stable", "raw", 1, "1", 0), ("stable", "scaled", 16, "all", 2)]
)
def test_lam_max_is_the_largest_eigenvalue_of_the_full_hessian(row):
    from autograd import hessian

    from xsq.core.losses import LOSSES
    from xsq.core.params import flatten
    from xsq.lab.sweep import FORMULAS, _data, _start, net, unflatten_unchecked

    activation, output = FORMULAS[row[0]]
    data, like = _data(row[1])[1], _start(row)
    H = hessian(
        lambda th: LOSSES["mse"].fn(net.forward(unflatten_unchecked(th, like), data.X, activation, output), data.Y)
    )
    eigenvalues = np.linalg.eigvalsh(H(flatten(like)))
    lam = lam_max(row)
    assert lam["lam_converged"] and lam["lam_products"] <= flatten(like).size
    assert abs(lam["lam_max"] - eigenvalues[-1]) <= 1e-9 * np.max(np.abs(eigenvalues))


@pytest.mark.plots
def test_a_sweep_writes_its_files_and_summary(capsys, tmp_path):
    code, out = sweep(capsys, tmp_path, "--jobs", "1")  # loky's workers: test_results_do_not_depend_on_jobs...
    folder = tmp_path / "sweep"
    assert code == 0 and {"sweep.csv", "sweep.json", "sweep.png", "grid.json"} <= set(os.listdir(folder))
    assert len(rows(folder)) == 4
    report = json.loads((folder / "sweep.json").read_text())
    assert {b["formulas"] for b in report["boundaries"]} == {"stable", "question"}
    assert "the question's configuration (question formulas" in out.out and "DIVERGED" in out.out
    assert "the question's configuration (stable formulas" in out.out and "STALLED" in out.out


def test_results_do_not_depend_on_jobs_and_a_rerun_resumes(capsys, tmp_path):
    assert sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100", out="one")[0] == 0
    assert sweep(capsys, tmp_path, "--jobs", "2", "--steps", "100", out="two")[0] == 0
    assert rows(tmp_path / "one") == rows(tmp_path / "two")
    lines = (tmp_path / "two" / "sweep.csv").read_text().splitlines()
    (tmp_path / "two" / "sweep.csv").write_text("\n".join(lines[:3]) + "\n" + lines[3][:20])  # 2 rows and a torn one
    (tmp_path / "two" / "sweep.json").unlink()
    code, out = sweep(capsys, tmp_path, "--jobs", "2", "--steps", "100", out="two")
    assert code == 0 and "resuming: 2 of 4 cells already done" in out.err
    assert rows(tmp_path / "one") == rows(tmp_path / "two")


def test_ctrl_c_keeps_the_finished_cells(capsys, tmp_path, monkeypatch):
    from xsq.cli.commands import sweep as command

    calls = []

    def interrupt_third(cell, learned_below):
        calls.append(cell)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return run_cell(cell, learned_below)

    monkeypatch.setattr(command, "run_cell", interrupt_third)
    code, out = sweep(capsys, tmp_path, "--jobs", "1")
    assert code == 130 and "kept the 2 finished cells" in out.err and len(rows(tmp_path / "sweep")) == 2


def test_a_cell_cut_short_by_ctrl_c_is_not_kept(capsys, tmp_path, monkeypatch):
    from xsq.lab import sweep as cells

    grid = ["sweep", "--lr", "1e-2", "--scaling", "scaled", "--hidden", "4", "--batch", "all", "--optimizer", "adam"]
    grid += ["--seeds", "0,1", "--formulas", "stable", "--steps", "200", "--jobs", "1", "--quiet"]
    watch, calls = cells._Watch.__call__, []

    def interrupt_the_second_cell(self, step, params):
        calls.append(step)
        if len(calls) == 300:  # well into the second cell, after it has improved on its start
            raise KeyboardInterrupt
        return watch(self, step, params)

    monkeypatch.setattr(cells._Watch, "__call__", interrupt_the_second_cell)
    assert main([*grid, "--out", str(tmp_path / "cut")]) == 130
    assert len(rows(tmp_path / "cut")) == 1
    monkeypatch.undo()
    assert main([*grid, "--out", str(tmp_path / "cut")]) == 0  # resumed: the second cell run whole
    assert main([*grid, "--out", str(tmp_path / "whole")]) == 0
    assert rows(tmp_path / "cut") == rows(tmp_path / "whole")


@pytest.mark.parametrize(
    "args,message",
    [
        (["--hidden", ""], "--hidden: must be a comma-separated list"),
        (
            ["--scaling", "cooked"],
            "--scaling: must be a comma-separated list of distinct values, each one of: raw, scaled",
        ),
        (["--lr", "0,1"], "--lr: must be"),
        (["--lr", "-1e-3"], "--lr: must be"),
        (["--formulas", "question,question"], "distinct values"),
        (["--lr", "1e-6:10:10000", "--seeds", "0,1,2,3,4,5,6,7,8,9,10,11"], "more than 100000; add --yes"),
        (["--backend", "dask"], "--backend dask needs --scheduler"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(capsys, tmp_path, args, message):
    code = main(["sweep", "--out", str(tmp_path / "s"), "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "s").exists()


UNREACHABLE = ["--backend", "dask", "--scheduler", "tcp://127.0.0.1:9", "--timeout", "0.5"]


def test_a_missing_dask_is_named_with_its_install_command(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    test_bad_input_is_refused_before_anything_is_written(capsys, tmp_path, UNREACHABLE, "pip install 'xsq[dask]'")


def test_damaged_journals_are_refused_or_repaired(capsys, tmp_path):
    folder = tmp_path / "sweep"
    assert sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")[0] == 0
    report = json.loads((folder / "sweep.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert all(c["predicted_lr"] is None or c["predicted_lr"] > 0 for c in report["cells"])  # inf is written as null
    lines = (folder / "sweep.csv").read_text().splitlines()
    (folder / "sweep.csv").write_text(lines[0] + "\n")  # interrupted before any cell: only a header
    for _ in range(2):  # twice, so a second header would show
        assert sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")[0] == 0
    assert (folder / "sweep.csv").read_text().count("formulas,") == 1
    (folder / "sweep.csv").write_text("\n".join([lines[0], "garbage", *lines[2:]]) + "\n")
    code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
    assert code == 2 and "is damaged at line 2; add --overwrite" in out.err
    (folder / "grid.json").write_text("{not json")
    code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
    assert code == 2 and "holds another sweep (or a damaged one)" in out.err
    assert sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100", "--overwrite")[0] == 0


def test_a_journal_is_read_as_untrusted(capsys, tmp_path):
    folder = tmp_path / "sweep"
    assert sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")[0] == 0
    good = rows(folder)

    def cells():
        report = json.loads((folder / "sweep.json").read_text())
        return [{k: v for k, v in c.items() if k != "seconds"} for c in report["cells"]]

    fresh = cells()
    lines = (folder / "sweep.csv").read_text().splitlines()
    journal = folder / "sweep.csv"
    journal.write_text("\n".join(lines[:2]) + "\n" + lines[2][:-3])  # torn inside its last number: left out
    code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
    assert code == 0 and "resuming: 1 of 4 cells already done" in out.err and rows(folder) == good
    assert cells() == fresh  # a cell read back from the journal is the cell as it was run
    crafted = {
        "binary": (b"\xff\xfe\x00garbage", "is not a readable sweep journal"),
        "twice": ("\n".join([lines[0], lines[1], lines[1]]) + "\n", "holds a cell listed twice at line 3"),
        "foreign": (lines[0] + "\n" + lines[1].replace(",0.0001,", ",0.5,", 1) + "\n", "a cell not in this grid"),
        "outcome": (lines[0] + "\n" + lines[1].replace(",stalled,", ",learned,", 1) + "\n", "not as it ran"),
        "reason": (lines[0] + "\n" + lines[1].replace(",test RMSE", ",\x1b[31mtest RMSE", 1) + "\n", "not as it ran"),
        "blank": (lines[0] + "\n" + lines[1].rsplit(",", 1)[0] + ",\n", "not as it ran"),
        "flag": (lines[0] + "\n" + lines[1].replace(",True,", ",False,", 1) + "\n", "not as it ran"),
    }
    header = lines[0].split(",")

    def edited(line: str, **change) -> str:  # one row with some cells changed, as a whole journal
        row = dict(zip(header, next(csv.reader([line]))))
        row.update({k: str(v) for k, v in change.items()})
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, header, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        return buffer.getvalue()

    escape = "\x1b[2J\x1b[31mPWNED"
    crafted.update(
        {
            "half a blow-up": (edited(lines[1], blowup_step=5, blowup_factor=""), "not as it ran"),
            "escape codes": (
                edited(lines[2], nonfinite_op=escape, reason=f"non-finite at step 6, in {escape}"),
                "not as it ran",
            ),
            "negative time": (edited(lines[1], seconds="-inf"), "not as it ran"),
            "step out of range": (
                edited(
                    lines[2], nonfinite_step=-5, reason="non-finite at step -5, in " + "A2 = question's softplus(Z2)"
                ),
                "not as it ran",
            ),
        }
    )
    for lam, predicted in [(1e-300, 2e300), ("nan", "inf"), (-1, "-1e300")]:  # stale, crafted: computed afresh
        journal.write_text(edited(lines[1], lam_max=lam, predicted_lr=predicted))
        code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
        assert code == 0 and "resuming: 1 of 4" in out.err and rows(folder) == good, out.err
    for name, (content, message) in crafted.items():
        journal.write_bytes(content if isinstance(content, bytes) else content.encode())
        code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
        assert code == 2 and out.err.count("\n") == 1 and message in out.err, (name, out.err)
    journal.unlink()
    os.mkfifo(journal)  # would block a reader forever
    code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
    assert code == 2 and "holds sweep.csv, which is not a file: it is not a sweep's folder" in out.err
    journal.unlink()
    (folder / "grid.json").unlink()
    (folder / "sweep.json").write_text("the user's own")  # a sweep's name, but no sweep's folder
    code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100", "--overwrite")
    assert code == 2 and "no grid.json: it is not a sweep's folder" in out.err
    assert (folder / "sweep.json").read_text() == "the user's own"


def test_seeds_beyond_float_precision_resume(capsys, tmp_path):
    seed = "12345678901234567891"  # not a float64: read back as a float, it would be another cell
    assert sweep(capsys, tmp_path, "--steps", "20", "--jobs", "1", "--seeds", seed)[0] == 0
    code, out = sweep(capsys, tmp_path, "--steps", "20", "--jobs", "1", "--seeds", seed)
    assert code == 0 and "resuming: 4 of 4 cells already done" in out.err
    assert {r["seed"] for r in rows(tmp_path / "sweep")} == {seed}


def test_a_sweep_writes_only_into_a_folder_of_its_own(capsys, tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("the user's")
    (mine / "sweep.csv").write_text("the user's too")
    code, out = sweep(capsys, tmp_path, "--overwrite", out="mine")
    assert code == 2 and "holds files this command does not write (notes.txt)" in out.err
    assert (mine / "sweep.csv").read_text() == "the user's too" and sorted(os.listdir(mine)) == [
        "notes.txt",
        "sweep.csv",
    ]
    monkeypatch.chdir(mine)
    code = main(["sweep", "--lr", "1e-4", *SMALL, "--out", "."])
    assert code == 2 and "is the current folder or holds it" in capsys.readouterr().err


def test_the_map_tells_the_outcomes_apart_at_a_glance():
    from xsq.cli.sweep_plot import colour

    dark, pale = colour(LEARNED, 1e-4, 5e-2), colour(LEARNED, 5e-2, 5e-2)
    stalled, diverged = colour(STALLED, 1e-4, 5e-2), colour(DIVERGED, math.nan, 5e-2)
    for learned in (dark, pale):
        assert learned[1] > learned[0] + 0.1 and learned[1] > learned[2] + 0.1  # green
    assert sum(dark[:3]) < sum(pale[:3]) - 0.3  # lower error: darker
    assert max(stalled[:3]) - min(stalled[:3]) < 0.05 and diverged[0] > diverged[1] + 0.1  # grey; red
    assert len({dark, pale, stalled, diverged}) == 4


@pytest.mark.parametrize("question", [True, False])
def test_the_maps_caption_names_the_red_frame_only_where_there_is_one(monkeypatch, question):
    from matplotlib.figure import Figure

    from xsq.cli.sweep_plot import heatmap

    captions = []
    monkeypatch.setattr(Figure, "suptitle", lambda self, text, **kw: captions.append(text))
    row = dict(optimizer="sgd", batch=1, formulas="naive", scaling="raw", hidden=1, seed=0, lr=0.1)
    rows = [dict(row, outcome=STALLED, test_rmse_over_range=0.5, question=question, predicted_lr=1.0)]
    assert heatmap(rows)[:8] == b"\x89PNG\r\n\x1a\n"
    assert ("red frame" in captions[0]) == question and "2 / lambda_max" in captions[0]


def test_the_default_grid_learns_where_it_should(capsys):
    from xsq.cli.main import build_parser

    args = build_parser().parse_args(["sweep"])
    assert (args.batch, args.optimizer, args.learned_below, args.steps) == (("1",), ("sgd", "adam"), 0.05, 1000)
    assert len(args.lr) == 11 and args.lr[0] == 1e-4 and args.lr[-1] == pytest.approx(10)
    # one cell from each region of the default map, with the default threshold
    learned = run_cell(Cell("stable", "scaled", 16, "1", "adam", 0, args.lr[4], 1000), args.learned_below)
    assert learned["outcome"] == LEARNED and 1e-2 < learned["test_rmse_over_range"] <= 5e-2  # stalled at 1e-2
    assert run_cell(Cell("question", "raw", 1, "1", "sgd", 0, 1e-4, 1000), 5e-2)["outcome"] == DIVERGED


def test_the_report_counts_every_outcome(capsys, tmp_path):
    code, out = sweep(capsys, tmp_path, "--jobs", "1", "--steps", "100")
    found = rows(tmp_path / "sweep")
    counts = ", ".join(f"{sum(r['outcome'] == o for r in found)} {o}" for o in (LEARNED, STALLED, DIVERGED))
    assert code == 0 and f"4 cells ({counts}) in" in out.out
