"""The auditor's workflow: the self-contained HTML audit report (:mod:`.audit`) over certificates as files
and their solver-independent re-check, which live in :mod:`mipnet.certificates` (one module per kind;
:mod:`.certificates` and :mod:`.recheck` here re-export them under their old import paths)."""

from .certificates import (
    CertificateError,
    CertificateFile,
    certificate_for,
    load_certificate,
    monotonicity_certificate,
    resilience_certificate,
    robustness_certificate,
    save_certificate,
    training_certificate,
)
from .recheck import Check, RecheckReport, recheck

__all__ = [
    "CertificateError",
    "CertificateFile",
    "certificate_for",
    "load_certificate",
    "save_certificate",
    "training_certificate",
    "robustness_certificate",
    "monotonicity_certificate",
    "resilience_certificate",
    "Check",
    "RecheckReport",
    "recheck",
]
