"""Certificates: one home per property.

* :mod:`.format`       the file format, independent of the kind (fields, seal, JSON, save/load, the data and
                       row records) and the registry of the kinds (:class:`Kind`, :func:`kind`)
* :mod:`.checks`       the generic re-check: the report and its checks, the time budget, the fresh-solve
                       driver, the integrity / data-hash / aggregate checks and :func:`recheck`, which
                       dispatches to the kind's re-check through the registry
* :mod:`.training`     training certificates (the objective, its terms and the proved bound)
* :mod:`.robustness`   local robustness in an eps-ball
* :mod:`.monotonicity` global and individual monotonicity
* :mod:`.resilience`   maximum resilience

Each kind module holds its certificate builder and its re-check and registers them under its kind name(s).
Layering: this package imports :mod:`mipnet.verify` and :mod:`mipnet.train` (to re-prove claims; on first use)
and is imported by :mod:`mipnet.report` and :mod:`mipnet.cli`; neither verify/ nor train/ imports it.
"""

from .checks import EXIT_CODES, Check, RecheckReport, other_solver, recheck, reproving_solver
from .format import (
    FIELDS,
    FORMAT,
    KINDS,
    VERSION,
    CertificateError,
    CertificateFile,
    Kind,
    certificate_for,
    certificate_from_dict,
    data_record,
    jsonable,
    kind,
    load_certificate,
    model_record,
    number,
    register,
    registered_kinds,
    save_certificate,
    solver_record,
)

# the kinds, in the order of KINDS: importing them registers them
from .training import training_certificate  # isort: skip
from .robustness import robustness_certificate  # isort: skip
from .monotonicity import individual_monotonicity_certificate, monotonicity_certificate  # isort: skip
from .resilience import resilience_certificate  # isort: skip

__all__ = [
    "FORMAT",
    "VERSION",
    "KINDS",
    "FIELDS",
    "CertificateError",
    "CertificateFile",
    "Kind",
    "kind",
    "register",
    "registered_kinds",
    "certificate_for",
    "certificate_from_dict",
    "load_certificate",
    "save_certificate",
    "data_record",
    "model_record",
    "solver_record",
    "jsonable",
    "number",
    "training_certificate",
    "robustness_certificate",
    "monotonicity_certificate",
    "individual_monotonicity_certificate",
    "resilience_certificate",
    "Check",
    "RecheckReport",
    "recheck",
    "other_solver",
    "reproving_solver",
    "EXIT_CODES",
]
