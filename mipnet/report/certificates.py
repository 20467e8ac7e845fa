"""Re-export shim: certificates as files live in :mod:`mipnet.certificates` (the kind-independent format in
:mod:`mipnet.certificates.format`, one builder per kind in its module: :mod:`~mipnet.certificates.training`,
:mod:`~mipnet.certificates.robustness`, :mod:`~mipnet.certificates.monotonicity`,
:mod:`~mipnet.certificates.resilience`). Every name this module had, private ones included, is importable
from here as before."""

from ..certificates.format import (
    _SOLVER_PACKAGES,
    FIELDS,
    FORMAT,
    KINDS,
    VERSION,
    CertificateError,
    CertificateFile,
    _aggregate,
    _bind_rows,
    _mipnet_version,
    _new,
    _now,
    canonical,
    certificate_for,
    certificate_from_dict,
    data_record,
    jsonable,
    load_certificate,
    model_record,
    number,
    save_certificate,
    solver_record,
)
from ..certificates.monotonicity import _features_text, individual_monotonicity_certificate, monotonicity_certificate
from ..certificates.resilience import _resilience_verdict, resilience_certificate
from ..certificates.robustness import robustness_certificate
from ..certificates.training import training_certificate

__all__ = [
    "CertificateFile",
    "CertificateError",
    "training_certificate",
    "robustness_certificate",
    "monotonicity_certificate",
    "individual_monotonicity_certificate",
    "resilience_certificate",
    "certificate_for",
    "save_certificate",
    "load_certificate",
    "certificate_from_dict",
    "data_record",
    "model_record",
    "solver_record",
    "jsonable",
    "number",
    "KINDS",
    # not in the public list before, importable as before
    "FORMAT",
    "VERSION",
    "FIELDS",
    "canonical",
    "_SOLVER_PACKAGES",
    "_aggregate",
    "_bind_rows",
    "_mipnet_version",
    "_new",
    "_now",
    "_features_text",
    "_resilience_verdict",
]
