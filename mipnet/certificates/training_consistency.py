"""The facts a training certificate repeats (question, answer, result, data record, formulation) agree, and the
objective it is scored with is the one its configuration describes (what the re-proof solves)."""

from __future__ import annotations

from typing import Any

from .checks import RecheckReport, _close
from .format import CertificateFile, number


def _training_consistency(rep: RecheckReport, cert: CertificateFile) -> None:
    """The facts the file repeats (question, answer, result, data record, formulation) must agree."""
    q, a, res, rec = cert.question, cert.answer, cert.result or {}, cert.data or {}
    qcfg = q.get("config")
    cfg: dict[str, Any] = qcfg if isinstance(qcfg, dict) else {}
    bad = []

    def same(what: str, *vals: Any) -> None:
        vals = tuple(v for v in vals if v is not None)
        if not vals:
            return
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
            ok = all(_close(float(v), float(vals[0]), 1e-12) for v in vals)
        else:
            ok = all(v == vals[0] for v in vals)
        if not ok:
            bad.append(f"{what}: {' vs '.join(repr(v) for v in vals)}")

    same("hypothesis", q.get("hypothesis"), res.get("hypothesis"), cfg.get("hypothesis"))
    same("loss", q.get("loss"), res.get("loss"), cfg.get("loss"))
    same("margin", q.get("margin"), res.get("margin"), cfg.get("margin"))
    same("task", q.get("task"), res.get("task"))
    same("classes", q.get("classes"), res.get("classes"))
    same("N", q.get("n_samples"), res.get("n_samples"), rec.get("n_rows"))
    same("data sha256", rec.get("sha256"), res.get("data_sha256"))
    same("rows", rec.get("rows"), res.get("rows"))
    same("source rows", rec.get("source_rows"), res.get("source_rows"))
    same("status", a.get("status"), res.get("status"))
    fcfg = (res.get("formulation") or {}).get("config") if isinstance(res.get("formulation"), dict) else None
    if res and q.get("config") != fcfg:  # (one of them missing is a difference too)
        keys = sorted(k for k in set(cfg) | set(fcfg) if cfg.get(k) != fcfg.get(k)) if isinstance(fcfg, dict) else []
        bad.append(f"configuration of the question and of the formulation differ ({', '.join(keys[:4]) or 'type'})")
    qc, rc = q.get("coefficients") or {}, res.get("coefficients") or {}
    for k in sorted(set(qc) | set(rc) | ({"l1", "l2", "l0", "neuron_penalty", "layer_penalty"} & set(cfg))):
        same(f"coefficient {k}", qc.get(k), rc.get(k), cfg.get(k))
    # what the objective is scored with (the coefficients, a missing one counting 0, and the loss) is what the
    # re-proof solves (the configuration): an l1 or a loss deleted from both places above was never compared, and
    # a bound of the objective with l1 re-checked OK for the objective without it
    for k in sorted({"l1", "l2", "l0", "neuron_penalty", "layer_penalty"} & set(cfg)):
        for where, coef in (("question", qc), ("result", rc if res else None)):
            if coef is not None and not _close(float(number(coef.get(k)) or 0.0), float(number(cfg[k]) or 0.0), 1e-12):
                bad.append(f"coefficient {k} of the {where}: {coef.get(k)!r}, the configuration's {cfg[k]!r}")
    if "loss" in cfg:
        for where, rec_loss in (("question", q.get("loss")), ("result", res.get("loss") if res else cfg["loss"])):
            if rec_loss != cfg["loss"]:
                bad.append(f"loss of the {where}: {rec_loss!r}, the configuration's {cfg['loss']!r}")
    for k in ("incumbent", "bound", "gap"):
        same(k, number(a.get(k)), number(res.get(k)))
    at, rt = a.get("terms") or {}, res.get("terms") or {}
    if res and set(at) != set(rt):
        bad.append(f"terms: {sorted(at)} vs {sorted(rt)}")
    else:
        for k in at:
            same(f"term {k}", number(at.get(k)), number(rt.get(k)))
    rep.add("question, answer and record agree", "integrity", not bad, "; ".join(bad[:4]) if bad else "")
