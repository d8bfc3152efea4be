"""Bayesian regularisation: the evidence updates against closed forms, error bars against brute-force Laplace."""

import dataclasses
import re
import statistics

import autograd.numpy as anp
import numpy as np
import pytest
from autograd import hessian, jacobian

import xsq
import xsq.cli.commands
from xsq.core import net
from xsq.core.params import flatten, unflatten_unchecked
from xsq.errors import InputError
from xsq.training import bayes
from xsq.validation import names_problem


def linear_problem(seed=0, n=40, p=6, noise=0.3):
    rng = np.random.default_rng(seed)
    Phi = rng.normal(size=(n, p))
    y = Phi @ rng.normal(size=p) + noise * rng.normal(size=n)
    return Phi, y


def mackay_fixed_point(Phi, y, groups, steps=200):
    """Iterate the evidence updates on a linear model, whose mode is m = beta A^-1 Phi^T y for given precisions."""
    G = groups.max() + 1
    alpha, beta = np.ones(G), 1.0
    for _ in range(steps):
        A = beta * Phi.T @ Phi + np.diag(alpha[groups])
        m = beta * np.linalg.solve(A, Phi.T @ y)
        r = Phi @ m - y
        ev = bayes.evidence_update(Phi, m, float(r @ r), len(y), alpha, beta, groups)
        alpha, beta = ev.alpha, ev.beta
    return ev, m


def exact_log_evidence(Phi, y, alpha_p, beta):
    """log p(y | alpha, beta) of the linear model: y ~ N(0, Phi diag(1 / alpha) Phi^T + I / beta)."""
    cov = (Phi / alpha_p) @ Phi.T + np.eye(len(y)) / beta  # in data space, where xsq works in parameter space
    sign, logdet = np.linalg.slogdet(cov)
    assert sign > 0
    return -0.5 * (y @ np.linalg.solve(cov, y) + logdet + len(y) * np.log(2 * np.pi))


@pytest.mark.parametrize("groups", [np.zeros(6, int), np.array([0, 0, 0, 1, 1, 1])])
def test_the_fixed_point_maximises_the_closed_form_evidence_of_a_linear_model(groups):
    Phi, y = linear_problem()
    ev, m = mackay_fixed_point(Phi, y, groups)
    G = groups.max() + 1

    def log_ev(log_hyper):
        return exact_log_evidence(Phi, y, np.exp(log_hyper[:G])[groups], np.exp(log_hyper[G]))

    at = np.concatenate([np.log(ev.alpha), np.log(ev.beta)])
    for i in range(G + 1):  # a stationary point of the exact evidence (central differences), and a maximum
        e = np.eye(G + 1)[i]
        assert abs(log_ev(at + 1e-4 * e) - log_ev(at - 1e-4 * e)) / 2e-4 < 1e-5
        assert log_ev(at) > max(log_ev(at + 0.1 * e), log_ev(at - 0.1 * e))
    # at the fixed point, gamma = sum of beta lambda / (beta lambda + alpha) over the eigenvalues (one group)
    if G == 1:
        lam = np.linalg.eigvalsh(Phi.T @ Phi)
        assert ev.gamma.sum() == pytest.approx(np.sum(ev.beta * lam / (ev.beta * lam + ev.alpha[0])), rel=1e-6)
    # and the Laplace log evidence is exact for a linear model
    r = Phi @ m - y
    again = bayes.evidence_update(Phi, m, float(r @ r), len(y), ev.alpha, ev.beta, groups)
    assert again.log_evidence == pytest.approx(exact_log_evidence(Phi, y, ev.alpha[groups], ev.beta), rel=1e-9)


def test_the_groups_follow_flattens_order():
    g = bayes.layer_groups((3, 2, 1))  # W1 (3, 2): rows per input; b1; W2; b2
    assert g.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert bayes.layer_groups((3, 2, 1), ard=False).tolist() == [0] * 6 + [1, 1, 2, 2, 3]


@pytest.fixture(scope="module")
def tiny():
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, 30)
    y = np.sin(x) + 0.1 * rng.normal(size=30)
    model = xsq.fit(x, y, hidden=3, regularization="bayes", restarts=0, epochs=300)
    return model, x, y


def test_return_std_is_the_brute_force_laplace_variance():
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, 30)
    y = np.sin(x) + 0.01 * rng.normal(size=30)  # small residuals: the full Hessian is near Gauss-Newton's
    model = xsq.fit(x, y, hidden=3, regularization="bayes", restarts=0, epochs=300)
    ev = model.record.evidence
    groups = bayes.layer_groups(model.sizes)
    alpha_p, (beta,) = np.array(ev.alpha)[groups], ev.beta  # one output: one beta
    Xs, Ys = model.scaler.inputs(x[:, None]), model.scaler.targets(y[:, None])
    theta = flatten(model.params)

    def out(t, X):
        return anp.reshape(net.forward(unflatten_unchecked(t, model.params), X, model.activation, model.output), (-1,))

    def objective(t):  # beta E_D + sum alpha E_W
        return 0.5 * beta * anp.sum((out(t, Xs) - Ys[:, 0]) ** 2) + 0.5 * anp.sum(alpha_p * t**2)

    J = jacobian(out)(theta, Xs)
    gauss_newton = beta * J.T @ J + np.diag(alpha_p)
    x_new = np.linspace(-3, 3, 13)
    G = jacobian(out)(theta, model.scaler.inputs(x_new[:, None]))
    mean, std = model.predict(x_new, return_std=True)
    # exactly the Gauss-Newton Laplace variance everywhere; the full Hessian's (which adds beta sum r d2f) near
    # it where the data are, while beyond them its weakly determined directions differ
    inside = np.abs(x_new) <= 1.5
    for A, rtol, rows in ((gauss_newton, 1e-7, x_new == x_new), (hessian(objective)(theta), 0.02, inside)):
        var = 1.0 / beta + np.einsum("ij,jk,ik->i", G, np.linalg.inv(A), G)
        assert np.allclose(std[rows, 0], np.sqrt(var[rows]) * model.scaler.y_scale[0], rtol=rtol)
    assert np.array_equal(mean, model.predict(x_new))
    assert ev.noise_level[0] == pytest.approx(model.scaler.y_scale[0] / np.sqrt(beta))


def test_the_record_holds_gamma_and_the_precisions_per_epoch(tiny):
    model, _, _ = tiny
    ev, h = model.record.evidence, model.record.history
    assert 0 < ev.gamma < ev.n_params == 10 and 0.03 < ev.noise_level[0] < 0.3
    assert ev.history_alpha.shape == (len(h.epoch), len(ev.alpha)) and len(ev.history_beta) == len(
        ev.history_gamma
    ) == len(h.epoch)
    assert h.phase[-1] == "converged" and model.record.val_rows.size == 0  # every row trained on
    assert ev.history_beta[-1] == pytest.approx(ev.beta[0], rel=1e-2)  # trained at the evidence's fixed point


def test_a_model_without_a_noise_estimate_has_no_error_bars():
    x = np.linspace(1, 10, 50)
    model = xsq.fit(x, x**2, hidden=4, epochs=20, restarts=0)
    with pytest.raises(InputError, match="no error bars"):
        model.predict([1.0, 2.0], return_std=True)


def test_error_bars_survive_saving_and_a_tampered_covariance_is_refused(tiny, tmp_path):
    model, x, _ = tiny
    path = tmp_path / "m.npz"
    model.save(path)
    back = xsq.load_model(path)
    assert np.array_equal(back.predict(x, return_std=True)[1], model.predict(x, return_std=True)[1])
    a, b = back.record.evidence, model.record.evidence
    assert (a.gamma, a.noise_level, a.alpha, a.beta) == (b.gamma, b.noise_level, b.alpha, b.beta)
    assert np.array_equal(a.history_alpha, b.history_alpha) and np.array_equal(a.history_gamma, b.history_gamma, True)
    arrays = dict(np.load(path))
    C = arrays["posterior_covariance"]
    indefinite = C + 10 * np.abs(C).max() * (np.eye(10, k=1) + np.eye(10, k=-1))  # its diagonal still >= 0
    for bad in (C[:-1], C - 2 * np.eye(10), C + np.eye(10, k=1) * 1e-3, indefinite):
        np.savez(tmp_path / "bad.npz", **dict(arrays, posterior_covariance=bad))
        with pytest.raises(InputError, match="posterior covariance"):
            xsq.load_model(tmp_path / "bad.npz")


def test_bayes_needs_lm_mse_and_one_stage():
    for bad in (dict(loss="mae"), dict(stages=2), dict(optimizer="adam")):
        with pytest.raises(InputError, match="regularization"):
            xsq.fit([1.0, 2.0, 3.0], [1.0, 4.0, 9.0], regularization="bayes", **bad)


@pytest.fixture(scope="module")
def two_input_run(tmp_path_factory):
    """A --data run on a CSV of two inputs and one noisy output (bayes, the default with --data)."""
    from xsq.cli.main import main

    folder = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, size=(80, 2))
    y = X[:, 0] ** 2 + np.sin(2 * X[:, 1]) + 0.05 * rng.normal(size=80)
    np.savetxt(folder / "d.csv", np.column_stack([X, y]), delimiter=",", header="a,b,y", comments="")
    out = folder / "run"
    with pytest.MonkeyPatch.context() as mp:  # no plots: this fixture is set up before the autouse one that says so
        mp.setattr(xsq.cli.commands, "PLOTTING", False)
        code = main(
            ["train", "--data", str(folder / "d.csv"), "--hidden", "4", "--restarts", "0", "--quiet"]
            + ["--epochs", "200", "--out", str(out)]
        )
    assert code == 0
    return folder, out / "model.npz", X


def cli(capsys, *argv, stdin=None, monkeypatch=None):
    from xsq.cli.main import main

    if stdin is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_takes_rows_of_several_inputs_and_gives_error_bars(two_input_run, capsys, monkeypatch):
    import json

    folder, model_path, X = two_input_run
    model = xsq.load_model(model_path)
    mean, std = model.predict(X[:3], return_std=True)
    rows = [f"{a:.17g},{b:.17g}" for a, b in X[:3]]
    code, out, err = cli(capsys, "predict", "--model", str(model_path), "--std", *rows)
    lines = out.splitlines()
    assert code == 0 and lines[0] == "a,b,prediction,std" and len(lines) == 4, err  # the columns trained on
    got = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    assert np.array_equal(got[:, 2], mean[:, 0]) and np.array_equal(got[:, 3], std[:, 0])
    stdin = "\n".join(f"{a:.17g} {b:.17g}" for a, b in X[:3]) + "\n\n"  # spaces, and a blank line
    code, out2, _ = cli(capsys, "predict", "--model", str(model_path), "--std", stdin=stdin, monkeypatch=monkeypatch)
    assert code == 0 and out2 == out
    code, out3, _ = cli(capsys, "predict", "--model", str(model_path), "--json", "--data", str(folder / "d.csv"))
    got = json.loads(out3)
    assert code == 0 and np.array_equal(np.array(got["prediction"])[:3, 0], mean[:, 0])
    assert np.array(got["x"]).shape == (80, 2) and len(got["domain"]) == 2


def test_predict_refuses_rows_of_the_wrong_width_and_error_bars_a_model_has_not(two_input_run, capsys, tmp_path):
    _, model_path, _ = two_input_run
    code, out, err = cli(capsys, "predict", "--model", str(model_path), "1,2,3")
    assert code == 2 and out == "" and "3 numbers, but the model takes 2 inputs" in err and err.count("\n") == 1
    xsq.fit([1.0, 2.0, 3.0, 4.0], [1.0, 4.0, 9.0, 16.0], hidden=2, epochs=20, restarts=0, output="softplus").save(
        tmp_path / "m.npz"
    )
    code, out, err = cli(capsys, "predict", "--model", str(tmp_path / "m.npz"), "--std", "2")
    assert code == 2 and out == "" and "has no error bars" in err


def test_the_data_run_reports_the_evidence(two_input_run):
    import json

    folder, model_path, _ = two_input_run
    metrics = json.loads((model_path.parent / "metrics.json").read_text())
    assert metrics["regularization"] == "bayes" and 0 < metrics["gamma"] < metrics["n_params"]
    assert 0.02 < metrics["noise_level"][0] < 0.15 and 0 <= metrics["test_inside_95"] <= 1
    assert metrics["test_inside_95_per_output"] == [metrics["test_inside_95"]]
    assert metrics["log_evidence"] == xsq.load_model(model_path).record.evidence.log_evidence
    head = (model_path.parent / "history.csv").read_text().splitlines()[0]
    assert head.startswith("epoch,train_loss,val_loss,phase,beta,gamma,alpha_1")


def test_the_target_default_stays_unregularised():
    from xsq.training.settings import resolve

    s = resolve()
    assert (s.regularization, s.hidden, s.val_fraction, s.restarts) == ("none", (16,), 0.15, 4)


def test_a_fixed_l2_fit_shrinks_the_weights_and_has_error_bars():
    rng = np.random.default_rng(2)
    x = rng.uniform(-2, 2, 40)
    y = np.sin(x) + 0.1 * rng.normal(size=40)
    l2 = xsq.fit(x, y, hidden=4, regularization="l2", epochs=100)
    plain = xsq.fit(x, y, hidden=4, restarts=0, epochs=100, val_fraction=0)
    assert l2.record.evidence.regularization == "l2" and l2.predict(x, return_std=True)[1].shape == (40, 1)
    assert np.sum(flatten(l2.params) ** 2) < np.sum(flatten(plain.params) ** 2)


def test_the_memory_guard_counts_the_regularised_jacobian_of_wide_inputs(monkeypatch):
    from xsq import memory
    from xsq.training import resources

    n, sizes = 1000, (200, 16, 1)  # wide inputs: P = 200 * 16 + 16 + 16 + 1
    P = 3233
    extra = resources.training_bytes(n, sizes, "lm", None, "bayes") - resources.training_bytes(n, sizes, "lm")
    assert extra == 8 * (3 * n * P + 7 * P * P)  # the prior's rows beside J, an SVD's copies of J, and A, its inverse
    monkeypatch.setattr(memory, "available_bytes", lambda: resources.training_bytes(n, sizes, "lm") + extra // 2)
    resources.check_memory(n, sizes, "lm")  # fits without regularisation ...
    with pytest.raises(InputError, match="needs about"):
        resources.check_memory(n, sizes, "lm", None, "bayes")  # ... but not with it


def test_predict_reads_the_columns_the_model_was_trained_on_by_name(two_input_run, capsys, tmp_path):
    # a model trained on columns b (input) and a (output) once read the first column of a file, whatever its name
    import json

    folder, _, X = two_input_run
    train = tmp_path / "t.csv"
    np.savetxt(
        train, np.column_stack([X[:, 1], np.sin(2 * X[:, 0]), X[:, 0]]), delimiter=",", header="a,y,b", comments=""
    )
    run = tmp_path / "run"
    argv = ["train", "--data", str(train), "--inputs", "b", "--outputs", "y", "--hidden", "4", "--restarts", "0"]
    assert cli(capsys, *argv, "--epochs", "60", "--quiet", "--out", str(run))[0] == 0
    model = xsq.load_model(run / "model.npz")
    assert (model.record.inputs, model.record.outputs) == (("b",), ("y",))
    mixed = tmp_path / "m.csv"  # the input column last, among others
    np.savetxt(mixed, np.column_stack([X[:5, 1], X[:5, 0], X[:5, 0]]), delimiter=",", header="a,z,b", comments="")
    code, out, err = cli(capsys, "predict", "--model", str(run / "model.npz"), "--json", "--data", str(mixed))
    assert code == 0, err
    assert np.allclose(json.loads(out)["prediction"], model.predict(X[:5, :1]), rtol=1e-12, atol=0)
    for header, message in (("a,z", "has no column 'b'"), (None, "has no header")):
        bad = tmp_path / "bad.csv"
        np.savetxt(bad, X[:5], delimiter=",", header=header or "", comments="")
        code, _, err = cli(capsys, "predict", "--model", str(run / "model.npz"), "--data", str(bad))
        assert code == 2 and message in err and "trained on input columns b" in err and err.count("\n") == 1, err
    code, _, err = cli(capsys, "predict", "--model", str(run / "model.npz"), "--data", str(bad), "--inputs", "1")
    assert code == 0, err  # --inputs chooses


def test_column_names_are_kept_only_as_a_model_file_can_hold_them(two_input_run, capsys, tmp_path):
    # a 1001-character name was trained on and saved, and the model then never loaded
    folder, _, X = two_input_run
    rows = "\n".join(f"{a},{b},{a + b}" for a, b in X[:20]) + "\n"
    (tmp_path / "long.csv").write_text("a" * 1001 + ",b,y\n" + rows)
    code, _, err = cli(capsys, "train", "--data", str(tmp_path / "long.csv"), "--quiet", "--out", str(tmp_path / "r"))
    assert code == 2 and "a name must be 1 to 1000 printable characters" in err and not (tmp_path / "r").exists()
    # the names in a model file are untrusted: printable, distinct, one per input
    (tmp_path / "ok.csv").write_text("column 0,column 1,y\n" + rows)  # names that look like a headerless file's
    argv = ["train", "--data", str(tmp_path / "ok.csv"), "--hidden", "2", "--restarts", "0", "--epochs", "20"]
    assert cli(capsys, *argv, "--quiet", "--out", str(tmp_path / "ok"))[0] == 0
    (tmp_path / "plain.csv").write_text(rows)
    code, _, err = cli(
        capsys, "predict", "--model", str(tmp_path / "ok" / "model.npz"), "--data", str(tmp_path / "plain.csv")
    )
    assert code == 2 and "has no header" in err, err  # a headerless file is never read as named
    many = [f"{i:04d}" + "n" * 996 for i in range(101)]  # 1000 characters each: too many together for a model file
    assert names_problem(many) == "hold more than 100000 characters in all" and names_problem(many[:100]) is None
    model = xsq.load_model(tmp_path / "ok" / "model.npz")
    for names, message in ((("a\nTraceback", "b"), "a name must be 1 to 1000 printable"), (("a", "a"), "'a' twice")):
        with pytest.raises(InputError, match=message):
            dataclasses.replace(model.record, inputs=names)


@pytest.mark.parametrize("how", [["--data", "d.csv"], ["--regularization", "bayes", "--n", "80"]])
def test_the_command_line_counts_the_regularised_jacobian_before_anything_is_written(
    two_input_run, capsys, monkeypatch, tmp_path, how
):
    import xsq.cli.commands.train as command
    from xsq import memory
    from xsq.training import resources

    monkeypatch.setattr(command, "epoch_seconds", lambda *args: 3600.0)  # a long run: warned of, unless refused first
    folder, _, _ = two_input_run
    n, sizes = (64, (2, 4, 1)) if how[0] == "--data" else (80, (1, 4, 1))  # --data trains on 80 rows less 16 test rows
    bare, regularised = (resources.training_bytes(n, sizes, "lm", None, r) for r in ("none", "bayes"))
    monkeypatch.setattr(memory, "available_bytes", lambda: (bare + regularised) // 2 / memory.SHARE)
    args = [how[0], str(folder / how[1]), *how[2:]] if how[0] == "--data" else how
    code, _, err = cli(capsys, "train", *args, "--hidden", "4", "--quiet", "--out", str(tmp_path / "r"))
    assert code == 2 and "needs about" in err and err.count("\n") == 1, err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("chosen", [["--stages", "2"], ["--loss", "relative_mse"]])
def test_data_runs_pick_bayes_only_where_it_applies(two_input_run, capsys, chosen):
    # --data once forced bayes on every lm run, so --stages 2 was refused for a --regularization never given
    import json

    folder, _, X = two_input_run
    data = folder / "positive.csv"  # relative_mse needs targets above zero
    np.savetxt(data, np.column_stack([X, 3 + X[:, 0] ** 2 + X[:, 1]]), delimiter=",", header="a,b,y", comments="")
    out = folder / ("run-" + chosen[1])
    argv = ["train", "--data", str(data), "--hidden", "4", "--restarts", "0", "--epochs", "60"]
    code, _, err = cli(capsys, *argv, "--quiet", "--out", str(out), *chosen)
    assert code == 0, err
    assert json.loads((out / "metrics.json").read_text())["regularization"] == "none"


def test_train_help_says_when_bayes_is_the_default_and_what_it_changes(capsys):
    from xsq.cli.main import main

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: bayes for --data with lm, mse and 1 stage; none otherwise)" in text
    assert "(default: 4; 3 with bayes); for lm only" in text  # the restarts a --data run gets
    assert "(default: autograd); for sgd" in text and "patience (default: 1e-10)" in text  # one shared value once


def test_the_bayes_refusal_counts_its_stages():
    with pytest.raises(InputError, match="not loss 'mae' and 1 stage$"):
        xsq.fit([1.0, 2.0, 3.0], [1.0, 4.0, 9.0], regularization="bayes", loss="mae")


def test_a_constant_target_fitted_to_its_noise_free_limit_trains():
    """beta reaches its bound on a constant target, and beta J^T J swamps the damping: the step solve must not
    crash there (it raised numpy's LinAlgError)."""
    x = np.linspace(0, 1, 100)
    model = xsq.fit(x, np.full(100, -3.0), regularization="bayes")
    mean, std = model.predict(x[:3], return_std=True)
    assert np.allclose(mean, -3.0, rtol=0, atol=1e-9) and np.all(std < 1e-9)


def exact_gamma(Phi, alpha, beta, groups):
    """gamma_g = tr_g(beta J^T J A^-1) in rational arithmetic from the float64 inputs: the reference."""
    from fractions import Fraction

    n, P = Phi.shape
    F = [[Fraction(float(v)) for v in row] for row in Phi]
    b = Fraction(float(beta))
    B = [[b * sum(F[r][i] * F[r][j] for r in range(n)) for j in range(P)] for i in range(P)]
    M = [[B[i][j] + (Fraction(float(alpha[groups[i]])) if i == j else 0) for j in range(P)] + B[i] for i in range(P)]
    for c in range(P):  # Gauss-Jordan on [A | B]: the right half becomes A^-1 B, whose diagonal is B A^-1's
        p = next(r for r in range(c, P) if M[r][c] != 0)
        M[c], M[p] = M[p], M[c]
        M[c] = [v / M[c][c] for v in M[c]]
        for r in range(P):
            if r != c and M[r][c] != 0:
                M[r] = [a - M[r][c] * e for a, e in zip(M[r], M[c])]
    return np.bincount(groups, weights=[float(M[i][P + i]) for i in range(P)], minlength=len(alpha))


# 13 and 34: Cholesky of A succeeds, its gamma far off; 389, 898 and 1349: so does that of the whitened I + B^T B
@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4, 5, 13, 34, 389, 898, 1349])
def test_gamma_of_noise_free_targets_is_the_exact_one_and_never_above_the_residuals(seed):
    """Noise-free targets send beta to its bound: A = beta J^T J + diag(alpha) is then positive definite only
    in exact arithmetic, or barely, and gamma from its Cholesky factor or eigenvalues counted rounding as
    determined parameters, above the n residuals. Against rational arithmetic, per ARD group."""
    rng = np.random.default_rng(seed)
    n, sizes = int(rng.integers(1, 6)), (2, 2, 1)  # P = 9 parameters, 5 prior groups
    groups = bayes.layer_groups(sizes)
    Phi, theta = rng.normal(size=(n, len(groups))), rng.normal(size=len(groups))
    alpha, beta = 10.0 ** rng.uniform(-10, 0, groups.max() + 1), 10.0 ** rng.uniform(8, 24)
    ev = bayes.evidence_update(Phi, theta, 1e-30, n, alpha, beta, groups)
    assert ev.gamma.sum() <= n * (1 + 1e-12)  # to rounding
    np.testing.assert_allclose(ev.gamma, exact_gamma(Phi, alpha, beta, groups), rtol=1e-9, atol=1e-9)


def test_beta_keeps_its_value_when_gamma_spends_every_residual_to_rounding():
    # one row, beta J^T J / alpha ~ 1e31: gamma = 1 - 1e-31, which is 1 in float64; (N - gamma) / E_D is then
    # rounding over E_D (it sent beta to either bound), and the fixed point says nothing: beta stays
    for last in (3.0, 4.0):  # gamma sums to 1 and to 1 - 2e-16
        J, groups = np.array([[1.0, 2.0, last]]), np.zeros(3, dtype=int)
        ev = bayes.evidence_update(J, np.ones(3), 1e-30, 1, np.array([1e-10]), 1e20, groups)
        assert abs(ev.gamma.sum() - 1.0) < 1e-12 and ev.beta == 1e20


def test_five_rows_of_a_constant_target_are_fitted_with_a_noise_level_near_zero():
    """Five noise-free rows: a noise level of 3e6 (beta at its lower bound), or a fit of 0.69 of the constant
    accepted as a success, came from a gamma above the five rows."""
    x = np.linspace(0, 1, 5)
    model = xsq.fit(x, np.full(5, -3.0), regularization="bayes")
    mean, std = model.predict(x[:2], return_std=True)
    assert np.allclose(mean, -3.0, rtol=1e-12) and np.all(std < 1e-8)  # rounding, of 3
    assert model.record.evidence.gamma <= 5


@pytest.mark.parametrize("regularization", ["bayes", "none"])
def test_inputs_that_never_vary_are_refused(regularization):
    """With every input row the same there is nothing to learn: bayes fitted the mean and called it a success."""
    X = np.column_stack([np.ones(40), np.full(40, 2.0)])
    rows = 40 if regularization == "bayes" else 34  # every row trains, or all but a validation split
    with pytest.raises(xsq.InputError, match=f"all {rows} input rows to train on are the same"):
        xsq.fit(X, np.sin(np.arange(40.0)), regularization=regularization)
    if regularization == "none":  # the one row that differs held out for validation: the rest are the same
        with pytest.raises(xsq.InputError, match="all 34 input rows to train on are the same"):
            xsq.fit(X[:, 0] + (np.arange(40) == 39), np.arange(40.0), seed=4)
    X[:, 0] = np.linspace(1, 2, 40)  # one column varies: the other, constant, is no harm
    model = xsq.fit(X, X[:, 0] ** 2, regularization=regularization, epochs=150)
    assert np.sqrt(np.mean((model.predict(X)[:, 0] - X[:, 0] ** 2) ** 2)) < 1e-4  # of a range of 3


def test_the_predictive_variance_is_never_below_the_noise_variance():
    """A covariance positive semi-definite only to rounding can give g^T C g < 0; with a tiny noise variance
    (noise-free targets) the variance went negative, and its square root NaN."""
    C = np.array([[1.0, 1.0], [1.0, 1.0 - 1e-12]])  # eigenvalues 2 and -5e-13
    G = np.array([[1.0, -1.0], [1.0, 1.0]])
    var = bayes.predictive_variance(G, C, 1e-24)
    assert var[0] == 1e-24 and np.isclose(var[1], G[1] @ C @ G[1] + 1e-24)


def test_two_rows_of_a_constant_target_keep_a_noise_level_near_zero():
    """gamma reached the number of rows by rounding, so (N - gamma) / E_D went below 0 and beta to its lower
    bound: a noise level of 1e6 times the targets. With no residual left to measure the noise, beta stays."""
    x = np.linspace(0, 1, 2)
    model = xsq.fit(x, np.full(2, -3.0), regularization="bayes", hidden=(2,), seed=4, epochs=60)
    mean, std = model.predict(x, return_std=True)
    assert np.allclose(mean, -3.0, rtol=1e-12) and np.all(std < 1e-9)


def test_predict_reads_rows_on_stdin_after_a_byte_order_mark(two_input_run, capsys, monkeypatch):
    """A --data file may start with a byte-order mark (a spreadsheet's UTF-8 export); so may rows piped in."""
    _, model_path, _ = two_input_run
    code, out, err = cli(
        capsys, "predict", "--model", str(model_path), stdin="\ufeff0.5,0.5\n", monkeypatch=monkeypatch
    )
    _, plain, _ = cli(capsys, "predict", "--model", str(model_path), "0.5,0.5")
    assert code == 0 and err == "" and out == plain


@pytest.mark.parametrize("P", [1, 7, 48, 49, 97, 130])
def test_the_lower_inverse_is_the_inverse(P):
    rng = np.random.default_rng(P)
    B = rng.normal(size=(2 * P, P))
    L = np.linalg.cholesky(np.eye(P) + B.T @ B)  # what it inverts: the factor of I + B^T B
    inv = bayes.lower_inverse(L)
    reference = np.linalg.solve(L, np.eye(P))
    assert np.abs(inv - reference).max() < 1e-13 * np.abs(reference).max()
    pivoted = np.tril(rng.normal(size=(P, P)), -1) + np.diag(rng.uniform(0.5, 1.0, P))  # LU swaps rows of this
    for lower in (inv, bayes.lower_inverse(pivoted)):
        assert np.array_equal(lower, np.tril(lower))  # lower triangular, exactly


@pytest.mark.parametrize("hidden", [(4,), (3, 2)])  # one hidden layer takes xsq.core.fastpath, two the plain passes
def test_the_regularised_problem_gives_the_normal_equations_of_its_stacked_jacobian(hidden):
    from xsq.training import bayes_policy
    from xsq.training.lm_policy import least_squares

    rng = np.random.default_rng(3)
    X, Y = rng.uniform(-1, 1, (25, 2)), rng.normal(size=(25, 1))
    params = xsq.init_params((2, *hidden, 1), seed=rng)
    theta = flatten(params)
    groups = bayes.layer_groups((2, *hidden, 1))
    alpha = rng.uniform(0.1, 10.0, groups.max() + 1)
    hyper = bayes_policy.Hyper(alpha, 3.7, alpha[groups])
    data = least_squares(X, Y, "sigmoid", "identity", "mse", params)
    dj = bayes_policy.DataJacobian(data)
    problem = bayes_policy.regularised(data, hyper, dj)
    r, aux = problem.residuals(theta)
    J = problem.jacobian(theta, aux)
    reference = jacobian(
        lambda t: anp.concatenate(
            [
                anp.sqrt(3.7) * (net.forward(unflatten_unchecked(t, params), X, "sigmoid", "identity") - Y).ravel(),
                anp.sqrt(hyper.alpha_p) * t,
            ]
        )
    )(theta)
    assert np.allclose(J, reference, rtol=1e-10, atol=1e-12)
    for _ in range(2):  # the data's Gram matrix is kept, not scaled in place
        A, g = problem.normal(theta, aux, r)
        assert np.allclose(A, J.T @ J, rtol=1e-12, atol=1e-12) and np.allclose(g, J.T @ r, rtol=1e-12, atol=1e-12)
    Jd = dj(theta, aux[0])
    gram = dj.gram(theta, aux[0])
    plain = bayes.evidence_update(Jd, theta, float(aux[1] @ aux[1]), 25, alpha, 3.7, groups)
    given = bayes.evidence_update(Jd, theta, float(aux[1] @ aux[1]), 25, alpha, 3.7, groups, gram=gram[None])
    assert np.allclose(given.alpha, plain.alpha, rtol=1e-10) and np.allclose(given.beta, plain.beta, rtol=1e-12)
    assert given.log_evidence == pytest.approx(plain.log_evidence, rel=1e-12)
    assert np.allclose(given.covariance, plain.covariance, rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("K", [1, 2])
def test_the_log_evidence_of_outputs_sharing_parameters_is_the_exact_one_at_its_stationary_point(K):
    rng = np.random.default_rng(5)
    n, p = 30, 5
    J = rng.normal(size=(n * K, p))  # rows: the (n, K) outputs raveled
    y = J @ rng.normal(size=p) + np.tile([0.2, 0.7][:K], n) * rng.normal(size=n * K)
    groups = np.zeros(p, int)
    alpha, beta = np.ones(1), np.ones(K)
    for _ in range(300):
        beta_r = bayes.per_residual(beta, n * K)
        m = np.linalg.solve(J.T @ (beta_r[:, None] * J) + alpha[0] * np.eye(p), J.T @ (beta_r * y))
        r = (J @ m - y).reshape(n, K)
        ev = bayes.evidence_update(J, m, np.sum(r**2, axis=0), n * K, alpha, beta, groups)
        alpha, beta = ev.alpha, ev.beta

    def exact(log_hyper):  # y ~ N(0, J J^T / alpha + diag(1 / beta per residual))
        a, b = np.exp(log_hyper[0]), np.exp(log_hyper[1:])
        cov = J @ J.T / a + np.diag(1 / bayes.per_residual(b, n * K))
        return -0.5 * (y @ np.linalg.solve(cov, y) + np.linalg.slogdet(cov)[1] + n * K * np.log(2 * np.pi))

    at = np.log(np.r_[alpha, beta])
    assert ev.log_evidence == pytest.approx(exact(at), rel=1e-10)
    given = bayes.evidence_update(J, m, np.sum(r**2, axis=0), n * K, alpha, beta, groups, bayes.output_grams(J, K))
    assert np.allclose(given.beta, ev.beta, rtol=1e-12) and given.log_evidence == pytest.approx(ev.log_evidence)
    grams = [J[k::K].T @ J[k::K] for k in range(K)]  # output k's rows: k, k + K, ...
    assert np.allclose(bayes.output_grams(J, K), grams) and np.allclose(sum(grams), J.T @ J)
    for i in range(K + 1):  # the fixed point is the exact evidence's stationary point
        e = 1e-4 * np.eye(K + 1)[i]
        assert abs(exact(at + e) - exact(at - e)) / 2e-4 < 1e-5


def two_output_fixed_point(Phi1, y1, Phi2, y2, steps=200):
    """MacKay's iteration on two linear models stacked as one of two outputs, rows interleaved as a network's
    (N, 2) outputs ravel: output 0 depends on the first p1 parameters only, output 1 on the others."""
    n, p1, p2 = len(y1), Phi1.shape[1], Phi2.shape[1]
    J = np.zeros((2 * n, p1 + p2))
    J[0::2, :p1], J[1::2, p1:] = Phi1, Phi2
    y = np.column_stack([y1, y2]).ravel()
    groups = np.r_[np.zeros(p1, int), np.ones(p2, int)]
    alpha, beta = np.ones(2), np.ones(2)
    for _ in range(steps):
        beta_r = bayes.per_residual(beta, 2 * n)
        A = J.T @ (beta_r[:, None] * J) + np.diag(alpha[groups])
        m = np.linalg.solve(A, J.T @ (beta_r * y))
        r = (J @ m - y).reshape(n, 2)
        ev = bayes.evidence_update(J, m, np.sum(r**2, axis=0), 2 * n, alpha, beta, groups)
        alpha, beta = ev.alpha, ev.beta
    return ev


def test_each_output_gets_the_noise_precision_it_would_get_alone():
    Phi1, y1 = linear_problem(seed=1, noise=0.1)
    Phi2, y2 = linear_problem(seed=2, p=4, noise=0.8)
    joint = two_output_fixed_point(Phi1, y1, Phi2, y2)
    for k, (Phi, y) in enumerate([(Phi1, y1), (Phi2, y2)]):
        alone, _ = mackay_fixed_point(Phi, y, np.zeros(Phi.shape[1], int))
        assert joint.beta[k] == pytest.approx(alone.beta[0], rel=1e-8)
        assert joint.alpha[k] == pytest.approx(alone.alpha[0], rel=1e-8)
        assert joint.gamma[k] == pytest.approx(alone.gamma[0], rel=1e-8)
    assert 1 / np.sqrt(joint.beta) == pytest.approx([0.1, 0.8], rel=0.35)  # and near the noise each was given


@pytest.fixture(scope="module")
def two_outputs():
    """A fit of two outputs with noise levels 0.1 and 0.5, and fresh points from the same source."""
    from xsq.sklearn import XsqRegressor

    rng = np.random.default_rng(0)

    def draw(n):
        X = rng.uniform(-2, 2, (n, 3))
        Y = np.column_stack([np.sin(2 * X[:, 0]), np.cos(X[:, 2])])
        return X, Y + np.array([0.1, 0.5]) * rng.normal(size=(n, 2))

    X, Y = draw(400)
    return XsqRegressor().fit(X, Y), draw(4000)


def test_error_bars_of_two_outputs_follow_each_outputs_noise(two_outputs, tmp_path):
    est, (X, Y) = two_outputs
    assert est.noise_level_ == pytest.approx([0.1, 0.5], rel=0.1)
    mean, std = est.predict(X, return_std=True)
    inside = np.mean(np.abs(Y - mean) <= 1.959964 * std, axis=0)
    assert np.all((inside > 0.92) & (inside < 0.98)), inside
    est.model_.save(tmp_path / "two.npz")  # and a model file keeps both
    again = xsq.load_model(tmp_path / "two.npz")
    assert np.array_equal(again.posterior.noise_variance, est.model_.posterior.noise_variance)
    assert again.record.evidence.beta == est.model_.record.evidence.beta and len(again.record.evidence.beta) == 2
    assert np.array_equal(again.predict(X[:5], return_std=True)[1], std[:5])


def test_an_output_fitted_exactly_leaves_the_others_fit_and_noise_level_alone():
    from xsq.sklearn import XsqRegressor

    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (300, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2 + 0.1 * rng.normal(size=300)
    alone = XsqRegressor().fit(X, y)
    both = XsqRegressor().fit(X, np.column_stack([y, np.full(300, 3.0)]))  # a constant column, fitted exactly
    Xt = rng.uniform(-1, 1, (2000, 2))
    truth = np.sin(3 * Xt[:, 0]) + Xt[:, 1] ** 2
    error = [np.sqrt(np.mean((e.predict(Xt).reshape(2000, -1)[:, 0] - truth) ** 2)) for e in (alone, both)]
    assert error[1] < 1.5 * error[0]
    assert both.noise_level_[0] == pytest.approx(alone.noise_level_[0], rel=0.1) and both.noise_level_[1] < 1e-6


def test_several_outputs_are_reported_each_and_predicted_by_name(two_outputs, tmp_path, capsys):
    import json

    from xsq.cli.main import main

    est, (X, _) = two_outputs
    rng = np.random.default_rng(1)
    Y = np.column_stack([np.sin(2 * X[:300, 0]), np.cos(X[:300, 2])]) + 0.1 * rng.normal(size=(300, 2))
    np.savetxt(tmp_path / "two.csv", np.column_stack([X[:300], Y]), delimiter=",", header="a,b,c,u,v", comments="")
    assert main(["train", "--data", str(tmp_path / "two.csv"), "--outputs", "u,v", "--out", str(tmp_path / "run")]) == 0
    report = capsys.readouterr().out
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    each = metrics["test_inside_95_per_output"]
    assert len(each) == 2 and np.mean(each) == pytest.approx(metrics["test_inside_95"])  # 2 outputs, equal rows
    assert f"{100 * metrics['test_inside_95']:.1f} % (u {100 * each[0]:.1f} %, v {100 * each[1]:.1f} %)" in report
    rmse = metrics["test_rmse_per_output"]
    assert re.search(rf"\ntest RMSE, each output +u {rmse[0]:.3e}, v {rmse[1]:.3e}\n", report)
    assert np.sqrt(np.mean(np.square(rmse))) == pytest.approx(metrics["test_rmse"], rel=1e-12)  # pooled, equal rows
    noise = metrics["noise_level"]
    assert re.search(rf"\nnoise level \(std, from beta\) +u {noise[0]:.3e}, v {noise[1]:.3e}\n", report)
    assert main(["predict", "--model", str(tmp_path / "run" / "model.npz"), "--std", "0.1,0.2,0.3"]) == 0
    head, row = capsys.readouterr().out.splitlines()
    assert head == "a,b,c,prediction_u,prediction_v,std_u,std_v" and len(row.split(",")) == 7
    x = np.linspace(1.0, 2.0, 200)
    staged = xsq.fit(x, x**2, stages=2, epochs=300)
    assert staged.stages  # the second stage was kept
    staged.save(tmp_path / "staged.npz")
    assert main(["predict", "--model", str(tmp_path / "staged.npz"), "--std", "0.1"]) == 2
    assert "a staged model has none" in capsys.readouterr().err


def test_predict_falls_back_to_numbered_columns_where_trained_names_would_clash(tmp_path, capsys):
    from xsq.cli.commands.predict import header
    from xsq.cli.main import main

    assert header(("a",), ("u", "v"), 2, True, False) == ["a", "prediction_u", "prediction_v", "std_u", "std_v"]
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (80, 2))
    Y = np.column_stack([X[:, 0], X[:, 1] ** 2]) + 0.05 * rng.normal(size=(80, 2))
    np.savetxt(tmp_path / "d.csv", np.column_stack([X, Y]), delimiter=",", header="prediction_u,x,u,v", comments="")
    run = str(tmp_path / "run")
    assert main(["train", "--data", str(tmp_path / "d.csv"), "--outputs", "u,v", "--out", run, "--epochs", "60"]) == 0
    capsys.readouterr()
    assert main(["predict", "--model", run + "/model.npz", "--std", "0.5,0.5"]) == 0
    head = capsys.readouterr().out.splitlines()[0]
    assert head == "x1,x2,prediction1,prediction2,std_prediction1,std_prediction2"


def test_the_95_percent_band_is_the_normal_quantile():
    """mean +- Z95 std holds 95 % of a Gaussian predictive: the run's coverage, fit.png and the benchmark use it."""
    assert bayes.Z95 == pytest.approx(statistics.NormalDist().inv_cdf(0.975), rel=1e-15)
