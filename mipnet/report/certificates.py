"""Certificates as files: one JSON document per training or verification result.

A certificate states *what was asked*, *of which model and data*, *by which solver*, and *what was
answered*, so that anyone holding the model (and the data) can re-check it
(:mod:`mipnet.report.recheck`) without trusting the solver that produced it::

    {
      "format": "mipnet-certificate", "version": 1, "kind": "robustness",
      "question": {"property": ..., "features"/"eps"/"norm"/"alpha"/"k"/"output": ..., "domain": {...},
                   "samples": [[...], ...]},                 # the points asked about, when there are any
      "model":    {"sha256": Network.fingerprint(), "summary": ...},
      "data":     {"sha256": ..., "n_rows": ..., "target": ...} | null,
      "solver":   {"name": "highs", "version": "1.11.0", "options": {...}},
      "answer":   {"status": "holds" | "violated" | "unknown" | "optimal" | "feasible" | ...,
                   "incumbent": ..., "bound": ..., "gap": ..., "time": ...,
                   "items": [ {one entry per sample / feature / class, with its witness} ]},
      "result":   {the producing module's own to_dict(), kept verbatim for reports},
      "created":  "2025-...Z", "mipnet_version": "0.1.0",
      "seal":     sha256 of the canonical JSON of every other field
    }

Hashes. The model hash is :meth:`mipnet.network.Network.fingerprint` (layers, domain, shapes;
metadata excluded). The data hash is :func:`mipnet.train.certificate.data_hash` of the float64 feature
matrix and the labels (an empty label list when none were used). The seal is a plain content hash: it
shows an accidental or naive edit at once, but it is not a signature (whoever edits the file can
recompute it), which is why the re-check re-derives every verdict from the model: witnesses through the
forward pass, every proved claim by a fresh solve (:mod:`mipnet.report.recheck`).

Binding to the data file. A certified sample that is a row of a data file records that row:
``data.rows`` (row indices of the file) and, per item, ``data_row`` and ``data_row_sha256``
(:func:`mipnet.train.certificate.row_hash` of the row's own feature values), so that swapping a sample for
another point is caught against the file. A training certificate of a random subsample records
``data.rows`` (the rows trained on) and ``data.source_rows`` (the file's row count).

Non-finite numbers are written as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (JSON has none).
Files are written atomically (:mod:`mipnet.io.atomic`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import MipnetError
from ..io.atomic import atomic_write_text
from ..network import Network

FORMAT = "mipnet-certificate"
VERSION = 1
KINDS = ("training", "robustness", "monotonicity", "monotonicity_individual", "resilience")
FIELDS = ("kind", "question", "model", "data", "solver", "answer", "result", "created", "mipnet_version")
_SOLVER_PACKAGES = {"highs": "highspy", "scip": "pyscipopt", "gurobi": "gurobipy"}


class CertificateError(MipnetError):
    """A certificate file cannot be read: missing, not JSON, not a certificate, or malformed."""


# ============================================================================ JSON helpers
def jsonable(o: Any) -> Any:
    """``o`` as plain JSON values: numpy scalars and arrays, dataclasses, non-finite floats as strings."""
    if is_dataclass(o) and not isinstance(o, type):
        return jsonable(o.to_dict() if hasattr(o, "to_dict") else asdict(o))
    if isinstance(o, dict):
        return {str(k): jsonable(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [jsonable(v) for v in o]
    if isinstance(o, np.ndarray):
        return jsonable(o.tolist())
    if isinstance(o, (bool, np.bool_)):
        return bool(o)
    if isinstance(o, (int, np.integer)):
        return int(o)
    if isinstance(o, (float, np.floating)):
        v = float(o)
        return v if math.isfinite(v) else str(v)
    if o is None or isinstance(o, str):
        return o
    return str(o)


def number(v: Any) -> float | None:
    """A float from a certificate field (``None`` stays ``None``; "inf"/"-inf"/"nan" strings are decoded)."""
    if v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise CertificateError(f"expected a number in the certificate, found {v!r}") from None


def canonical(d: dict[str, Any]) -> str:
    return json.dumps(d, sort_keys=True, separators=(",", ":"), allow_nan=False)


# ============================================================================ the certificate
@dataclass
class CertificateFile:
    """One certificate (see the module docstring for the fields)."""

    kind: str
    question: dict[str, Any]
    model: dict[str, Any]
    data: dict[str, Any] | None
    solver: dict[str, Any]
    answer: dict[str, Any]
    result: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    mipnet_version: str = ""
    seal: str | None = None

    def body(self) -> dict[str, Any]:
        """Every field but the seal, as plain JSON values."""
        return jsonable({k: getattr(self, k) for k in FIELDS})

    def compute_seal(self) -> str:
        return hashlib.sha256(canonical(self.body()).encode()).hexdigest()

    def sealed(self) -> bool:
        return self.seal is not None and self.seal == self.compute_seal()

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, **self.body(), "seal": self.compute_seal()}

    @property
    def status(self) -> str:
        return str(self.answer.get("status", "unknown"))

    @property
    def model_sha256(self) -> str:
        return str(self.model.get("sha256", ""))

    def title(self) -> str:
        """A one-line description of the question, e.g. 'robustness, L-inf eps = 0.05, 20 samples'."""
        q = self.question
        if self.kind == "training":
            return f"training ({q.get('hypothesis')}, {q.get('loss')} loss, N = {q.get('n_samples')})"
        if self.kind == "robustness":
            norm = "L-inf" if q.get("norm") == "inf" else "L1"
            return f"robustness, {norm} eps = {q.get('eps')}, {len(q.get('samples') or [])} samples"
        if self.kind == "monotonicity":
            return f"global monotonicity of the {q.get('output_description', 'output')} ({_features_text(q)})"
        if self.kind == "monotonicity_individual":
            return f"individual monotonicity at {len(q.get('samples') or [])} points ({_features_text(q)})"
        if self.kind == "resilience":
            return f"maximum resilience, alpha = {q.get('alpha')}, k = {q.get('k')}, L{q.get('norm')} norm"
        return self.kind


def _features_text(q: dict[str, Any]) -> str:
    parts = []
    if q.get("increasing"):
        parts.append("increasing in " + ", ".join(q["increasing"]))
    if q.get("decreasing"):
        parts.append("decreasing in " + ", ".join(q["decreasing"]))
    return "; ".join(parts)


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _mipnet_version() -> str:
    from .. import __version__

    return __version__


def solver_record(name: str, version: str | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Solver name, version (from the result when known, else the installed package) and options."""
    if not version or version == "unknown":
        pkg = _SOLVER_PACKAGES.get(name)
        version = "unknown"
        if pkg is not None:
            from importlib import metadata

            try:
                version = f"{metadata.version(pkg)} ({pkg})"
            except metadata.PackageNotFoundError:
                version = f"not installed ({pkg})"
    return {"name": name, "version": version, "options": jsonable(options or {})}


def model_record(net: Network) -> dict[str, Any]:
    return {"sha256": net.fingerprint(), "layers": [layer.kind for layer in net.layers],
            "features": list(net.feature_names), "classes": jsonable(net.class_names), "task": net.task}


def data_record(X: np.ndarray, labels: Sequence[Any] | None = None, *, target: str | None = None,
                source: str | None = None) -> dict[str, Any]:
    """SHA-256 of the rows used (float64 features and labels, :func:`mipnet.train.certificate.data_hash`)."""
    from ..train.certificate import data_hash

    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    y = np.asarray([] if labels is None else list(labels), dtype=object)
    rec: dict[str, Any] = {"sha256": data_hash(X, y), "n_rows": int(X.shape[0]), "labels": labels is not None}
    if target is not None:
        rec["target"] = target
    if source is not None:
        rec["source"] = source
    return rec


def _new(kind: str, question: dict[str, Any], net: Network, data: dict[str, Any] | None, solver: dict[str, Any],
         answer: dict[str, Any], result: Any) -> CertificateFile:
    q = {"domain": net.domain.to_dict(), **question}
    cert = CertificateFile(kind, jsonable(q), model_record(net), data, solver, jsonable(answer), jsonable(result),
                           _now(), _mipnet_version())
    cert.seal = cert.compute_seal()
    return cert


def _bind_rows(items: list[dict[str, Any]], X: np.ndarray, rows: Sequence[int] | None,
               positions: Sequence[int] | None = None) -> None:
    """Bind item i (the sample X[i]) to its data row: ``data_row`` and ``data_row_sha256`` (the row's values).
    ``positions``: the item's index into ``rows`` when it is not i."""
    if rows is None:
        return
    from ..train.certificate import row_hash

    rows = [int(r) for r in rows]
    for i, it in enumerate(items):
        p = int(positions[i]) if positions is not None else i
        if not 0 <= p < len(rows):
            raise MipnetError(f"{len(rows)} data rows for sample {p}")
        it["data_row"] = rows[p]
        it["data_row_sha256"] = row_hash(X[i])


def _aggregate(statuses: Sequence[str]) -> str:
    if any(s in ("violated", "counterexample") for s in statuses):
        return "violated"
    if any(s == "unknown" for s in statuses):
        return "unknown"
    return "holds"


# ============================================================================ adapters, one per result type
def training_certificate(net: Network, cert: Any, *, target: str | None = None,
                         source: str | None = None) -> CertificateFile:
    """From a :class:`mipnet.train.Certificate` (or its dict, e.g. ``net.metadata['certificate']``)."""
    d = cert.to_dict() if hasattr(cert, "to_dict") else dict(cert)
    question = {"property": "training objective", "hypothesis": d.get("hypothesis"), "loss": d.get("loss"),
                "margin": d.get("margin"), "coefficients": d.get("coefficients"), "task": d.get("task"),
                "classes": d.get("classes"), "n_samples": d.get("n_samples"),
                "config": (d.get("formulation") or {}).get("config")}
    data = {"sha256": d.get("data_sha256"), "n_rows": d.get("n_samples"), "labels": True}
    if d.get("rows") is not None:  # a random subsample of the data file: its rows
        data["rows"] = [int(i) for i in d["rows"]]
        data["source_rows"] = d.get("source_rows")
    if target is not None:
        data["target"] = target
    if source is not None:
        data["source"] = source
    answer: dict[str, Any] = {"status": d.get("status"), "incumbent": d.get("incumbent"), "bound": d.get("bound"),
              "gap": d.get("gap"), "time": d.get("wall_time"), "terms": d.get("terms"),
              "items": [], "witness": "the model's weights (model sha256)"}
    solver = solver_record(str(d.get("solver", "highs")), d.get("solver_version"),
                           {"mip_gap": (d.get("formulation") or {}).get("mip_gap")})
    return _new("training", question, net, data, solver, answer, d)


def robustness_certificate(net: Network, X: np.ndarray, results: Sequence[Any], *, eps: float, norm: str = "inf",
                           labels: Sequence[Any] | None = None, solver: str = "highs",
                           options: dict[str, Any] | None = None, target: str | None = None,
                           source: str | None = None, rows: Sequence[int] | None = None) -> CertificateFile:
    """From the :class:`mipnet.verify.robustness.RobustnessResult` list of the rows of ``X``
    (``rows``: their row numbers in the data file, so that the file's hash can be re-checked)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    if len(results) != X.shape[0]:
        raise MipnetError(f"{len(results)} robustness results for {X.shape[0]} samples")
    items = []
    for r in results:
        items.append({"index": int(r.index), "class": int(r.cls), "label": r.label, "verdict": r.verdict,
                      "margin": r.margin, "bound": r.bound, "status": r.status,
                      "counterexample": r.counterexample, "adversarial_class": r.adversarial_class,
                      "margin_forward": r.margin_forward, "time": r.time, "reason": r.reason})
    _bind_rows(items, X, rows)
    bounds = [r.bound for r in results if r.bound is not None]
    answer = {"status": _aggregate([r.verdict for r in results]), "incumbent": None,
              "bound": min(bounds) if bounds else None, "gap": None,
              "time": float(sum(r.time for r in results)), "items": items,
              "counts": {v: sum(r.verdict == v for r in results) for v in ("holds", "violated", "unknown")}}
    question = {"property": "local robustness", "eps": float(eps), "norm": str(norm),
                "classes_defended": "labels" if labels is not None else "predicted",
                "samples": X, "sample_classes": [int(r.cls) for r in results]}
    data = data_record(X, labels, target=target, source=source)
    if rows is not None:
        data["rows"] = [int(i) for i in rows]
    return _new("robustness", question, net, data, solver_record(solver, None, options),
                answer, [r.to_dict() for r in results])


def monotonicity_certificate(net: Network, report: Any, *, increasing: Sequence[str] = (),
                             decreasing: Sequence[str] = (), output: int | str | None = None,
                             versus: int | str | None = None) -> CertificateFile:
    """From a :class:`mipnet.verify.monotonic.GlobalReport` (global monotonicity, per feature)."""
    items, versions = [], []
    for f in report.features:
        s = f.solver or {}
        if s.get("solver_version"):
            versions.append((s.get("solver"), s.get("solver_version")))
        items.append({"feature": f.feature, "direction": f.direction, "verdict": f.status, "how": f.how,
                      "min_derivative": f.min_derivative, "bound": f.bound, "witness": f.witness,
                      "time": f.solve_time, "note": f.note})
    opts = dict(report.options)
    name = str(opts.get("solver", "highs"))
    version = next((v for n, v in versions if n == name), None)
    proved = [f.bound for f in report.features if f.bound is not None]
    answer = {"status": report.status, "incumbent": None, "bound": min(proved) if proved else None, "gap": None,
              "time": float(report.build_time + sum(f.solve_time for f in report.features)), "items": items}
    question = {"property": "global monotonicity", "mode": report.mode, "increasing": list(increasing),
                "decreasing": list(decreasing), "output": output, "versus": versus,
                "output_description": report.output}
    return _new("monotonicity", question, net, None, solver_record(name, version, opts), answer, report.to_dict())


def individual_monotonicity_certificate(net: Network, X: np.ndarray, report: Any, *, increasing: Sequence[str] = (),
                                        decreasing: Sequence[str] = (), output: int | str | None = None,
                                        versus: int | str | None = None, solver: str = "highs",
                                        options: dict[str, Any] | None = None,
                                        rows: Sequence[int] | None = None) -> CertificateFile:
    """From a :class:`mipnet.verify.monotonic.IndividualReport` at the rows of ``X`` (``rows``: their row
    numbers in the data file; item ``row`` is the position in ``X``)."""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    items = [{"row": p.row, "verdict": "violated" if p.status == "counterexample" else p.status, "f_x": p.f_x,
              "f_best": p.f_best, "bound": p.bound, "x_prime": p.x_prime, "time": p.solve_time}
             for p in report.points]
    _bind_rows(items, X[[int(it["row"]) for it in items]] if items else X[:0], rows, [it["row"] for it in items])
    answer = {"status": report.status, "incumbent": None, "bound": None, "gap": None,
              "time": float(sum(p.solve_time for p in report.points)), "items": items,
              "fraction_counterexamples": report.fraction_counterexamples}
    question = {"property": "individual monotonicity", "increasing": list(increasing),
                "decreasing": list(decreasing), "output": output, "versus": versus,
                "output_description": report.output, "samples": X}
    data = data_record(X)
    if rows is not None:
        data["rows"] = [int(i) for i in rows]
    return _new("monotonicity_individual", question, net, data, solver_record(solver, None, options),
                answer, report.to_dict())


def resilience_certificate(net: Network, results: Sequence[Any], *, samples: np.ndarray | None = None
                           ) -> CertificateFile:
    """From :class:`mipnet.verify.resilience.ResilienceResult` objects (one per class, same alpha, k, norm)."""
    if not results:
        raise MipnetError("no resilience results to certify")
    r0 = results[0]
    items = []
    for r in results:
        items.append({"class": int(r.cls), "class_name": r.class_name, "kind": r.kind, "status": r.status,
                      "verdict": _resilience_verdict(r), "phi": r.phi, "bound": r.bound, "gap": r.gap,
                      "a": r.a, "b": r.b, "witness_check": r.witness, "delta": r.delta,
                      "local_verdict": r.verdict, "time": r.timings.get("total"), "notes": r.notes})
    phis = [r.phi for r in results if r.phi is not None]
    bounds = [r.bound for r in results]
    s0 = r0.solver or {}
    name = str(s0.get("solver") or "highs")
    answer: dict[str, Any] = {"status": _aggregate([it["verdict"] for it in items]),
              "incumbent": min(phis) if phis else None,
              "bound": min(bounds) if bounds and all(b is not None for b in bounds) else None,
              "gap": None, "time": float(sum(r.timings.get("total", 0.0) for r in results)), "items": items}
    if answer["incumbent"] is not None and answer["bound"] is not None:
        inc, bnd = answer["incumbent"], answer["bound"]
        answer["gap"] = max(0.0, inc - bnd) / max(abs(inc), 1e-10)
    question = {"property": "maximum resilience", "kind": r0.kind, "alpha": r0.alpha, "k": r0.k, "norm": r0.norm,
                "classes": [int(r.cls) for r in results], "heuristics": r0.heuristics}
    data = None
    if samples is not None:
        question["samples"] = np.atleast_2d(np.asarray(samples, dtype=np.float64))
        data = data_record(question["samples"])
    return _new("resilience", question, net, data, solver_record(name, s0.get("solver_version"), s0.get("options")),
                answer, [r.to_dict() for r in results])


def _resilience_verdict(r: Any) -> str:
    """'holds' when Phi is proved (optimal, or no strongly classified input), 'unknown' otherwise."""
    if r.status in ("optimal", "infeasible"):
        return "holds"
    return "unknown"


def certificate_for(net: Network, result: Any, **question: Any) -> CertificateFile:
    """Dispatch on the result type (a training certificate, a GlobalReport, an IndividualReport, a list of
    RobustnessResult or ResilienceResult); ``question`` carries what the result object does not record."""
    name = type(result).__name__
    if isinstance(result, (list, tuple)) and result:
        name = type(result[0]).__name__
    if name == "Certificate" or (isinstance(result, dict) and "data_sha256" in result):
        return training_certificate(net, result, **question)
    if name == "TrainResult":
        return training_certificate(net, result.certificate, **question)
    if name == "GlobalReport":
        return monotonicity_certificate(net, result, **question)
    if name == "IndividualReport":
        return individual_monotonicity_certificate(net, question.pop("X"), result, **question)
    if name == "RobustnessResult":
        return robustness_certificate(net, question.pop("X"), result, **question)
    if name == "ResilienceResult":
        return resilience_certificate(net, result, **question)
    raise MipnetError(f"no certificate format for a result of type {name}")


# ============================================================================ files
def save_certificate(cert: CertificateFile, path: str | os.PathLike[str]) -> Path:
    """Write ``cert`` (sealed) atomically; returns the path."""
    p = Path(path)
    try:
        text = json.dumps(cert.to_dict(), indent=1, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise CertificateError(f"the certificate cannot be written as JSON: {exc}") from None
    atomic_write_text(p, text + "\n")
    return p


def certificate_from_dict(d: Any, where: str = "the certificate") -> CertificateFile:
    """Validate and build; every problem is one :class:`CertificateError` line."""
    if not isinstance(d, dict):
        raise CertificateError(f"{where} is not a JSON object")
    if d.get("format") != FORMAT:
        raise CertificateError(f"{where} is not a mipnet certificate (missing \"format\": \"{FORMAT}\")")
    v = d.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise CertificateError(f"{where} has an invalid version {v!r}")
    if v > VERSION:
        raise CertificateError(f"{where} has version {v}, newer than this mipnet reads ({VERSION}); upgrade mipnet")
    missing = [k for k in ("kind", "question", "model", "solver", "answer") if k not in d]
    if missing:
        raise CertificateError(f"{where} lacks the field(s) {', '.join(missing)}")
    if d["kind"] not in KINDS:
        raise CertificateError(f"{where} has unknown kind {d['kind']!r} (known: {', '.join(KINDS)})")
    for k in ("question", "model", "solver", "answer"):
        if not isinstance(d[k], dict):
            raise CertificateError(f"{where}: field {k!r} must be an object")
    if d.get("data") is not None and not isinstance(d["data"], dict):
        raise CertificateError(f"{where}: field 'data' must be an object or null")
    if not isinstance(d["model"].get("sha256"), str):
        raise CertificateError(f"{where} does not record the model's sha256")
    if not isinstance(d["answer"].get("items", []), list):
        raise CertificateError(f"{where}: answer.items must be a list")
    return CertificateFile(d["kind"], d["question"], d["model"], d.get("data"), d["solver"], d["answer"],
                           d.get("result") or {}, str(d.get("created", "")), str(d.get("mipnet_version", "")),
                           d.get("seal"))


def load_certificate(path: str | os.PathLike[str]) -> CertificateFile:
    """Read a certificate file (clear :class:`CertificateError` for every kind of bad file)."""
    p = Path(path)
    if not p.is_file():
        raise CertificateError(f"certificate file not found: {p}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CertificateError(f"cannot read {p}: {exc}") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CertificateError(f"{p} is not valid JSON (line {exc.lineno}: {exc.msg})") from None
    return certificate_from_dict(d, str(p))


__all__ = ["CertificateFile", "CertificateError", "training_certificate", "robustness_certificate",
           "monotonicity_certificate", "individual_monotonicity_certificate", "resilience_certificate",
           "certificate_for", "save_certificate", "load_certificate", "certificate_from_dict", "data_record",
           "model_record", "solver_record", "jsonable", "number", "KINDS"]
