"""Certified monotonic learning: train, certify globally, tighten, repeat until the certificate holds.

(a) **Gradient training** (torch; Liu et al. 2020). The loss adds, on uniform samples u of the
domain (monotone features drawn continuously, the rest as the domain dictates), the regulariser

    lambda * mean_u sum_{l in monotone} max(b, m - s_l df/du_l)^2,

(``reg_batch`` samples per step, a cosine learning-rate decay so that the final weights settle),
with s_l = +1 (increasing) or -1 (decreasing), b = 0 and m = 0 the seed's max(b, -df/dx_l)^2, and a
margin m > 0 asking for a positive slope. The inputs are standardised (positive scales, so slopes
keep their signs), the scaling is folded into the first Dense layer afterwards. After each round the
exact global certificate (:func:`mipnet.verify.monotonic.verify_global`) is computed; while it does
not hold, lambda is multiplied by 10 and training continues from the current weights.

(b) **MILP training** (:mod:`mipnet.train`, same hypothesis classes): the training MILP plus, for
every counterexample pair (x_k, x'_k) found so far (x'_k >= x_k on a monotone feature, the rest
equal), both points encoded with the shared weight variables and the linear constraint

    s_l (f(x'_k) - f(x_k)) >= 0;

solve, certify the trained net globally, add the new witness pair, re-solve until it holds.

Baselines: ``penalty=0`` is the unconstrained net; ``nonnegative=True`` projects, after every step,
the first-layer weights of the monotone features to sign s_l and all later weights to >= 0 (a
monotone architecture by construction: ReLU is non-decreasing).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..deadline import Deadline, OutOfTime
from ..domain import Domain
from ..errors import DataError, LimitError, UnsupportedError
from ..layers import Dense, Layer, ReLU
from ..network import Network
from ..verify.monotonic import GlobalReport, output_coefficients, resolve_features, verify_global
from .scaling import column_scale
from .torch_adam import PlainAdam

__all__ = ["CertifiedModel", "fit_torch", "train_monotone_gradient", "train_monotone_milp"]

#: time of the train-certify loops (``time_limit`` is for the whole loop): a round that is not the last
#: possible one gets this share of the time left, or ``ROUND_GROWTH`` x what the previous round took if that is
#: more; within a round, training gets ``TRAIN_SHARE`` of the round's time and the global certificate the rest
ROUND_SHARE = 0.5
ROUND_GROWTH = 1.2
TRAIN_SHARE = 2.0 / 3.0


def _round_deadline(dl: Deadline, rnd: int, max_rounds: int, previous: float) -> Deadline:
    """The sub-budget of round ``rnd`` (module constants); ``previous``: seconds the previous round took."""
    if rnd == max_rounds - 1:
        return dl
    return dl.sub(seconds=max(ROUND_SHARE * dl.remaining(), ROUND_GROWTH * previous))


@dataclass
class CertifiedModel:
    """A trained network, its global monotonicity certificate and the rounds that led to it."""

    network: Network
    certificate: GlobalReport | None
    history: list[dict[str, Any]] = field(default_factory=list)
    method: str = "gradient"

    @property
    def certified(self) -> bool:
        return self.certificate is not None and self.certificate.status == "holds"


def _standardise(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return column_scale(X)


def _to_network(
    mods: list[Any],
    mu: np.ndarray,
    sd: np.ndarray,
    y_mu: float,
    y_sd: float,
    domain: Domain,
    task: str,
    classes: list[Any] | None,
    metadata: dict[str, Any],
) -> Network:
    """Torch Linear layers -> Dense/ReLU network with the input and output scaling folded in."""
    Ws = [m.weight.detach().double().numpy().copy() for m in mods]
    bs = [m.bias.detach().double().numpy().copy() for m in mods]
    Ws[0], bs[0] = Ws[0] / sd[None, :], bs[0] - Ws[0] @ (mu / sd)
    Ws[-1], bs[-1] = y_sd * Ws[-1], y_sd * bs[-1] + y_mu
    layers: list[Layer] = []
    for k, (W, b) in enumerate(zip(Ws, bs)):
        layers.append(Dense(W, b))
        if k < len(Ws) - 1:
            layers.append(ReLU())
    return Network(layers, domain=domain, class_names=classes, task=task, metadata=metadata)


def _reg_samples(domain: Domain, mono: list[int], n: int, rng: np.random.Generator) -> np.ndarray:
    U = domain.sample(n, rng)
    for l in mono:  # monotone features continuous: the certificate asks the slope between lattice points
        U[:, l] = rng.uniform(domain.lower[l], domain.upper[l], n)
    return U


def fit_torch(
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "classify",
    domain: Domain,
    hidden: Sequence[int] = (100,),
    monotone: Sequence[tuple[int, int]] = (),
    penalty: float = 0.0,
    b: float = 0.0,
    margin: float = 0.0,
    nonnegative: bool = False,
    coef: np.ndarray | None = None,
    epochs: int = 60,
    batch_size: int = 256,
    lr: float = 3e-3,
    weight_decay: float = 0.0,
    seed: int = 0,
    init: list[Any] | None = None,
    classes: list[Any] | None = None,
    extra_points: np.ndarray | None = None,
    reg_batch: int = 1024,
    threads: int = 1,
    deadline: Deadline | None = None,
) -> tuple[Network, list[Any]]:
    """One torch training run; returns the network (raw features in) and the torch Linear layers.

    ``monotone`` lists (feature index, sign); ``init`` continues from earlier Linear layers;
    ``extra_points`` (raw units) join every regulariser batch (up to half of it), e.g. the
    neighbourhoods of earlier counterexamples. No epoch starts after ``deadline``.
    """
    import torch
    from torch import nn

    old_threads = torch.get_num_threads()
    torch.set_num_threads(threads)  # small nets: one thread is many times faster on a shared machine
    try:
        return _fit(
            torch,
            nn,
            X,
            y,
            task,
            domain,
            hidden,
            monotone,
            penalty,
            b,
            margin,
            nonnegative,
            coef,
            epochs,
            batch_size,
            lr,
            weight_decay,
            seed,
            init,
            classes,
            extra_points,
            reg_batch,
            deadline,
        )
    finally:
        torch.set_num_threads(old_threads)


def _fit(
    torch: Any,
    nn: Any,
    X: np.ndarray,
    y: np.ndarray,
    task: str,
    domain: Domain,
    hidden: Sequence[int],
    monotone: Sequence[tuple[int, int]],
    penalty: float,
    b: float,
    margin: float,
    nonnegative: bool,
    coef: np.ndarray | None,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float,
    seed: int,
    init: list[Any] | None,
    classes: list[Any] | None,
    extra_points: np.ndarray | None,
    reg_batch: int,
    deadline: Deadline | None = None,
) -> tuple[Network, list[Any]]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    X = np.asarray(X, dtype=np.float64)
    mu, sd = _standardise(X)
    Xs = torch.tensor((X - mu) / sd, dtype=torch.float32)
    if task == "regress":
        yv = np.asarray(y, dtype=np.float64)
        y_mu, y_sd = float(yv.mean()), float(yv.std() or 1.0)
        T = torch.tensor((yv - y_mu) / y_sd, dtype=torch.float32)[:, None]
        n_out = 1
        loss_fn: Any = nn.MSELoss()
    else:
        classes = list(classes) if classes is not None else sorted(set(np.asarray(y).tolist()))
        idx = np.array([classes.index(v) for v in np.asarray(y).tolist()])
        y_mu, y_sd = 0.0, 1.0
        n_out = 1 if len(classes) == 2 else len(classes)
        if n_out == 1:
            T = torch.tensor(idx, dtype=torch.float32)[:, None]
            loss_fn = nn.BCEWithLogitsLoss()
        else:
            T = torch.tensor(idx, dtype=torch.long)
            loss_fn = nn.CrossEntropyLoss()
    c = torch.tensor(np.ones(1) if coef is None else np.asarray(coef, float), dtype=torch.float32)
    sizes = [X.shape[1], *[int(h) for h in hidden], n_out]
    if init is not None:
        mods = init
    else:
        mods = [nn.Linear(a, b_) for a, b_ in zip(sizes[:-1], sizes[1:])]
    seq: list[nn.Module] = []
    for k, m in enumerate(mods):
        seq.append(m)
        if k < len(mods) - 1:
            seq.append(nn.ReLU())
    model = nn.Sequential(*seq)
    steps = epochs * ((X.shape[0] + batch_size - 1) // batch_size)
    # cosine-annealed Adam without torch.optim (whose first use imports torch._dynamo: seconds of a short limit)
    opt = PlainAdam(model.parameters(), lr=lr, weight_decay=weight_decay, total_steps=max(1, steps), eta_min=0.02 * lr)
    mono_idx = [l for l, _ in monotone]
    signs = torch.tensor([s for _, s in monotone], dtype=torch.float32)
    N = X.shape[0]

    def project() -> None:
        with torch.no_grad():
            for l, s in monotone:
                w = mods[0].weight[:, l]
                w.copy_(torch.clamp(w, min=0.0) if s > 0 else torch.clamp(w, max=0.0))
            for m in mods[1:]:
                m.weight.clamp_(min=0.0)

    if nonnegative:
        project()
    for epoch in range(epochs):
        if epoch and deadline is not None and deadline.expired():
            break
        perm = torch.randperm(N)
        for start in range(0, N, batch_size):
            bi = perm[start : start + batch_size]
            opt.zero_grad()
            loss = loss_fn(model(Xs[bi]), T[bi])
            if penalty > 0 and monotone:
                U = _reg_samples(domain, mono_idx, reg_batch, rng)
                if extra_points is not None and len(extra_points):
                    k = min(len(extra_points), reg_batch // 2)
                    U[:k] = extra_points[rng.choice(len(extra_points), k, replace=False)]
                Ut = torch.tensor((U - mu) / sd, dtype=torch.float32, requires_grad=True)
                fu = model(Ut) @ c
                (g,) = torch.autograd.grad(fu.sum(), Ut, create_graph=True)
                slope = g[:, mono_idx] * signs[None, :]
                reg = torch.clamp(margin - slope, min=b) ** 2
                loss = loss + penalty * reg.sum(dim=1).mean()
            loss.backward()
            opt.step()
            if nonnegative:
                project()
    net = _to_network(
        mods,
        mu,
        sd,
        y_mu,
        y_sd,
        domain,
        task,
        classes,
        {"trained_by": "mipnet.train.monotone", "penalty": penalty, "nonnegative": nonnegative},
    )
    return net, mods


def training_tolerance(net: Network) -> float:
    """The slope tolerance of the proofs that end a training loop: the verifier's (1e-7 per unit of the feature, in
    output units) times the target's scale when that is below 1. A regression target in small units (sigma_y 3e-8)
    made a slope of -5e-8 over the whole domain pass as "holds"; the trained output's own scale is what the
    tolerance must be small against."""
    from ..verify.monotonic.common import TOL

    last = net.layers[-1] if net.layers else None
    scale = 1.0
    if net.task == "regress" and last is not None and last.kind == "Normalize":
        scale = float(np.min(np.abs(np.asarray(getattr(last, "scale", 1.0), dtype=np.float64))))
    return TOL * min(1.0, scale) if scale > 0 else TOL


def train_monotone_gradient(
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "classify",
    domain: Domain,
    increasing: Sequence[str | int] = (),
    decreasing: Sequence[str | int] = (),
    output: int | str | None = None,
    versus: int | str | None = None,
    hidden: Sequence[int] = (100,),
    penalty: float = 1.0,
    growth: float = 10.0,
    max_rounds: int = 6,
    epochs: int = 60,
    finetune_epochs: int | None = None,
    margin: float = 0.0,
    b: float = 0.0,
    mode: str = "exact",
    time_limit: float | Deadline = 60.0,
    solver: str = "highs",
    seed: int = 0,
    classes: list[Any] | None = None,
    log: Any = None,
    **torch_kwargs: Any,
) -> CertifiedModel:
    """Method (a): gradient training with the monotonicity regulariser, x``growth`` until certified.

    The first round trains ``epochs`` epochs from scratch, every later round ``finetune_epochs``
    (default: the same) from the current weights with the larger coefficient.

    ``time_limit`` (seconds or a Deadline) is for the whole loop: a round gets ``ROUND_SHARE`` of the time left
    (the last possible round all of it), its training ``TRAIN_SHARE`` of that (no epoch starts after), its
    certificate the rest; no round starts once the time is up (the last certificate is returned).
    """
    say = log or (lambda s: None)
    dl = Deadline.of(time_limit)
    if penalty <= 0:
        raise DataError("the regulariser coefficient must be positive")
    probe = Network([Dense(np.zeros((1, domain.n_features)), np.zeros(1))], domain=domain, task="regress")
    feats = resolve_features(probe, increasing, decreasing)
    monotone = [(l, s) for l, _, s in feats]
    n_out = (
        1 if task == "regress" else (1 if len(set(np.asarray(y).tolist())) == 2 else len(set(np.asarray(y).tolist())))
    )
    coef = np.ones(1) if n_out == 1 else None
    history: list[dict[str, Any]] = []
    mods = None
    lam = float(penalty)
    net = None
    report = None
    extra: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    previous = 0.0
    for rnd in range(max_rounds):
        if rnd and dl.expired():
            say(f"round {rnd}: not started, the time limit is reached")
            break
        round_dl = _round_deadline(dl, rnd, max_rounds, previous)
        t0 = time.perf_counter()
        ep = epochs if mods is None else (finetune_epochs or epochs)
        if coef is None:  # multiclass: the coefficients follow the chosen output
            tmp = _to_probe(domain, n_out, task, classes, y)
            coef = output_coefficients(tmp, output, versus)[0]
        net, mods = fit_torch(
            X,
            y,
            task=task,
            domain=domain,
            hidden=hidden,
            monotone=monotone,
            penalty=lam,
            b=b,
            margin=margin,
            coef=coef,
            epochs=ep,
            seed=seed + rnd,
            init=mods,
            classes=classes,
            extra_points=np.vstack(extra) if extra else None,
            deadline=round_dl.sub(fraction=TRAIN_SHARE),
            **torch_kwargs,
        )
        t_train = time.perf_counter() - t0
        report = verify_global(
            net,
            [n for _, n, s in feats if s > 0],
            [n for _, n, s in feats if s < 0],
            tol=training_tolerance(net),
            mode=mode,
            output=output,
            versus=versus,
            time_limit=round_dl,
            solver=solver,
        )
        history.append(
            {
                "round": rnd,
                "penalty": lam,
                "epochs": ep,
                "train_time": t_train,
                "status": report.status,
                "verify_time": report.build_time + sum(f.solve_time for f in report.features),
                "features": {
                    f.feature: {"status": f.status, "min_derivative": f.min_derivative, "bound": f.bound}
                    for f in report.features
                },
            }
        )
        say(f"round {rnd}: penalty {lam:g}, certificate {report.status}")
        previous = time.perf_counter() - t0
        if report.status == "holds":
            break
        extra.extend(_neighbourhoods(report, domain, rng))
        lam *= growth
    assert net is not None
    net.metadata["monotonicity"] = report.to_dict() if report is not None else None
    return CertifiedModel(net, report, history, "gradient")


def _milp_start(
    problem: Any,
    previous: Any,
    Xs: np.ndarray,
    target: np.ndarray,
    task: str,
    n_classes: int,
    cfg: Any,
    solver: str,
    *,
    seed: int,
    budget: float,
    deadline: Deadline | None = None,
    instance: Any | None = None,
) -> tuple[Any, float | None]:
    """A complete MIP start for a round of method (b): round 0 the gradient net mapped into the class,
    later rounds the previous round's weights; either is first made feasible for the pair constraints
    (:func:`~.warmstart.repair`), then improved by the LP heuristic. (start values or None, objective)."""
    from .warmstart import gradient_weights, lp_heuristic, map_to_class, repair, snapshot

    if previous is None:
        gw = gradient_weights(
            Xs,
            target,
            task,
            n_classes,
            cfg.hidden,
            seed=seed,
            deadline=None if deadline is None else deadline.sub(fraction=0.25),
        )
        if gw is None or [W.shape for W, _ in gw] != [lp.shape for lp in problem.params]:
            return None, None
        previous = map_to_class(gw, problem)
    w = repair(
        problem,
        previous,
        solver=solver,
        instance=instance,
        time_limit=30.0 if deadline is None else deadline.solver_limit(cap=30.0),
    )
    if w is None:
        return None, None
    w, obj, _ = lp_heuristic(
        problem, w, solver=solver, max_rounds=10, time_budget=max(0.0, budget), deadline=deadline, instance=instance
    )
    return (snapshot(problem), obj) if obj is not None else (None, None)


def _neighbourhoods(report: GlobalReport, domain: Domain, rng: np.random.Generator, n: int = 32) -> list[np.ndarray]:
    """Points around each failed feature's minimiser and witness segment (for the next regulariser)."""
    out = []
    width = domain.upper - domain.lower
    for f in report.features:
        if f.status == "holds":
            continue
        anchors = [np.asarray(p) for p in ([f.argmin] if f.argmin is not None else [])]
        if f.witness is not None:
            a, b = np.asarray(f.witness.x), np.asarray(f.witness.x_prime)
            anchors += [a + t * (b - a) for t in np.linspace(0, 1, 5)]
        for p in anchors:
            out.append(domain.clip(p[None] + rng.normal(size=(n, p.size)) * 0.01 * width))
    return out


def _to_probe(domain: Domain, n_out: int, task: str, classes: list[Any] | None, y: np.ndarray) -> Network:
    cls = list(classes) if classes is not None else sorted(set(np.asarray(y).tolist()))
    return Network(
        [Dense(np.zeros((n_out, domain.n_features)), np.zeros(n_out))],
        domain=domain,
        task=task,
        class_names=cls if task == "classify" else None,
    )


def train_monotone_milp(
    X: np.ndarray,
    y: np.ndarray,
    *,
    task: str = "classify",
    domain: Domain,
    increasing: Sequence[str | int] = (),
    decreasing: Sequence[str | int] = (),
    config: Any = None,
    max_rounds: int = 8,
    time_limit: float | Deadline = 60.0,
    verify_time_limit: float = 30.0,
    solver: str = "highs",
    log: Any = None,
) -> CertifiedModel:
    """Method (b): the training MILP with counterexample pairs as linear constraints, until certified.

    Every round starts from a feasible network (:func:`_milp_start`): the gradient net in round 0,
    the previous round's weights re-fitted to the new pairs afterwards.

    ``time_limit`` (seconds or a Deadline) is for the whole loop, every round's model building, warm start,
    MILP and global certificate included: a round that is not the last possible one gets ``ROUND_SHARE`` of the
    time left, its training ``TRAIN_SHARE`` of that and its certificate the rest (at most ``verify_time_limit``
    per feature). No round starts once the time is up; a round whose MILP finds no network in time ends the loop
    with the previous round's network and certificate.

    Binary classification or single-output regression; see the module docstring.
    """
    dl = Deadline.of(time_limit)
    try:
        import pyomo.environ as pyo

        from ..encode import Terms
        from ..solve import solve
        from .formulation import TrainConfig, TrainingProblem, resolve_config
        from .trainer import build_network, encode_targets
    except ImportError as exc:
        raise UnsupportedError(f"MILP-trained monotonic networks need the MILP trainer (mipnet.train): {exc}") from None
    say = log or (lambda s: None)
    X = np.asarray(X, dtype=np.float64)
    probe = Network([Dense(np.zeros((1, domain.n_features)), np.zeros(1))], domain=domain, task="regress")
    feats = resolve_features(probe, increasing, decreasing)
    target, cls, n_classes, y_mu, y_sd = encode_targets(np.asarray(y), task)
    if task == "classify" and n_classes != 2:
        raise UnsupportedError("MILP-trained monotonic networks support binary classification and regression")
    cfg = resolve_config(config or TrainConfig(), task, n_classes)
    mu, sd = _standardise(X)
    Xs = (X - mu) / sd
    pairs: list[tuple[np.ndarray, np.ndarray, int]] = []  # (x, x', sign) in raw units
    history: list[dict[str, Any]] = []
    net = report = None
    net_w = None
    previous = 0.0
    for rnd in range(max_rounds):
        if rnd and dl.expired():
            say(f"round {rnd}: not started, the time limit is reached")
            break
        round_dl = _round_deadline(dl, rnd, max_rounds, previous)
        train_dl = round_dl.sub(fraction=TRAIN_SHARE)
        # without a network yet, the model may take longer to build than the round's share (its solve then gets
        # little time, the warm start stays): a loop that returns nothing would be worse
        build_dl = train_dl if net is not None else dl
        t0 = time.perf_counter()
        try:
            problem = TrainingProblem(
                Xs, target, task, n_classes, cfg, solver=solver, deadline=build_dl, after_build=1.0
            )
        except OutOfTime as exc:
            if net is None:
                raise LimitError(
                    f"round {rnd}: the training MILP could not be built within the time limit "
                    f"({exc}); raise the time limit or use --samples"
                ) from None
            say(f"round {rnd}: the training MILP could not be built in time ({exc}); the last network is kept")
            break
        m = problem.model
        if pairs:
            m.MP = pyo.Block(range(2 * len(pairs)))
            m.MP_cons = pyo.ConstraintList()
            for k, (xa, xb, s) in enumerate(pairs):
                outs = []
                for t, xr in enumerate((xa, xb)):
                    enc = problem.encode(m.MP[2 * k + t], Terms.constant((xr - mu) / sd))
                    outs.append(enc.outputs.expr.ravel()[0])
                m.MP_cons.add(s * (outs[1] - outs[0]) >= 0)
        from .warmstart import is_linear, lp_instance, milp_options

        # HiGHS: one persistent instance for the round's LPs and its MILP (the model is translated once, which
        # takes about as long as building it: not started without the time for it)
        instance = None
        if solver == "highs" and is_linear(problem):
            if not build_dl.allows(problem.build_seconds):
                if net is None:
                    raise UnsupportedError(
                        f"round {rnd}: no time left to hand the training MILP to the solver; "
                        "raise the time limit or use --samples"
                    )
                say(f"round {rnd}: no time left to solve the training MILP; the last network is kept")
                break
            instance = lp_instance(problem)
        start, start_obj = _milp_start(
            problem,
            net_w,
            Xs,
            target,
            task,
            n_classes,
            cfg,
            solver,
            seed=rnd,
            budget=0.2 * train_dl.remaining(),
            deadline=train_dl,
            instance=instance,
        )
        # without an instance the translation happens inside solve() before its clock starts (about the build time)
        remaining = train_dl.remaining() - (0.0 if instance is not None else problem.build_seconds)
        res = solve(
            m,
            solver,
            time_limit=max(0.1, remaining),
            warm_start=start,
            instance=instance,
            options=milp_options(problem, solver, remaining),
        )
        if not res.has_solution:
            if net is None:
                raise LimitError(f"round {rnd}: the training MILP found no network within the time limit")
            say(f"round {rnd}: the training MILP found no network in time; the last network is kept")
            break
        w = problem.weight_values()
        net_w = w
        net = build_network(
            w,
            mu,
            sd,
            domain,
            task,
            cls,
            y_mu,
            y_sd,
            {"trained_by": "mipnet.train.monotone (milp)", "pairs": len(pairs)},
            skip=problem.skipped_layers(w),
        )
        report = verify_global(
            net,
            [n for _, n, s in feats if s > 0],
            [n for _, n, s in feats if s < 0],
            tol=training_tolerance(net),
            time_limit=round_dl.sub(seconds=verify_time_limit * max(1, len(feats))),
            solver=solver,
        )
        new = [
            (np.asarray(f.witness.x), np.asarray(f.witness.x_prime), 1 if f.direction == "increasing" else -1)
            for f in report.features
            if f.witness is not None
        ]
        history.append(
            {
                "round": rnd,
                "pairs": len(pairs),
                "train_status": res.status,
                "objective": res.incumbent,
                "bound": res.bound,
                "gap": res.gap,
                "warm_start_objective": start_obj,
                "train_time": time.perf_counter() - t0,
                "status": report.status,
                "new_pairs": len(new),
            }
        )
        say(f"round {rnd}: {len(pairs)} pairs, training {res.status}, certificate {report.status}")
        previous = time.perf_counter() - t0
        if report.status == "holds" or not new:
            break
        pairs.extend(new)
    assert net is not None
    net.metadata["monotonicity"] = report.to_dict() if report is not None else None
    return CertifiedModel(net, report, history, "milp")
