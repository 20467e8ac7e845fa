"""`mipnet demo`: train a certified monotone network on COMPAS, audit it, save it, and say in one line what was
proved (the same machinery as `mipnet train` and `mipnet audit`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import numpy as np

from .options import (
    FINITE_POSITIVE,
    MODEL_SUFFIXES,
    RADIUS,
    SEED,
    output_file,
)


def demo_model_path(report: str, output: str | None) -> str:
    """Where demo saves its model: -o, else beside the report (compas_audit.html -> compas_model.json), else
    compas_model.json in the current directory."""
    if output:
        return output
    if not report:
        return "compas_model.json"
    r = Path(report)
    stem = r.stem[: -len("_audit")] if r.stem.endswith("_audit") and len(r.stem) > 6 else r.stem
    return str(r.with_name(f"{stem}_model.json"))


def demo_summary(cert: Any, audit: Any, model_path: str, training: Any = None) -> str:
    """The last line of demo: what was proved, what was violated, what is undecided, where the model is.

    ``cert``: a training certificate (``gap``, ``status``) or None; ``training``: the demo's
    :class:`DemoTraining` (the train-and-prove loop) or None; ``audit``: the :class:`~mipnet.report.audit.Audit`
    or None (then the training loop's own monotonicity certificate speaks)."""
    proved: list[str] = []
    violated: list[str] = []
    unknown: list[str] = []
    if cert is not None and cert.gap is not None:
        proved.append(f"training gap {100 * cert.gap:.2f} %")  # a gap is a proved bound on the optimum
    elif cert is not None:
        unknown.append(f"training optimality ({cert.status}, no bound)")
    if training is not None:
        (proved if training.optimal else unknown).append(
            f"training optimal on its {training.rows} rows ({training.gap_words})"
            if training.optimal
            else "training optimality (stopped at the time limit, gap unknown)"
        )
    if audit is None and training is not None and training.features:
        by_status: dict[str, list[str]] = {"holds": [], "violated": [], "unknown": []}
        for feature, status in training.features:
            by_status.setdefault(status, []).append(feature)
        if by_status["holds"]:
            proved.append(f"monotone in {', '.join(by_status['holds'])}")
        if by_status["violated"]:
            violated.append(f"monotonicity in {', '.join(by_status['violated'])}")
        if by_status["unknown"]:
            unknown.append(f"monotonicity in {', '.join(by_status['unknown'])}")
    for p in audit.properties if audit is not None else []:
        if p.key == "monotonicity":
            by: dict[str, list[str]] = {"holds": [], "violated": [], "unknown": []}
            for r in p.rows:
                by.setdefault(r.get("verdict", "unknown"), []).append(r.get("feature", "?"))
            if by["holds"]:
                proved.append(f"monotone in {', '.join(by['holds'])}")
            if by["violated"]:
                violated.append(f"monotonicity in {', '.join(by['violated'])}")
            if by["unknown"]:
                unknown.append(f"monotonicity in {', '.join(by['unknown'])}")
        elif p.key == "robustness":
            counts = {v: sum(r.get("verdict") == v for r in p.rows) for v in ("holds", "violated", "unknown")}
            n = len(p.rows)
            label = p.name.lower() if training is None else training.robustness_words
            if counts["holds"]:
                proved.append(f"{label} at {counts['holds']} of {n} held-out rows")
            if counts["violated"]:
                violated.append(f"{label} at {counts['violated']} of {n} held-out rows")
            if counts["unknown"]:
                unknown.append(f"{label} at {counts['unknown']} of {n} held-out rows")
        else:
            {"holds": proved, "violated": violated}.get(p.verdict, unknown).append(p.name)
    parts = [f"proved: {', '.join(proved) or 'nothing'}"]
    if violated:
        parts.append(f"violated: {', '.join(violated)}")
    if unknown:
        parts.append(f"undecided: {', '.join(unknown)}")
    parts.append(f"model: {model_path}")
    return "; ".join(parts)


class DemoTraining:
    """What the demo's train-and-prove loop established (for its summary line and the report's words)."""

    def __init__(
        self,
        rows: int,
        optimal: bool,
        rounds: int,
        objective: float | None,
        features: list[tuple[str, str]],
        eps: float,
        gap: float | None = None,
    ) -> None:
        self.rows = rows
        self.optimal = optimal
        self.rounds = rounds
        self.objective = objective
        self.features = features  # (feature, holds | violated | unknown) of the loop's global certificate
        # below 1 only age can move (every other feature is a whole number); from 1 on the ball moves counts and
        # flips yes/no features too, and a verdict speaks of that ball, not of age alone
        self.robustness_words = (
            f"robustness to +-{eps:g} year(s) of age"
            if eps < 1
            else f"robustness in the L-inf ball of radius {eps:g} (age +-{eps:g} years, counts and yes/no features "
            f"by up to {int(eps)})"
        )
        self.gap = gap

    @property
    def gap_words(self) -> str:
        """The proved relative gap of the last training MILP: "gap 0", or its value (HiGHS stops at 1e-4)."""
        if self.gap is None or self.gap <= 1e-9:
            return "gap 0"
        return f"gap {self.gap:.2g}"

    @property
    def monotone_status(self) -> str:
        statuses = {s for _, s in self.features}
        return "violated" if "violated" in statuses else "unknown" if "unknown" in statuses or not statuses else "holds"

    def words(self) -> str:
        """The training certificate in plain words (stored in the model's metadata, shown by the report)."""
        obj = "" if self.objective is None else f" (objective {self.objective:.6g})"
        if self.optimal:
            gap = (
                f"the training MILP was solved to optimality, {self.gap_words}: among the networks of this class "
                "(2 hidden ReLU units, sign class, weights and biases in [-1, 1]) that satisfy the monotonicity "
                "constraints added during training, none has a lower objective (hinge loss + 0.01 x the sum of the "
                f"absolute weights) on the {self.rows} training rows{obj}"
                + ("" if self.gap_words == "gap 0" else " by more than that relative gap")
            )
            if self.monotone_status == "holds":
                gap += (
                    "; the network is proved monotone as well, so it is the best monotone network of its class "
                    "on those rows"
                )
        else:
            gap = (
                "the training MILP stopped at the time limit with this network but without proving it the best: "
                f"its objective{obj} has no proved bound, so a network of this class with a lower objective on "
                f"the {self.rows} training rows may exist (raise --time-limit or lower --samples for a proof)"
            )
        return (
            f"certified monotonic learning on {self.rows} COMPAS rows ({self.rounds} round(s) of training "
            f"and global proof; global monotonicity {self.monotone_status}); {gap}."
        )


def _demo_domain(domain: Any) -> Any:
    """COMPAS's domain with ``age`` continuous (a superset: every proof also covers whole-year ages), so that a
    radius below 1 moves age in fractions of a year while no count or yes/no feature can change."""
    from ..domain import Domain

    integer = np.array(domain.integer, dtype=bool)
    if "age" in domain.names:
        integer[list(domain.names).index("age")] = False
    return Domain(list(domain.names), domain.lower, domain.upper, integer, domain.onehot_groups)


@click.command()
@click.option(
    "--time-limit",
    type=FINITE_POSITIVE,
    default=60.0,
    show_default=True,
    help="Seconds for training: the loop of training MILP and global monotonicity proof (the audit's "
    "checks then get 20 s per problem).",
)
@click.option(
    "--samples",
    type=click.IntRange(min=2),
    default=20,
    show_default=True,
    help="Training rows (at least 2: one of each class): few enough for the training MILP to be proved optimal "
    "(gap 0) in --time-limit.",
)
@click.option(
    "--seed",
    type=SEED,
    default=0,
    show_default=True,
    help="Seed of the held-out split (30 %) and of the training subsample.",
)
@click.option(
    "--eps",
    type=RADIUS,
    default=0.5,
    show_default=True,
    help="Robustness radius (L-inf) in the features' own units: age moves by up to eps years; below 1 "
    "no count and no yes/no feature (male, race, felony) can change.",
)
@click.option(
    "-o",
    "--output",
    default=None,
    callback=output_file(MODEL_SUFFIXES, "model files"),
    help="Where to save the trained model (.json or .onnx; default: beside the report, "
    "compas_audit.html -> compas_model.json).",
)
@click.option(
    "--report",
    default="compas_audit.html",
    show_default=True,
    callback=output_file((".html",), "reports", allow_empty=True),
    help="Where to write the audit report (.html; certificates beside it); '' for none.",
)
@click.pass_context
def demo(
    ctx: click.Context, time_limit: float, samples: int, seed: int, eps: float, output: str | None, report: str
) -> None:
    """Train a sparse network on COMPAS that is proved monotone in its four count features, verify it
    (monotonicity on the whole domain, robustness of held-out rows), explain it, write an audit report and
    save the model beside it: the whole pipeline on the default solver.

    Training is certified monotonic learning (mipnet.train.monotone_training): the training MILP, then a proof
    that the score never decreases when a count of prior offences grows (all else equal), repeated with the
    counterexamples as constraints until the proof holds. The robustness radius is in the features' own units
    (years of age; below 1 no whole-number feature can change). The last line says what was proved.

    Exit codes as audit: 0 every property holds, 1 some property is violated, 3 some verdict is undecided
    (without a report: the training loop's monotonicity proof decides)."""
    import pandas as pd

    from ..datasets import load_compas
    from ..io import save_model
    from ..train.formulation import TrainConfig
    from ..train.monotone_training import train_monotone_milp
    from .common import EXIT_OK, EXIT_UNKNOWN, EXIT_VIOLATED
    from .options import check_output_path
    from .verify import exit_code

    model_path = demo_model_path(report, output)
    if not output:
        check_output_path(model_path, MODEL_SUFFIXES, "model files")
    if report:  # before any work: the model may not be one of the report's own files (it was overwritten by one)
        from ..report.audit import CERTIFICATE_FILES, default_cert_dir

        theirs = {Path(report).resolve()} | {(Path(default_cert_dir(report)) / f).resolve() for f in CERTIFICATE_FILES}
        if Path(model_path).resolve() in theirs:
            raise click.UsageError(f"-o {model_path} is one of the report's own files: choose another model path")
    data = load_compas()
    classes = [str(c) for c in (data.class_names or ["0", "1"])]
    tr, te = data.train_test_split(test_size=0.3, random_state=seed)
    tr = tr.sample(min(samples, tr.n_rows), random_state=seed)
    X, names = tr.X_numeric()
    y = np.array([classes[int(v)] for v in tr.y.to_numpy()])  # class names, not 0/1
    domain = _demo_domain(data.domain)
    mono = list(data.monotone_increasing)
    click.echo(
        f"COMPAS two-year recidivism: {tr.n_rows} training rows, {len(names)} inputs; certified monotonic "
        f"learning (score increasing in {', '.join(mono)}): MILP with 2 hidden ReLU units (sign class), "
        f"hinge loss + L1 0.01, HiGHS, {time_limit:g} s"
    )
    res = train_monotone_milp(
        np.asarray(X, dtype=np.float64),
        y,
        task="classify",
        domain=domain,
        increasing=mono,
        config=TrainConfig(hidden=(2,), hypothesis="sign", loss="hinge", l1=0.01),
        time_limit=time_limit,
        solver="highs",
        log=click.echo,
    )
    last = res.history[-1] if res.history else {}
    feats = [(f.feature, f.status) for f in (res.certificate.features if res.certificate is not None else [])]
    training = DemoTraining(
        len(X),
        last.get("train_status") == "optimal",
        len(res.history),
        last.get("objective"),
        feats,
        eps,
        gap=last.get("gap"),
    )
    for f_name, f_status in feats:
        click.echo(f"  {f_name:24s} increasing {f_status}")
    click.echo("training: " + training.words())
    net = res.network
    net.metadata["training_summary"] = training.words()
    Xte, _ = te.X_numeric()
    te_df = pd.DataFrame(Xte, columns=names)
    y_te = [classes[int(v)] for v in te.y.to_numpy()]
    acc = float(np.mean(net.predict(te_df.to_numpy(dtype=np.float64)) == np.asarray(y_te, dtype=object)))
    click.echo(f"accuracy on the {te.n_rows} held-out rows (30 %, never seen in training): {acc:.4f}")
    from ..io.atomic import restored_on_failure

    mp = Path(model_path)
    held = mp.with_name(f"{mp.stem}_heldout.csv")  # the rows the audit's certificates are about, for their re-check
    written = False
    try:
        with restored_on_failure(mp.parent, [mp.name, held.name]):  # stopped during the audit: the earlier files
            save_model(net, model_path)  # beside the earlier run's report and certificates
            click.echo(f"wrote {model_path}")
            written = True
            if report:
                from ..io.atomic import atomic_write_bytes

                atomic_write_bytes(held, te_df.assign(**{data.target: y_te}).to_csv(index=False).encode())
                click.echo(
                    f"wrote {held} (the held-out rows: `mipnet recheck CERTIFICATE {model_path} {held}` re-checks a "
                    "certificate of the audit against them)"
                )
            a = _demo_audit(net, te, te_df, y_te, report, mono, eps, seed, model_path) if report else None
    except BaseException:  # (Ctrl-C during the audit: the "wrote" lines above no longer held, unsaid)
        if written:
            click.echo(
                f"not kept: {model_path} and {held} (stopped before the audit ended: an earlier run's files are "
                "restored, new ones removed)",
                err=True,
            )
        raise
    click.echo(demo_summary(None, a, model_path, training))
    if a is not None:
        ctx.exit(exit_code(a.verdicts))
    ctx.exit({"holds": EXIT_OK, "violated": EXIT_VIOLATED}.get(training.monotone_status, EXIT_UNKNOWN))


def _demo_audit(
    net: Any, te: Any, te_df: Any, y_te: list[str], report: str, mono: list[str], eps: float, seed: int, model_path: str
) -> Any:
    """The demo's audit of the held-out rows (its certificates written as one output)."""
    a = None
    if report:
        from ..report.audit import run_demo_audit

        click.echo(
            f"audit: monotonicity in the four prior-count features on the whole domain, robustness of 10 "
            f"held-out rows within eps = {eps:g} (L-inf, features' own units: age +-{eps:g} years"
            + (
                "; counts and yes/no features cannot change)"
                if eps < 1
                else "; WARNING: eps >= 1 lets counts move and yes/no features such as male or race flip)"
            )
            + ", local linear rules"
        )
        note = (
            f"the {te.n_rows} rows of COMPAS held out before training (30 %, split with seed {seed}): the "
            "model never saw them"
        )
        from ..io.atomic import restored_on_failure
        from ..report.audit import CERTIFICATE_FILES, default_cert_dir

        # stopped part-way: no half set of certificates
        with restored_on_failure(default_cert_dir(report), CERTIFICATE_FILES):
            a = run_demo_audit(
                net,
                te_df,
                y_te,
                report,
                increasing=mono,
                eps=eps,
                rows=10,
                time_limit=20,
                model_name=Path(model_path).name,
                data_name="COMPAS held-out rows",
                log=click.echo,
                data_note=note,
            )
    return a


COMMANDS = [demo]
