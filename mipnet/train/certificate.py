"""Re-export shim: the training certificate record and its numpy objective check live in
:mod:`mipnet.train.objective_check` (renamed so as not to collide with the certificate files of
:mod:`mipnet.certificates`). Every name, private ones included, is importable from here as before."""

from .objective_check import (
    TERMS,
    TOLERANCE,
    ZERO_ONE_TIE,
    Certificate,
    _targets,
    check_certificate,
    data_hash,
    penalty_terms,
    recompute_terms,
    row_hash,
    sample_losses,
)

__all__ = [
    "TERMS",
    "TOLERANCE",
    "ZERO_ONE_TIE",
    "Certificate",
    "_targets",
    "check_certificate",
    "data_hash",
    "penalty_terms",
    "recompute_terms",
    "row_hash",
    "sample_losses",
]
