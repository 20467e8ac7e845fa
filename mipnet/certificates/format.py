"""The certificate file format, independent of the kind of claim: one JSON document per training or
verification result, and the registry of the kinds (:class:`Kind`).

A certificate states *what was asked*, *of which model and data*, *by which solver*, and *what was
answered*, so that anyone holding the model (and the data) can re-check it
(:mod:`mipnet.certificates.checks`) without trusting the solver that produced it::

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
metadata excluded). The data hash is :func:`mipnet.train.objective_check.data_hash` of the float64 feature
matrix and the labels (an empty label list when none were used). The seal is a plain content hash: it
shows an accidental or naive edit at once, but it is not a signature (whoever edits the file can
recompute it), which is why the re-check re-derives every verdict from the model: witnesses through the
forward pass, every proved claim by a fresh solve (:mod:`mipnet.certificates.checks`).

Binding to the data file. A certified sample that is a row of a data file records that row:
``data.rows`` (row indices of the file) and, per item, ``data_row`` and ``data_row_sha256``
(:func:`mipnet.train.objective_check.row_hash` of the row's own feature values), so that swapping a sample for
another point is caught against the file. A training certificate of a random subsample records
``data.rows`` (the rows trained on) and ``data.source_rows`` (the file's row count).

Non-finite numbers are written as the strings ``"inf"``, ``"-inf"``, ``"nan"`` (JSON has none).
Files are written atomically (:mod:`mipnet.io.atomic`).

Kinds. Each kind of certificate (``training``, ``robustness``, ``monotonicity``,
``monotonicity_individual``, ``resilience``) lives in its own module of :mod:`mipnet.certificates`, which
registers a :class:`Kind`: the builder of its certificates, its re-check, the one-line title of its question
and the result types :func:`certificate_for` turns into it. :func:`kind` looks a kind up; an unknown kind is
a :class:`CertificateError`. Importing any part of :mod:`mipnet.certificates` registers every kind.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from ..errors import CertificateFieldError, MipnetError
from ..io.atomic import atomic_write_text
from ..network import Network

if TYPE_CHECKING:
    from .checks import RecheckReport, _Ctx

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
    except (TypeError, ValueError, OverflowError):  # (an integer of 400 digits overflows a float)
        shown = repr(v) if len(repr(v)) <= 60 else repr(v)[:57] + "..."
        raise CertificateFieldError(f"expected a number in the certificate, found {shown}") from None


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
        """A one-line description of the question, e.g. 'robustness, L-inf eps = 0.05, 20 samples'
        (the kind's :attr:`Kind.title`; an unknown kind is described by its name)."""
        k = _REGISTRY.get(self.kind)
        return self.kind if k is None else k.title(self.question)


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
    return {
        "sha256": net.fingerprint(),
        "layers": [layer.kind for layer in net.layers],
        "features": list(net.feature_names),
        "classes": jsonable(net.class_names),
        "task": net.task,
    }


def data_record(
    X: np.ndarray, labels: Sequence[Any] | None = None, *, target: str | None = None, source: str | None = None
) -> dict[str, Any]:
    """SHA-256 of the rows used (float64 features and labels, :func:`mipnet.train.objective_check.data_hash`)."""
    from ..train.objective_check import data_hash

    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    y = np.asarray([] if labels is None else list(labels), dtype=object)
    rec: dict[str, Any] = {"sha256": data_hash(X, y), "n_rows": int(X.shape[0]), "labels": labels is not None}
    if target is not None:
        rec["target"] = target
    if source is not None:
        rec["source"] = source
    return rec


def _new(
    kind: str,
    question: dict[str, Any],
    net: Network,
    data: dict[str, Any] | None,
    solver: dict[str, Any],
    answer: dict[str, Any],
    result: Any,
) -> CertificateFile:
    q = {"domain": net.domain.to_dict(), **question}
    cert = CertificateFile(
        kind,
        jsonable(q),
        model_record(net),
        data,
        solver,
        jsonable(answer),
        jsonable(result),
        _now(),
        _mipnet_version(),
    )
    cert.seal = cert.compute_seal()
    return cert


def _bind_rows(
    items: list[dict[str, Any]], X: np.ndarray, rows: Sequence[int] | None, positions: Sequence[int] | None = None
) -> None:
    """Bind item i (the sample X[i]) to its data row: ``data_row`` and ``data_row_sha256`` (the row's values).
    ``positions``: the item's index into ``rows`` when it is not i."""
    if rows is None:
        return
    from ..train.objective_check import row_hash

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


# ============================================================================ the kinds
#: the re-check of one kind: adds its checks to the report (``Xy``: the data arrays or None)
RecheckFn = Callable[["RecheckReport", CertificateFile, Network, Any, "_Ctx"], None]


@dataclass(frozen=True)
class Kind:
    """One kind of certificate, registered by its module in :mod:`mipnet.certificates`."""

    name: str
    #: the builder of a certificate of this kind from the producing module's result
    build: Callable[..., CertificateFile]
    #: the solver-independent re-check: ``recheck(report, cert, net, Xy, ctx)``
    recheck: RecheckFn
    #: the one-line description of a question of this kind (:meth:`CertificateFile.title`)
    title: Callable[[dict[str, Any]], str]
    #: for :func:`certificate_for`: (type name of the result, or of its first element, adapter) pairs
    results: tuple[tuple[str, Callable[..., CertificateFile]], ...] = ()


_REGISTRY: dict[str, Kind] = {}


def register(k: Kind) -> Kind:
    """Register (or replace) the kind ``k.name``; returns it."""
    _REGISTRY[k.name] = k
    return k


def kind(name: str) -> Kind:
    """The registered kind ``name``; an unknown kind is a :class:`CertificateError`."""
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise CertificateError(f"unknown certificate kind {name!r} (known: {', '.join(_REGISTRY)})") from None


def registered_kinds() -> tuple[str, ...]:
    """The names of the registered kinds, in registration order (that of :data:`KINDS`)."""
    return tuple(_REGISTRY)


def certificate_for(net: Network, result: Any, **question: Any) -> CertificateFile:
    """Dispatch on the result type (a training certificate, a GlobalReport, an IndividualReport, a list of
    RobustnessResult or ResilienceResult) to the adapter a registered kind declares for it; ``question``
    carries what the result object does not record."""
    name = type(result).__name__
    if isinstance(result, (list, tuple)) and result:
        name = type(result[0]).__name__
    for k in _REGISTRY.values():
        for type_name, adapter in k.results:
            if type_name == name:
                return adapter(net, result, **question)
    raise no_certificate_format(name)


def no_certificate_format(name: str) -> MipnetError:
    """The error for a result type that no kind turns into a certificate."""
    return MipnetError(f"no certificate format for a result of type {name}")


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
        raise CertificateError(f'{where} is not a mipnet certificate (missing "format": "{FORMAT}")')
    v = d.get("version")
    if not isinstance(v, int) or isinstance(v, bool) or v < 1:
        raise CertificateError(f"{where} has an invalid version {v!r}")
    if v > VERSION:
        raise CertificateError(f"{where} has version {v}, newer than this mipnet reads ({VERSION}); upgrade mipnet")
    missing = [k for k in ("kind", "question", "model", "solver", "answer") if k not in d]
    if missing:
        raise CertificateError(f"{where} lacks the field(s) {', '.join(missing)}")
    extra = sorted(str(k) for k in d if k not in ("format", "version", "seal", *FIELDS))
    if extra:  # a field outside the seal (e.g. "verdict": "all rows violated") would be shown by no re-check
        raise CertificateError(f"{where} has field(s) a certificate does not have: {', '.join(extra[:5])}")
    if d["kind"] not in _REGISTRY:
        raise CertificateError(f"{where} has unknown kind {d['kind']!r} (known: {', '.join(_REGISTRY)})")
    for k in ("question", "model", "solver", "answer"):
        if not isinstance(d[k], dict):
            raise CertificateError(f"{where}: field {k!r} must be an object")
    if d.get("data") is not None and not isinstance(d["data"], dict):
        raise CertificateError(f"{where}: field 'data' must be an object or null")
    if not isinstance(d["model"].get("sha256"), str):
        raise CertificateError(f"{where} does not record the model's sha256")
    if not isinstance(d["answer"].get("items", []), list):
        raise CertificateError(f"{where}: answer.items must be a list")
    return CertificateFile(
        d["kind"],
        d["question"],
        d["model"],
        d.get("data"),
        d["solver"],
        d["answer"],
        d.get("result") or {},
        str(d.get("created", "")),
        str(d.get("mipnet_version", "")),
        d.get("seal"),
    )


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
    except ValueError:  # an integer past Python's 4300-digit limit
        raise CertificateError(f"{p} holds an integer too long to read (over 4300 digits)") from None
    except RecursionError:
        raise CertificateError(f"{p} nests arrays or objects too deeply to read") from None
    try:
        return certificate_from_dict(d, str(p))
    except RecursionError:
        raise CertificateError(f"{p} nests arrays or objects too deeply to read") from None


__all__ = [
    "FORMAT",
    "VERSION",
    "KINDS",
    "FIELDS",
    "CertificateFile",
    "CertificateError",
    "Kind",
    "register",
    "kind",
    "registered_kinds",
    "certificate_for",
    "save_certificate",
    "load_certificate",
    "certificate_from_dict",
    "data_record",
    "model_record",
    "solver_record",
    "jsonable",
    "number",
    "canonical",
]
