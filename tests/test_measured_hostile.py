"""Held cases from a hostile pass over measured data, error bars and animations."""

import numpy as np
import pytest

import xsq
from xsq.errors import InputError
from xsq.files import check_out_folder
from xsq.training import bayes
from xsq.training.train import fit


def test_noise_free_targets_train_with_bayes():
    """Targets with no noise (a line, a constant) send beta to its bound; the evidence step must not fail."""
    X = np.linspace(0.0, 1.0, 60)[:, None]
    for Y in (np.full_like(X, 3.0),):
        model = fit(X, Y, regularization="bayes", epochs=300, restarts=0, seed=0)
        mean, std = model.predict(X[:5], return_std=True)
        assert np.all(np.isfinite(mean)) and np.all(np.isfinite(std)) and np.all(std >= 0)


def test_inverse_of_a_matrix_positive_definite_only_in_exact_arithmetic():
    J = np.arange(1.0, 6.0)[None, :]  # one row: beta J^T J + 1e-10 I is rank one plus rounding
    d = np.full(5, 1e-10)
    assert bayes.inverse_and_logdet(1e24 * J.T @ J + np.diag(d)) is None
    C, logdet, shares = bayes.by_singular_values(J, d, 1e24)
    along = J.T @ J / (J @ J.T)  # the one direction the row determines: its variance is 1 / (1e-10 (1 + s^2))
    assert np.allclose(C, 1e10 * (np.eye(5) - along), rtol=0, atol=1e-5) and np.all(np.diag(C) > 0)
    assert np.isclose(shares.sum(), 1.0) and np.isclose(logdet, 5 * np.log(1e-10) + np.log1p(1e34 * 55))
    B = np.array([[2.0, 0.5], [0.0, 1.5]])  # an ordinary one: both ways give the exact answer
    A = B.T @ B + np.diag([0.5, 2.0])
    C, logdet = bayes.inverse_and_logdet(A)
    assert np.allclose(C, np.linalg.inv(A)) and np.isclose(logdet, np.log(np.linalg.det(A)))
    C2, logdet2, _ = bayes.by_singular_values(B, np.array([0.5, 2.0]), 1.0)
    assert np.allclose(C2, C) and np.isclose(logdet2, logdet)


@pytest.mark.parametrize("n", [9, 10, 40])  # square (9 = P): B itself; more rows than parameters: B's R factor
def test_the_singular_value_path_with_more_rows_than_parameters_is_the_inverse(n):
    rng = np.random.default_rng(n)
    J, d, beta = rng.normal(size=(n, 9)), 10.0 ** rng.uniform(-2, 1, 9), 3.0
    A = beta * J.T @ J + np.diag(d)
    C, logdet, shares = bayes.by_singular_values(J, d, beta)
    np.testing.assert_allclose(C, np.linalg.inv(A), rtol=1e-10, atol=1e-12)
    assert np.isclose(logdet, np.linalg.slogdet(A)[1], rtol=1e-12)
    np.testing.assert_allclose(shares, np.diag(beta * J.T @ J @ np.linalg.inv(A)), rtol=1e-9)
    J[3, 2] = np.inf  # not finite: NaN out, as the plain SVD gives, not an exception from the QR's factor
    assert np.isnan(bayes.by_singular_values(J, d, beta)[1])


def test_the_whitened_factor_serves_where_the_alphas_span_decades_and_agrees_with_the_svd():
    """ARD's alphas from 1e-2 to 1e8: A's own Cholesky factor spans more than CONDITION, I + B^T B's does not."""
    rng = np.random.default_rng(5)
    J, beta = rng.normal(size=(60, 8)), 4.0
    J[:, 0] *= 1e-3  # a parameter the data barely move, under a weak prior: A's smallest direction
    d = np.array([1e-4, 1e-2, 1e8, 1e8, 0.5, 3.0, 1e-2, 1e6])
    assert bayes.inverse_and_logdet(beta * J.T @ J + np.diag(d)) is None
    C, logdet, shares = bayes.by_cholesky(J, d, beta)
    A = beta * J.T @ J + np.diag(d)  # cond(A) ~ 1e12: numpy's inverse is good to about 1e-4 of its entries
    np.testing.assert_allclose(C, np.linalg.inv(A), rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(shares, np.diag(beta * J.T @ J @ np.linalg.inv(A)), rtol=1e-4, atol=1e-12)
    C2, logdet2, shares2 = bayes.by_singular_values(J, d, beta)  # and the SVD, far closer
    np.testing.assert_allclose(C, C2, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(shares, shares2, rtol=1e-9, atol=1e-15)
    assert np.isclose(logdet, np.linalg.slogdet(A)[1], rtol=1e-12) and np.isclose(logdet, logdet2, rtol=1e-13)
    assert np.all(shares[[2, 3]] < 1e-5)  # pruned: next to no share
    assert bayes.by_cholesky(J, d, 1e30) is None  # beta J^T J / alpha at float64's limit: the SVD's case
    assert bayes.by_cholesky(J[:3], np.ones(8), 1e8) is None  # trace 2e9, but gamma within 1e-8 of the 3 rows
    assert bayes.by_cholesky(J, np.r_[d[0], 1e-10, d[2:]], beta) is None  # 60 rows to spare, but a trace of 2e12
    wide = rng.normal(size=(60, 8))  # every direction large alike: its factor's diagonal spans little, its trace 2e12
    assert bayes.by_cholesky(wide, np.full(8, 1e-9), beta) is None and bayes.by_cholesky(wide, np.ones(8), beta)
    ev = bayes.evidence_update(J, np.ones(8), 1.0, 60, d, beta, np.arange(8))  # one group per parameter
    assert np.array_equal(ev.covariance, C)  # the update takes the factor, not the slower SVD


def test_out_under_a_file_is_refused_before_anything_runs(tmp_path):
    (tmp_path / "afile").write_text("keep")
    with pytest.raises(InputError, match="is not a folder"):
        check_out_folder(str(tmp_path / "afile" / "x" / "y"), frozenset())
    assert (tmp_path / "afile").read_text() == "keep"
    target, held = check_out_folder(str(tmp_path / "new" / "x"), frozenset())  # missing parents are fine
    assert held == set()


def test_endless_stdin_is_refused_not_read_into_memory(monkeypatch, tmp_path, capsys):
    """Rows on stdin are read up to a bound: a stream that does not end is bad input, not an out-of-memory kill."""
    import io
    import sys

    from xsq.cli import main as cli
    from xsq.cli.commands import predict

    X = np.linspace(1.0, 2.0, 20)[:, None]
    path = str(tmp_path / "m.npz")
    fit(X, X**2, epochs=5, restarts=0, seed=0).save(path)
    monkeypatch.setattr(predict, "STDIN_MAX_CHARS", 1000, raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO("1.5\n" * 1000))
    assert cli.main(["predict", "--model", path]) == 2
    err = capsys.readouterr().err
    assert "stdin holds more than" in err and len(err.strip().splitlines()) == 1


@pytest.fixture(scope="module")
def bayes_model():
    x = np.linspace(-1.0, 1.0, 40)[:, None]
    y = np.sin(2 * x) + 0.05 * np.random.default_rng(0).normal(size=x.shape)
    return fit(x, y, regularization="bayes", hidden=3, epochs=60, restarts=0, seed=0)


@pytest.fixture(scope="module")
def estimator():
    from xsq.sklearn import XsqRegressor

    return XsqRegressor(hidden=3, epochs=30, restarts=0).fit(np.linspace(0, 1, 20)[:, None], np.linspace(0, 1, 20))


@pytest.mark.parametrize("flag", ["yes", 1, None, np.array([True])])
def test_return_std_must_be_true_or_false(bayes_model, estimator, flag):
    with pytest.raises(InputError, match="return_std must be True or False"):
        bayes_model.predict([0.1], return_std=flag)
    with pytest.raises(InputError, match="return_std must be True or False"):
        estimator.predict([[0.1]], return_std=flag)


def test_numpy_booleans_are_true_and_false(bayes_model, estimator):
    mean, std = bayes_model.predict([0.1], return_std=np.True_)
    assert np.array_equal(bayes_model.predict([0.1], return_std=np.False_), mean) and np.all(std > 0)
    assert len(estimator.predict([[0.1]], return_std=np.True_)) == 2


@pytest.mark.parametrize("epochs", [12, 60])
def test_a_small_budget_still_updates_the_precisions(epochs):
    """The epochs left after screening are shared: part re-estimates alpha and beta, the rest runs to the mode."""
    x = np.linspace(-1.0, 1.0, 40)[:, None]
    y = np.sin(2 * x) + 0.05 * np.random.default_rng(0).normal(size=x.shape)
    for restarts in (0, 1):
        model = fit(x, y, regularization="bayes", hidden=3, epochs=epochs, restarts=restarts, seed=0)
        assert model.record.n_epochs <= epochs
        assert np.isfinite(model.record.evidence.history_gamma).any()


@pytest.mark.parametrize(
    "field,value", [("n_params", 1_000_000), ("n_params", 9), ("noise_level", [0.1, 0.1]), ("alpha", [0.5] * 9)]
)
def test_an_evidence_record_of_another_network_is_refused(bayes_model, tmp_path, field, value):
    import json

    arrays = saved_arrays(bayes_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    meta["record"]["evidence"][field] = value
    arrays["meta"] = np.array(json.dumps(meta))
    if field == "alpha":  # its history keeps a column per prior group
        arrays["evidence_history_alpha"] = np.full((len(arrays["evidence_history_beta"]), len(value)), 0.5)
    refused(arrays, tmp_path, "evidence record is of .* for a network of 10, 1 and 4")


@pytest.mark.parametrize(
    "member,change,message",
    [
        (
            "evidence_history_beta",
            lambda v: np.where(np.arange(v.size).reshape(v.shape) == 1, np.nan, v),
            "precisions .alpha, beta.",
        ),
        ("evidence_history_alpha", lambda v: -v, "precisions .alpha, beta."),
        (
            "evidence_history_alpha",
            lambda v: np.where(np.arange(v.size).reshape(v.shape) == 2, np.inf, v),
            "alpha, beta",
        ),
        (
            "evidence_history_beta",
            lambda v: np.where(np.arange(v.size).reshape(v.shape) == 3, 0.0, v),
            "precisions .alpha, beta.",
        ),
        ("evidence_history_gamma", lambda v: v + 1e3, "gamma is not between 0"),
        ("evidence_history_gamma", lambda v: np.where(np.isnan(v), -1.0, v), "gamma is not between 0"),
    ],
)
def test_a_crafted_evidence_history_is_refused(bayes_model, tmp_path, member, change, message):
    arrays = saved_arrays(bayes_model, tmp_path)
    arrays[member] = change(arrays[member])
    refused(arrays, tmp_path, message)


def saved_arrays(model, tmp_path) -> dict:
    """The members of ``model``'s file, after checking that the untouched file loads."""
    from xsq import load_model

    model.save(tmp_path / "m.npz")
    assert load_model(tmp_path / "m.npz").record.evidence is not None
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def refused(arrays: dict, tmp_path, message: str) -> None:
    """A model file of these members is refused with an InputError matching ``message``."""
    from xsq import load_model

    np.savez(tmp_path / "crafted.npz", **arrays)
    with pytest.raises(InputError, match=message):
        load_model(tmp_path / "crafted.npz")


def test_a_regularised_fit_worse_than_a_constant_is_a_failure():
    """A Bayesian run may rightly end near the targets' mean, but one that kept a loss above the mean's did not
    learn: it is TrainingStalled (CLI: exit 1), not a success. One epoch leaves some seeds there."""
    from xsq.errors import TrainingStalled

    x = np.linspace(0.0, 6.0, 150)
    y = np.sin(x) + 0.1 * np.random.default_rng(0).normal(size=x.size)
    stalled = 0
    for seed in range(6):
        try:
            model = fit(x, y, regularization="bayes", epochs=1, restarts=0, output="identity", seed=seed)
        except TrainingStalled as exc:
            stalled += 1
            assert "output 1 kept a mean squared error" in str(exc) and "\n" not in str(exc)
            assert exc.model.posterior is not None and exc.model.record.evidence is not None  # it was bayes
        else:
            Ys = model.scaler.targets(y[:, None])
            mse = np.mean((model.scaler.targets(model.predict(x)) - Ys) ** 2)
            assert mse <= (1 + 2 / x.size) * np.var(Ys)
    assert stalled  # the case arises at all


def test_each_output_is_held_to_its_own_mean_and_a_prior_may_pull_a_tiny_fit():
    from xsq.errors import TrainingStalled

    rng = np.random.default_rng(0)
    x = np.linspace(0, 6, 80)
    Y = np.c_[np.sin(x), rng.normal(size=80)]  # the second output is noise: fitted worse than its mean
    with pytest.raises(TrainingStalled, match="output 2 kept a mean squared error"):
        fit(x, Y, regularization="bayes", epochs=1, restarts=0, seed=1, output="identity")
    noise = np.random.default_rng(105)  # five rows of noise: a prior pulls the constant 8 % off the mean's loss
    model = fit(noise.uniform(0, 1, (5, 1)), noise.normal(size=5), regularization="bayes", seed=5, epochs=40)
    assert model.record.evidence is not None


def test_a_refused_value_is_shown_on_one_line(bayes_model):
    with pytest.raises(InputError) as caught:
        bayes_model.predict([0.1], return_std=np.array([[True], [False]]))
    assert "\n" not in str(caught.value) and "got array([[ True], [False]])" in str(caught.value)


def test_any_refused_value_is_quoted_in_one_short_line():
    from xsq.validation import Flag, shown

    class Unprintable:
        def __repr__(self):
            raise RuntimeError("a repr that fails")

    assert shown(Unprintable()).startswith("<Unprintable instance at ")
    assert len(shown(list(range(10**5)))) <= 60 and shown("a\x1b[31m\x00") == repr("a\x1b[31m\x00")
    with pytest.raises(InputError, match="return_std must be True or False, got <Unprintable"):
        Flag().check(Unprintable(), "return_std")


def test_a_one_output_file_keeps_the_format_older_versions_read(bayes_model, tmp_path):
    import json

    arrays = saved_arrays(bayes_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    assert isinstance(meta["record"]["evidence"]["beta"], float)  # a number, not a list of one
    assert isinstance(meta["posterior"]["noise_variance"], float)
    assert arrays["evidence_history_beta"].ndim == 1


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda m: m["posterior"].update(noise_variance=[0.1, 0.2, 0.3]), "3 noise variances for 1 outputs"),
        (lambda m: m["posterior"].update(noise_variance=[]), "noise variance must be positive numbers"),
        (lambda m: m["posterior"].update(noise_variance=[True]), "noise variance"),
        (lambda m: m["posterior"].update(noise_variance=[[0.1], 0.2]), "noise variance"),
        (lambda m: m["record"]["evidence"].update(beta=[1.0, 2.0]), "differ in their outputs"),
        (lambda m: m["record"]["evidence"].update(beta=["1"]), "beta is not a list of positive numbers"),
        (lambda m: m["record"]["evidence"].update(beta=[0.0]), "beta is not a list of positive numbers"),
        (lambda m: m["record"]["evidence"].update(noise_level=[-1e-3]), "noise_level is not a list of non-negative"),
    ],
)
def test_crafted_noise_precisions_are_refused(bayes_model, tmp_path, change, message):
    import json

    arrays = saved_arrays(bayes_model, tmp_path)
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    refused(arrays, tmp_path, message)


def test_a_noise_level_that_underflows_still_saves_and_loads(tmp_path):
    """Targets of 1e-320 give a noise level of exactly 0 in their units: the file written must load."""
    x = np.arange(1.0, 11.0)
    model = xsq.fit(x, np.full(10, 3e-320), regularization="bayes", epochs=20)
    assert model.record.evidence.noise_level == (0.0,)
    model.save(tmp_path / "tiny.npz")
    assert xsq.load_model(tmp_path / "tiny.npz").record.evidence.noise_level == (0.0,)
