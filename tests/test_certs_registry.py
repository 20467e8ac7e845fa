"""The registry of certificate kinds (mipnet.certificates): every kind has a builder, a re-check and a title;
an unknown kind is refused; a certificate goes build -> save -> load -> re-check ok; the old import paths
(mipnet.report.certificates, mipnet.report.recheck, mipnet.train.certificate) are the same objects."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mipnet.certificates as certs
from mipnet.certificates import (
    KINDS,
    CertificateError,
    certificate_for,
    certificate_from_dict,
    kind,
    load_certificate,
    recheck,
    registered_kinds,
    save_certificate,
)
from mipnet.errors import MipnetError
from mipnet.verify.robustness import verify_robustness


def test_every_kind_is_registered_with_builder_recheck_and_title():
    assert registered_kinds() == KINDS
    for name in KINDS:
        k = kind(name)
        assert k.name == name
        assert callable(k.build) and callable(k.recheck) and callable(k.title)
        assert isinstance(k.title({}), str)
        assert k.results, f"{name}: no result type for certificate_for"
        # the builder and the re-check live in the kind's own module
        assert k.build.__module__ == k.recheck.__module__
        assert k.build.__module__.startswith("mipnet.certificates.")


def test_result_types_are_claimed_once():
    names = [t for n in KINDS for t, _ in kind(n).results]
    assert len(names) == len(set(names))


def test_unknown_kind_is_refused(tmp_path, dense_net):
    with pytest.raises(CertificateError, match="unknown certificate kind 'nope'"):
        kind("nope")
    X = np.zeros((1, dense_net.n_inputs))
    cert = certs.robustness_certificate(
        dense_net, X, verify_robustness(dense_net, X, 0.01, "inf", time_limit=5), eps=0.01
    )
    d = json.loads(json.dumps(cert.to_dict()))
    d["kind"] = "nope"
    with pytest.raises(CertificateError, match="unknown kind 'nope'"):
        certificate_from_dict(d)
    p = tmp_path / "nope.json"
    p.write_text(json.dumps(d))
    with pytest.raises(CertificateError, match="unknown kind"):
        load_certificate(p)
    cert.kind = "nope"  # built in memory, not read: the re-check refuses it too
    assert cert.title() == "nope"
    with pytest.raises(CertificateError, match="unknown certificate kind"):
        recheck(cert, dense_net, second_solver=None)
    with pytest.raises(MipnetError, match="no certificate format for a result of type dict"):
        certificate_for(dense_net, {"status": "optimal"})
    with pytest.raises(MipnetError, match="no certificate format for a result of type int"):
        certificate_for(dense_net, 3)


def test_robustness_round_trip(tmp_path):
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(3), [3, 4, 2])
    X = np.random.default_rng(1).uniform(-1, 1, (3, 3))
    res = verify_robustness(net, X, 0.05, "inf", time_limit=5)
    cert = certificate_for(net, res, X=X, eps=0.05)
    assert cert.kind == "robustness" and cert.title() == "robustness, L-inf eps = 0.05, 3 samples"
    back = load_certificate(save_certificate(cert, tmp_path / "rob.json"))
    assert back.to_dict() == cert.to_dict() and back.sealed()
    rep = recheck(back, net, second_solver=None, time_limit=30)
    assert rep.status == "ok", rep.lines()
    assert rep.kind == "robustness"


def test_training_round_trip(tmp_path):
    from mipnet.train import TrainConfig, train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(10, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    res = train(X, y, config=TrainConfig(hidden=(2,), l1=0.01), time_limit=5, threads=1)
    cert = certificate_for(res.network, res, target="y")
    assert cert.kind == "training" and cert.title().startswith("training (")
    assert certificate_for(res.network, res.network.metadata["certificate"], target="y").answer == cert.answer
    back = load_certificate(save_certificate(cert, tmp_path / "train.json"))
    assert back.to_dict() == cert.to_dict() and back.sealed()
    rep = recheck(back, res.network, (X, y), second_solver=None, time_limit=30)
    assert rep.status == "ok", rep.lines()
    assert any(c.name == "objective terms recomputed from weights and data" and c.outcome == "pass" for c in rep.checks)


def test_old_import_paths_are_the_same_objects():
    import importlib

    import mipnet.certificates.checks as new_recheck
    import mipnet.certificates.training as new_training
    import mipnet.report.certificates as old_certs
    import mipnet.train.certificate as old_train
    import mipnet.train.objective_check as new_train

    # (the package attribute mipnet.report.recheck is the function, as before: the module by its name)
    old_recheck = importlib.import_module("mipnet.report.recheck")

    for name in old_certs.__all__:
        assert getattr(old_certs, name) is getattr(certs.format, name, None) or name in (
            "training_certificate",
            "robustness_certificate",
            "monotonicity_certificate",
            "individual_monotonicity_certificate",
            "resilience_certificate",
            "_features_text",
            "_resilience_verdict",
        )
    assert old_certs.training_certificate is certs.training_certificate
    assert old_recheck.recheck is new_recheck.recheck is certs.recheck
    assert old_recheck._dual_claim is new_training._dual_claim
    for name in old_recheck.__all__:
        assert hasattr(old_recheck, name)
    for name in old_train.__all__:
        assert getattr(old_train, name) is getattr(new_train, name)


def test_layering_verify_and_train_do_not_import_certificates_at_module_level():
    """mipnet.certificates sits above verify/ and train/ (it imports them to re-prove claims)."""
    import ast
    from pathlib import Path

    root = Path(certs.__file__).resolve().parents[1]
    offenders = []
    for sub in ("verify", "train"):
        for path in sorted((root / sub).glob("*.py")):
            pkg = ["mipnet", sub]
            for node in ast.parse(path.read_text(encoding="utf-8")).body:  # module level only
                names: list[str] = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom):
                    base = pkg[: len(pkg) - node.level + 1] if node.level else []
                    names = [".".join(base + ([node.module] if node.module else []))]
                    names += [n + "." + a.name for n in names for a in node.names]
                if any(n == "mipnet.certificates" or n.startswith("mipnet.certificates.") for n in names):
                    offenders.append(f"{path.name}: line {node.lineno}")
    assert not offenders, offenders
