"""Warm start, part one: a gradient-trained net mapped into the training MILP's hypothesis class.

**Mapping** (positive homogeneity of ReLU): for hidden unit j of layer l with outgoing weights
W_{l+1}[:, j], alpha_j = max_k |W_{l+1}[k, j]| / tau scales its incoming row and bias by alpha_j and
its outgoing column by 1 / alpha_j without changing the function; tau = 1 (sign), s Q (quantized) or
B_w (continuous). Done from the last hidden layer backwards, every column of W_l (l >= 1) then has
max |.| = tau; discrete layers are rounded onto their grid (sign: v_j = sign(v_j)). Then W_0 and every
bias are multiplied by gamma = min(1, B_w / max |W_0|) (the output scales by gamma, the signs are
kept) and biases clipped into their box. Budgets are met by magnitude pruning, and the hidden units
are sorted into the order the symmetry-breaking constraints demand.

**Skipped layers** (layer switches, :mod:`.formulation`): a switched hidden layer whose weights and bias
are all zero is the identity. The units of the layer before it are then read by the next present
layer (:meth:`~.formulation.TrainingProblem.consumers`): activity, dead units, budgets and the unit
order all use that consumer, and a skipped layer has no active unit. A gradient-trained net has no

The linear term (:mod:`.linear_term`) starts at 0; the weight constraints (:mod:`.constraints`: excluded
features, path signs, the feature budget) are met by zeroing what they forbid.

The weights then go to :mod:`.warmstart_complete` for a complete consistent assignment of the MILP.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Any, Iterator

import numpy as np

from .. import interrupt
from .formulation import TrainingProblem

Weights = list[tuple[np.ndarray, np.ndarray]]


def forward_pre(weights: Weights, X: np.ndarray) -> list[np.ndarray]:
    """Pre-activations of every Dense layer (the last one is the output), numpy, (N, width) each."""
    out, h = [], X
    for W, b in weights:
        z = h @ W.T + b
        out.append(z)
        h = np.maximum(z, 0.0)
    return out


class _GradientDeadline(KeyboardInterrupt):
    """Raised by the alarm of :func:`_stop_at`: scikit-learn's MLP catches a KeyboardInterrupt between its
    iterations, stops and keeps the weights it has."""


@contextlib.contextmanager
def _stop_at(deadline: Any) -> Iterator[None]:
    """Within the block, an alarm at ``deadline`` (a :class:`~mipnet.deadline.Deadline`) raises
    :class:`_GradientDeadline`. Only on the main thread, where ``setitimer`` exists and no other timer runs (the
    VNN-COMP runner's); otherwise, or without a deadline, no limit."""
    seconds = None if deadline is None else deadline.remaining()
    usable = (
        seconds is not None
        and np.isfinite(seconds)
        and threading.current_thread() is threading.main_thread()
        and hasattr(signal, "setitimer")
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0
    )
    if not usable:
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise _GradientDeadline()

    old = signal.signal(signal.SIGALRM, alarm)
    assert seconds is not None  # usable
    signal.setitimer(signal.ITIMER_REAL, max(float(seconds), 0.01))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, old)


def gradient_weights(
    X: np.ndarray,
    target: np.ndarray,
    task: str,
    n_classes: int,
    hidden: tuple[int, ...],
    seed: int | None = 0,
    max_iter: int = 400,
    deadline: Any = None,
) -> Weights | None:
    """A scikit-learn MLP of the same architecture trained on the standardised data (ReLU, adam), stopped at
    ``deadline`` with the weights it has then (None if it had none yet). Ctrl-C, which scikit-learn swallows
    (it stops and returns), is raised again after the fit."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    kw = dict(
        hidden_layer_sizes=tuple(hidden),
        activation="relu",
        max_iter=max_iter,
        random_state=seed,
        alpha=1e-3,
        learning_rate_init=0.01,
    )
    est: Any = MLPRegressor(**kw) if task == "regress" else MLPClassifier(**kw)
    y = target if task == "regress" or n_classes > 2 else (target > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.filterwarnings("ignore", message="Training interrupted by user")
        try:
            with _stop_at(deadline):
                est.fit(X, y)
        except _GradientDeadline:  # the alarm outside scikit-learn's loop (set-up): the weights so far, if any
            pass
    interrupt.check()  # Ctrl-C during the fit: scikit-learn caught it
    if not hasattr(est, "coefs_"):
        return None
    return [(np.asarray(W, float).T.copy(), np.asarray(b, float).copy()) for W, b in zip(est.coefs_, est.intercepts_)]


def map_to_class(weights: Weights, problem: TrainingProblem) -> Weights:
    """Rescale hidden units, round discrete layers onto their grid, fit the boxes and budgets, sort units."""
    cfg = problem.config
    if getattr(problem, "linear_w", None) is not None:  # the linear term starts at 0 (:mod:`.linear_term`)
        problem.linear_w = np.zeros_like(problem.linear_w)
    w = [(W.copy(), b.copy()) for W, b in weights]
    L = len(w)
    tau = {"sign": 1.0, "quantized": cfg.scale * cfg.levels, "continuous": cfg.weight_bound}[cfg.hypothesis]
    for l in range(L - 2, -1, -1):  # hidden layer l feeds layer l + 1
        Wn, bn = w[l]
        Wo = w[l + 1][0]
        mx = np.abs(Wo).max(axis=0)
        alpha = np.where(mx > 0, mx / tau, 0.0)
        Wn *= alpha[:, None]
        bn *= alpha
        Wo /= np.where(alpha > 0, alpha, 1.0)[None, :]
    for l in range(1, L):
        kind = problem.params[l].kind
        W = w[l][0]
        if kind == "sign":
            W[:] = np.sign(np.round(W, 12))
        elif kind == "quantized":
            W[:] = cfg.scale * np.clip(np.round(W / cfg.scale), -cfg.levels, cfg.levels)
        else:
            np.clip(W, -cfg.weight_bound, cfg.weight_bound, out=W)
    gamma = min(1.0, cfg.weight_bound / max(float(np.abs(w[0][0]).max()), 1e-12))
    w[0] = (w[0][0] * gamma, w[0][1])
    for l in range(L):
        w[l] = (w[l][0], np.clip(w[l][1] * gamma, -cfg.bias_bound, cfg.bias_bound))
    if cfg.constraints:  # zero what the weight constraints forbid (:func:`.constraint_rows.project_start`)
        from .constraint_rows import project_start

        w = project_start(w, problem)
    w = _meet_budgets(w, problem)
    return canonical_order(problem.zero_dead_units(w), problem)


def _zero_dead_units(w: Weights, problem: TrainingProblem) -> Weights:
    """``problem.zero_dead_units(w)`` (:meth:`.TrainingProblem.zero_dead_units`; kept for older callers)."""
    return problem.zero_dead_units(w)


def _meet_budgets(w: Weights, problem: TrainingProblem) -> Weights:
    cfg = problem.config
    if cfg.max_neurons is not None:
        scores: list[tuple[float, int, int]] = []
        skip, cons = problem.skipped_params(w), problem.consumers(w)
        for l in range(len(w) - 1):
            if skip[l]:
                continue
            imp = np.abs(w[l][0]).sum(axis=1) * np.abs(w[cons[l]][0]).sum(axis=0)
            scores.extend((float(s), l, j) for j, s in enumerate(imp))
        scores.sort(reverse=True)
        for _, l, j in scores[int(cfg.max_neurons) :]:
            w[cons[l]][0][:, j] = 0.0
        w = problem.zero_dead_units(w)
    if cfg.max_nonzeros is not None:
        K = int(cfg.max_nonzeros)
        flat = [
            (abs(float(v)) / max(float(np.abs(W).max()), 1e-12), l, k)
            for l, (W, _) in enumerate(w)
            for k, v in enumerate(W.ravel())
            if v != 0
        ]
        flat.sort()
        excess = len(flat) - K
        for _, l, k in flat[: max(excess, 0)]:
            w[l][0].flat[k] = 0.0
        w = problem.zero_dead_units(w)
    return w


def canonical_order(w: Weights, problem: TrainingProblem) -> Weights:
    """Permute hidden units into the order of the symmetry-breaking constraints (function unchanged)."""
    if not problem.config.symmetry_breaking:
        return w
    w = [(W.copy(), b.copy()) for W, b in w]
    skip, cons = problem.skipped_params(w), problem.consumers(w)
    for l in range(len(w) - 1):
        if skip[l]:  # all zero: every order is the canonical one
            continue
        W, b = w[l]
        c = cons[l]  # the units' out-weights (past skipped layers, whose zero rows/columns need no permuting)
        Wo = w[c][0]
        if problem.params[c].kind == "sign":
            v = Wo[0]
            group = np.where(v > 0, 0, np.where(v < 0, 1, 2))
        else:
            active = (np.abs(W).sum(axis=1) + np.abs(b) + np.abs(Wo).sum(axis=0)) > 0
            has_switch = problem.neuron_ind[l][0] is not None
            group = np.where(active | (not has_switch), 0, 1)
        order = np.lexsort((-b, group))
        w[l] = (W[order], b[order])
        w[c] = (Wo[:, order], w[c][1])
    return w


__all__ = ["Weights", "forward_pre", "gradient_weights", "map_to_class", "canonical_order"]
