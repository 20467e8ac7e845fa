"""The auditor's workflow: certificates as files (:mod:`.certificates`), their solver-independent
re-check (:mod:`.recheck`) and the self-contained HTML audit report (:mod:`.audit`)."""

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
    "CertificateError", "CertificateFile", "certificate_for", "load_certificate", "save_certificate",
    "training_certificate", "robustness_certificate", "monotonicity_certificate", "resilience_certificate",
    "Check", "RecheckReport", "recheck",
]
