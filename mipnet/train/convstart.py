"""Warm start of the conv training MILP: a torch net of the same architecture, mapped into the class.

**Gradient net**: :func:`mipnet.io.torch_io.to_torch` of the zero-weight template, re-initialised
from ``seed`` (torch's default init), trained full-batch with Adam on the standardised images
(cross-entropy for several classes, logistic loss for one logit, squared error for regression).

**Mapping** (positive homogeneity of ReLU, max and average pooling): for every hidden unit u (a
conv channel or a dense neuron) of parametrised layer l, alpha_u = max |W_{l+1}[:, u, ...]| / tau
scales u's filter/row and bias by alpha_u and its outgoing weights by 1/alpha_u, from the last hidden
layer backwards (tau = s Q for ``quantized``, B_w for ``continuous``); the later layers are then
rounded onto their grid (k s, |k| <= Q); W_0 and every bias are multiplied by
gamma = min(1, B_w / max |W_0|) and biases clipped into their box. Budgets (``max_channels``,
``max_neurons``) keep the units of largest |in| * |out| weight mass; with a channel penalty, channels
are switched off greedily (least mass first) while the numpy objective decreases; units are sorted
into the order of the symmetry-breaking constraints (active first, biases non-increasing).

Every binary then follows from the weights (:func:`mipnet.train.warmstart.discrete_values`: grid
bits, switches, ReLU binaries from the numpy forward pass, max-pool selections from the window
argmax) and :func:`mipnet.train.warmstart.fixed_lp` completes the auxiliary variables.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..network import Network
from .conv import ConvTrainingProblem, Weights, unit_out
from .torch_adam import PlainAdam


def gradient_conv_weights(
    problem: ConvTrainingProblem,
    seed: int | None = 0,
    epochs: int = 300,
    lr: float = 0.01,
    weight_decay: float = 1e-4,
    deadline: Any = None,
) -> Weights:
    """Train the problem's template architecture by gradient descent on its standardised data."""
    return gradient_train(
        problem.template,
        problem.X.reshape((problem.N,) + problem.image_shape),
        problem.target,
        problem.task,
        problem.n_out,
        seed=seed,
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        deadline=deadline,
    )


def gradient_train(
    template: Network,
    images: np.ndarray,
    target: np.ndarray,
    task: str,
    n_out: int,
    seed: int | None = 0,
    epochs: int = 300,
    lr: float = 0.01,
    weight_decay: float = 1e-4,
    deadline: Any = None,
) -> Weights:
    """Train ``template`` (torch, Adam, full batch) on images (N, C, H, W) and encoded targets
    (+-1 for one logit, class index, or standardised value); one (W, b) per Conv2D/Dense layer. No epoch starts
    after ``deadline`` (a :class:`~mipnet.deadline.Deadline`)."""
    import torch

    from ..io.torch_io import to_torch

    torch.manual_seed(0 if seed is None else int(seed))
    model = to_torch(template)
    for mod in model.modules():
        if hasattr(mod, "reset_parameters") and mod is not model:
            mod.reset_parameters()
    X = torch.tensor(np.asarray(images, dtype=np.float64), dtype=torch.float32)
    if task == "regress":
        y = torch.tensor(target.astype(float), dtype=torch.float32)[:, None]
        loss_fn = torch.nn.MSELoss()
    elif n_out == 1:
        y = torch.tensor((target > 0).astype(float), dtype=torch.float32)[:, None]
        loss_fn = torch.nn.BCEWithLogitsLoss()
    else:
        y = torch.tensor(target.astype(int), dtype=torch.long)
        loss_fn = torch.nn.CrossEntropyLoss()
    # Adam without torch.optim, whose first use imports torch._dynamo (seconds of a short limit)
    opt = PlainAdam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny nets: thread start-up costs more than it saves
    try:
        for _ in range(int(epochs)):
            if deadline is not None and deadline.expired():
                break
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    out: Weights = []
    for mod in model.modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            out.append((mod.weight.detach().double().numpy().copy(), mod.bias.detach().double().numpy().copy()))
    return out


def map_conv_to_class(weights: Weights, problem: ConvTrainingProblem) -> Weights:
    """Rescale units, round the later layers onto their grid, fit boxes and budgets, sort units (module doc)."""
    cfg = problem.config
    w = [(W.astype(np.float64).copy(), b.astype(np.float64).copy()) for W, b in weights]
    L = len(w)
    tau = cfg.scale * cfg.levels if cfg.hypothesis == "quantized" else cfg.weight_bound
    for l in range(L - 2, -1, -1):
        W, b = w[l]
        n = W.shape[0]
        out = unit_out(w[l + 1][0], n)
        mx = np.abs(out).max(axis=(0, 2))
        alpha = np.where(mx > 0, mx / tau, 0.0)
        W *= alpha.reshape((n,) + (1,) * (W.ndim - 1))
        b *= alpha
        out /= np.where(alpha > 0, alpha, 1.0)[None, :, None]
    for l in range(1, L):
        W = w[l][0]
        if problem.params[l].kind == "quantized":
            W[:] = cfg.scale * np.clip(np.round(W / cfg.scale), -cfg.levels, cfg.levels)
        else:
            np.clip(W, -cfg.weight_bound, cfg.weight_bound, out=W)
    gamma = min(1.0, cfg.weight_bound / max(float(np.abs(w[0][0]).max()), 1e-12))
    w[0] = (w[0][0] * gamma, w[0][1])
    for l in range(L):
        w[l] = (w[l][0], np.clip(w[l][1] * gamma, -cfg.bias_bound, cfg.bias_bound))
    w = problem.zero_dead_units(w)
    w = _meet_budgets(w, problem)
    if cfg.channel_penalty > 0:
        w = greedy_channel_pruning(w, problem)
    return canonical_conv_order(problem.zero_dead_units(w), problem)


def numpy_objective(w: Weights, problem: ConvTrainingProblem) -> float:
    """The training objective of ``w`` on the problem's data, with numpy (the certificate's formulas)."""
    from .certificate import penalty_terms, sample_losses

    cfg = problem.config
    _, f = problem.pre_activations(w)
    loss = float(sample_losses(f, problem.target, cfg.loss, cfg.margin).sum() / problem.loss_denominator)
    coef = {
        "l1": cfg.l1,
        "l2": cfg.l2,
        "l0": cfg.l0,
        "neuron_penalty": cfg.neuron_penalty,
        "layer_penalty": cfg.layer_penalty,
        "channel_penalty": cfg.channel_penalty,
    }
    return loss + problem.penalty_weight * sum(penalty_terms(problem.network_with(w), coef).values())


def greedy_channel_pruning(w: Weights, problem: ConvTrainingProblem) -> Weights:
    """Switch channels off one at a time (least |in| * |out| mass first) while the objective decreases."""
    best = numpy_objective(w, problem)
    for k in range(problem.n_conv):
        for u in np.argsort(_importance(w, k)):
            trial = [(W.copy(), b.copy()) for W, b in w]
            n = trial[k][0].shape[0]
            unit_out(trial[k + 1][0], n)[:, u, :] = 0.0
            trial = problem.zero_dead_units(trial)
            if problem.active_units(trial, k).sum() == 0:
                continue
            obj = numpy_objective(trial, problem)
            if obj < best - 1e-12:
                best, w = obj, trial
    return w


def _importance(w: Weights, k: int, c: int | None = None) -> np.ndarray:
    """|in| * |out| mass per unit of layer k; ``c`` the layer reading it (default k + 1)."""
    W = w[k][0]
    n = W.shape[0]
    c = k + 1 if c is None else c
    return np.abs(W.reshape(n, -1)).sum(axis=1) * np.abs(unit_out(w[c][0], n)).sum(axis=(0, 2))


def _drop_units(
    w: Weights, keep_best: list[tuple[float, int, int]], budget: int, cons: list[int] | None = None
) -> None:
    keep_best.sort(reverse=True)
    for _, k, u in keep_best[budget:]:
        n = w[k][0].shape[0]
        unit_out(w[k + 1 if cons is None else cons[k]][0], n)[:, u, :] = 0.0


def _meet_budgets(w: Weights, problem: ConvTrainingProblem) -> Weights:
    cfg = problem.config
    if cfg.max_channels is not None:
        scores = [(float(s), k, u) for k in range(problem.n_conv) for u, s in enumerate(_importance(w, k))]
        _drop_units(w, scores, int(cfg.max_channels))
        w = problem.zero_dead_units(w)
    if cfg.max_neurons is not None:
        o = problem.hidden_offset
        skip, cons = problem.skipped_params(w), problem.consumers(w)
        scores = [
            (float(s), o + l, u)
            for l in range(len(cfg.hidden))
            if not skip[o + l]
            for u, s in enumerate(_importance(w, o + l, cons[o + l]))
        ]
        _drop_units(w, scores, int(cfg.max_neurons), cons)
        w = problem.zero_dead_units(w)
    if cfg.max_nonzeros is not None:
        flat = [
            (abs(float(v)) / max(float(np.abs(W).max()), 1e-12), l, k)
            for l, (W, _) in enumerate(w)
            for k, v in enumerate(W.ravel())
            if v != 0
        ]
        flat.sort()
        for _, l, k in flat[: max(len(flat) - int(cfg.max_nonzeros), 0)]:
            w[l][0].flat[k] = 0.0
        w = problem.zero_dead_units(w)
    return w


def canonical_conv_order(w: Weights, problem: ConvTrainingProblem) -> Weights:
    """Permute channels and hidden neurons into the symmetry-breaking order (function unchanged)."""
    if not problem.config.symmetry_breaking:
        return w
    w = [(W.copy(), b.copy()) for W, b in w]
    o = problem.hidden_offset
    skip, cons = problem.skipped_params(w), problem.consumers(w)
    for k in range(len(w) - 1):
        if skip[k]:  # a skipped dense layer: all zero, its units are the previous layer's
            continue
        W, b = w[k]
        n = W.shape[0]
        if k < o:
            has_switch = problem.channel_ind[k][0] is not None
        else:
            has_switch = problem.neuron_ind[k - o][0] is not None
        active = problem.active_units(w, k)
        group = np.where(active | (not has_switch), 0, 1)
        order = np.lexsort((-b, group))
        Wn = w[cons[k]][0]
        w[k] = (W[order], b[order])
        w[cons[k]] = (unit_out(Wn, n)[:, order, :].reshape(Wn.shape).copy(), w[cons[k]][1])
    return w
