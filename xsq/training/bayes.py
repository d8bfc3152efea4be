"""Bayesian regularisation (MacKay 1992; Foresee and Hagan 1997): the evidence updates and the Laplace covariance.

The network's weights theta (P,) get a Gaussian prior of precision alpha_g for
each group g of parameters, and the N residuals r = f(X; theta) - Y a Gaussian
noise model of precision beta. The posterior mode minimises

    M(theta) = beta * E_D + sum_g alpha_g * E_W,g,   E_D = sum(r^2) / 2,   E_W,g = sum(theta_g^2) / 2,

and near it the posterior is Gaussian with precision (the Gauss-Newton Hessian of M)

    A = beta * J^T J + diag(alpha),   J = d f / d theta (N, P).

Maximising the evidence p(Y | alpha, beta) gives MacKay's fixed point:

    gamma_g = k_g - alpha_g * tr_g(A^-1)      (well-determined parameters of group g, k_g of them)
    alpha_g = gamma_g / (2 E_W,g)
    beta    = (N - gamma) / (2 E_D),          gamma = sum_g gamma_g

With one group this is the familiar ``gamma = P - alpha tr(A^-1)``. The same A
gives error bars (the Laplace approximation): the predictive variance of an
output at x is ``1 / beta + g^T A^-1 g``, with g = d f(x) / d theta (P,).

A network of K outputs has a noise precision beta_k for each: beta * E_D above is
sum_k beta_k E_D,k, A = sum_k beta_k J_k^T J_k + diag(alpha), and the evidence's
stationary point in beta_k is beta_k = (N_k - gamma_k) / (2 E_D,k) with
gamma_k = beta_k tr(A^-1 J_k^T J_k), the parameters output k's residuals determine
(the gamma_k add up to gamma). Outputs whose parameters are disjoint get exactly the
precisions they would get alone. (Training weighs every output by one beta, and
:meth:`xsq.training.bayes_policy.BayesRun.posterior` gives each its own at the end.)

In float64 two cases need care, both from noise-free targets, which send beta to its bound. A can be
positive definite only in exact arithmetic, or so badly conditioned that its Cholesky factor gives a wrong
A^-1 and a gamma above the number of residuals, which it cannot exactly reach (gamma < rank(J) <= N).
A^-1 comes from A = D^1/2 (I + B^T B) D^1/2 with the whitened Jacobian B = sqrt(beta) J D^-1/2 (D the
alphas): from the Cholesky factor of I + B^T B where its trace bounds its condition well enough, else from
the SVD of B. Where gamma reaches N to rounding the noise precision keeps its value.

Everything here is a pure function of arrays.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

ARD = True  # a prior group for the weights leaving each input (see layer_groups)
ALPHA_RANGE = (1e-10, 1e8)  # the precisions are kept inside these bounds (an empty group would send alpha to inf)
BETA_RANGE = (1e-12, 1e24)
CONDITION = 1e5  # a Cholesky factor of A whose diagonal spans more (A's condition ~1e10 or more) is not trusted
# trace(I + B^T B) above which its Cholesky factor is not trusted: its eigenvalues are all >= 1, so its condition is
# at most its trace, and gamma from the factor was measured off by about 1e-15 times the trace
WHITENED_TRACE = 1e10
SPENT = 1e-9  # gamma this close to the number of residuals (relative) has spent them all, to rounding
Z95 = 1.959963984540054  # the 97.5 % point of the standard normal: mean +- Z95 std holds 95 % of the predictive


class Evidence(NamedTuple):
    """One evidence update: the new precisions, the well-determined parameters, and the log evidence.

    ``alpha`` (G,) per group, ``beta`` (K,) per output, ``gamma`` (G,) per group, ``log_evidence`` at the
    precisions given (not the new ones), ``covariance`` A^-1 (P, P) at the precisions given.
    """

    alpha: np.ndarray
    beta: np.ndarray
    gamma: np.ndarray
    log_evidence: float
    covariance: np.ndarray


def layer_groups(sizes: tuple[int, ...], ard: bool = True) -> np.ndarray:
    """The prior group of each parameter, (P,) ints in :func:`xsq.flatten`'s order (W1, b1, W2, b2, ...).

    With ``ard``, the weights leaving each input are a group of their own (automatic relevance
    determination: an input the data do not need gets a large alpha and weights near 0); every
    other W and every b are one group each, layer by layer (MacKay's groups).
    """
    out, g = [], 0
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i == 0 and ard:
            out.append(np.repeat(np.arange(a), b))  # W1 is (n_in, n1) in C order: row i is input i
            g += a
        else:
            out.append(np.full(a * b, g))
            g += 1
        out.append(np.full(b, g))
        g += 1
    return np.concatenate(out)


def prior_groups(sizes: tuple[int, ...], regularization: str) -> np.ndarray:
    """The prior group of each parameter (P,) in a fit with ``regularization``: one group for all with "l2",
    else :func:`layer_groups` (with ``ARD``)."""
    groups = layer_groups(sizes, ard=ARD)
    return np.zeros_like(groups) if regularization == "l2" else groups


def whitened(J: np.ndarray, d: np.ndarray, beta: float | np.ndarray) -> np.ndarray:
    """B = sqrt(beta) J D^-1/2 (N, P) for J (N, P), d = diag(D) (P,) > 0 and beta a float or one per residual
    (N,): A = D^1/2 (I + B^T B) D^1/2."""
    return np.sqrt(np.asarray(beta, dtype=float)).reshape(-1, 1) * J / np.sqrt(d)


def weighted_gram(beta: np.ndarray, gram: np.ndarray) -> np.ndarray:
    """sum_k beta_k J_k^T J_k (P, P), a new array, from each output's precision (K,) and Gram matrix (K, P, P)."""
    return beta[0] * gram[0] if len(beta) == 1 else np.tensordot(beta, gram, 1)


def output_grams(J: np.ndarray, K: int) -> np.ndarray:
    """Each output's J_k^T J_k (K, P, P) from J (n, P), whose rows are the (n / K, K) outputs raveled."""
    return np.stack([J[k::K].T @ J[k::K] for k in range(K)])


def per_residual(beta: np.ndarray, n: int) -> np.ndarray:
    """Each of the n residuals' noise precision (n,), from one per output (K,): the residuals are the (n / K, K)
    array of outputs raveled, row by row."""
    return np.tile(beta, n // len(beta))


def inverse_and_logdet(A: np.ndarray) -> tuple[np.ndarray, float] | None:
    """A^-1 and log det A for a symmetric positive definite A (P, P), by Cholesky; None when A is not positive
    definite in float64 or too badly conditioned for its factor to give A^-1 (its diagonal spans more than
    ``CONDITION``, A's condition about its square: noise-free targets send beta to its bound, and beta J^T J
    swamps alpha)."""
    try:
        L = np.linalg.cholesky(A)
    except np.linalg.LinAlgError:
        return None
    if np.diag(L).max() > CONDITION * np.diag(L).min():
        return None
    L_inv = lower_inverse(L)
    return L_inv.T @ L_inv, 2.0 * float(np.sum(np.log(np.diag(L))))


def lower_inverse(L: np.ndarray, leaf: int = 48) -> np.ndarray:
    """The inverse of a lower-triangular L (P, P), by halves: [[A, 0], [C, D]]^-1 = [[A^-1, 0], [-D^-1 C A^-1,
    D^-1]], down to blocks of ``leaf`` rows or fewer, which ``np.linalg.solve(L, I)`` inverts. numpy has no
    triangular solve, and its LU of L costs about twice the halving from P ~ 100 on (97 parameters on
    friedman1, where it was most of the evidence update); a small L is one leaf, the plain solve."""
    P = len(L)
    if P <= leaf:
        return np.tril(np.linalg.solve(L, np.eye(P)))  # LU leaves rounding above the diagonal
    h = P // 2
    A_inv, D_inv = lower_inverse(L[:h, :h], leaf), lower_inverse(L[h:, h:], leaf)
    out = np.zeros_like(L)
    out[:h, :h], out[h:, h:] = A_inv, D_inv
    out[h:, :h] = -D_inv @ (L[h:, :h] @ A_inv)
    return out


def by_cholesky(
    J: np.ndarray, d: np.ndarray, beta: float | np.ndarray, gram: np.ndarray | None = None
) -> tuple[np.ndarray, float, np.ndarray] | None:
    """A^-1, log det A and each parameter's share of gamma (P,) from the Cholesky factor of M = I + B^T B
    (:func:`whitened`; ``gram``: J^T diag(beta) J (P, P) where the caller has it), or None where M is too badly
    conditioned to trust it: its trace (a bound on its condition) above ``WHITENED_TRACE``, or fewer residuals left over
    than the factor's rounding in gamma.

    A^-1 = D^-1/2 M^-1 D^-1/2, log det A = sum log d + log det M, and parameter i's share of gamma is
    1 - alpha_i (A^-1)_ii = 1 - (M^-1)_ii. M's condition is at most 1 + s_max^2 for the singular values s of
    B: it leaves out the spread of the alphas, which A's includes (ARD drives an input the data do not need
    to alpha ~1e8 beside others ~1e-2), so this path serves wherever beta J^T J / alpha is moderate (on
    friedman1, every update, where the factor of A gave way to the SVD in 2 of 5). Noise-free targets send
    beta to its bound and take the SVD.
    """
    root = np.sqrt(d)
    if gram is None:
        B = whitened(J, d, beta)
        M = B.T @ B
    else:
        M = gram / np.outer(root, root)
    M.flat[:: len(d) + 1] += 1.0
    trace = float(np.trace(M))
    if not trace <= WHITENED_TRACE:
        return None
    factored = inverse_and_logdet(M)
    if factored is None:
        return None
    M_inv, logdet = factored
    shares = 1.0 - np.diag(M_inv)
    if len(J) - shares.sum() < 1e-12 * trace:  # gamma within the factor's rounding of the number of residuals
        return None
    return M_inv / np.outer(root, root), float(np.sum(np.log(d))) + logdet, shares


def by_singular_values(J: np.ndarray, d: np.ndarray, beta: float | np.ndarray) -> tuple[np.ndarray, float, np.ndarray]:
    """A^-1, log det A and each parameter's share of gamma (P,), from the SVD of B (:func:`whitened`; J (N, P),
    d = diag(D) (P,) > 0), never forming J^T J.

    With B = U S V^T (V (P, P), s padded with zeros to P values):
    A^-1 = D^-1/2 V diag(1 / (1 + s^2)) V^T D^-1/2, log det A = sum log d + sum log(1 + s^2), and
    gamma = sum s^2 / (1 + s^2) over at most min(N, P) non-zero s: never more than the residuals, however
    badly J^T J would be conditioned. With N > P the SVD is taken of the (P, P) R factor of B = Q R, which has
    the same singular values and right vectors (QR is backward stable too): half the time on a 400 x 97 B.
    """
    root = np.sqrt(d)
    B = whitened(J, d, beta)
    if B.shape[0] > B.shape[1] and np.all(np.isfinite(B)):  # B = Q R: R (P, P) has B's singular values and vectors
        B = np.asarray(np.linalg.qr(B, mode="r"))  # (a B not finite goes to the SVD as it is, which gives NaN)
    _, s, Vt = np.linalg.svd(B, full_matrices=B.shape[0] < B.shape[1])  # Vt: (P, P)
    s = np.concatenate([s, np.zeros(len(d) - len(s))])
    C = (Vt.T / (1.0 + s**2)) @ Vt / np.outer(root, root)
    return C, float(np.sum(np.log(d)) + np.sum(np.log1p(s**2))), (Vt**2).T @ (s**2 / (1.0 + s**2))


def evidence_update(
    J: np.ndarray,
    theta: np.ndarray,
    sq_error: float | np.ndarray,
    n: int,
    alpha: np.ndarray,
    beta: float | np.ndarray,
    groups: np.ndarray,
    gram: np.ndarray | None = None,
) -> Evidence:
    """One step of MacKay's fixed point (see the module docstring), with a noise precision for each output.

    ``J`` (n, P): the Jacobian of the n unweighted residuals, the (n / K, K) outputs raveled row by row;
    ``theta`` (P,); ``sq_error`` (K,): each output's sum(r^2) = 2 E_D,k; ``alpha`` (G,); ``beta`` (K,);
    ``groups`` (P,) ints in [0, G); ``gram`` (K, P, P): each output's J_k^T J_k, where the caller has them
    already (training's LM step forms J^T J, one output's worth). A float for ``sq_error`` and ``beta`` is one output.

    Output k's precision follows from the evidence's stationary point in beta_k: beta_k = (n_k - gamma_k) /
    sum(r_k^2), where gamma_k = beta_k tr(A^-1 J_k^T J_k) are the parameters its residuals determine (they sum
    to gamma). A^-1 comes from the Cholesky factor of the whitened I + B^T B (:func:`by_cholesky`) where its
    trace bounds its condition well enough, else from the SVD of B (:func:`by_singular_values`), whose gamma
    never exceeds what n residuals can determine.
    """
    beta, sq_error = np.atleast_1d(np.asarray(beta, dtype=float)), np.atleast_1d(np.asarray(sq_error, dtype=float))
    K, G = len(beta), len(alpha)
    k = np.bincount(groups, minlength=G).astype(float)
    d = alpha[groups]
    weighted = None if gram is None else weighted_gram(beta, gram)  # J^T diag(beta per residual) J
    C, logdet, shares = by_cholesky(J, d, per_residual(beta, n), weighted) or by_singular_values(
        J, d, per_residual(beta, n)
    )
    gamma = np.clip(np.bincount(groups, weights=shares, minlength=G), 0.0, k)
    weight_sq = np.bincount(groups, weights=theta**2, minlength=G)  # 2 E_W per group
    lo, hi = ALPHA_RANGE
    with np.errstate(divide="ignore", invalid="ignore"):
        new_alpha = np.where(weight_sq > 0, gamma / weight_sq, hi)
    new_alpha = np.clip(np.where(np.isfinite(new_alpha), new_alpha, hi), lo, hi)
    if K == 1:  # gamma_1 = beta tr(A^-1 J^T J) = tr(A^-1 (A - diag(alpha))) = gamma
        used = np.array([gamma.sum()])
    else:
        grams = gram if gram is not None else output_grams(J, K)
        used = beta * np.einsum("ij,kij->k", C, grams)
    rows = n // K
    new_beta = np.where(rows - used > SPENT * rows, (rows - used) / np.where(sq_error > 0, sq_error, 1.0), beta)
    # (gamma_k < rank(J_k) <= n_k exactly; within rounding of n_k the fixed point is undefined: beta_k is kept)
    new_beta = np.clip(np.where(sq_error == 0, BETA_RANGE[1], new_beta), *BETA_RANGE)
    log_ev = log_evidence(sq_error, weight_sq, n, alpha, beta, k, logdet)
    return Evidence(new_alpha, new_beta, gamma, log_ev, C)


def log_evidence(
    sq_error: np.ndarray,
    weight_sq: np.ndarray,
    n: int,
    alpha: np.ndarray,
    beta: np.ndarray,
    k: np.ndarray,
    logdet: float,
) -> float:
    """log p(Y | alpha, beta) by the Laplace approximation (MacKay 1992, eq. 29, without the network's
    symmetry factor), with K outputs of n / K residuals each: ``-sum beta_k E_D,k - sum alpha_g E_W,g
    - log det A / 2 + sum k_g log alpha_g / 2 + (n / K) sum log beta_k / 2 - n log(2 pi) / 2``."""
    return float(
        -0.5 * np.sum(beta * sq_error)
        - 0.5 * np.sum(alpha * weight_sq)
        - 0.5 * logdet
        + 0.5 * np.sum(k * np.log(alpha))
        + 0.5 * (n // len(beta)) * np.sum(np.log(beta))
        - 0.5 * n * math.log(2 * math.pi)
    )


def symmetry(sizes: tuple[int, ...]) -> float:
    """log of the number of equivalent modes of a network, sum over hidden layers of log(h! 2^h): the h
    units can be permuted, and each flipped in sign (MacKay 1992). Added to the log evidence to compare widths."""
    return float(sum(math.lgamma(h + 1) + h * math.log(2) for h in sizes[1:-1]))


def predictive_variance(G: np.ndarray, covariance: np.ndarray, noise_variance: float | np.ndarray) -> np.ndarray:
    """``noise_variance + g^T C g`` for each row g of G (M, P), with C the posterior covariance (P, P) and the
    noise variance a float or one per row (M,): (M,).
    C is positive semi-definite only to rounding, so g^T C g may come out below 0: it is taken as 0 there."""
    return noise_variance + np.maximum(np.sum((G @ covariance) * G, axis=1), 0.0)  # (a BLAS product: einsum's
    # three-operand loop took 28 times as long for 256 rows of 193 parameters)
