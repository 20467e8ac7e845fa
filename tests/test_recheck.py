"""Re-checking certificates: honest ones pass; tampered files, other models/data, false witnesses and
false bounds fail; a second solver re-solves the proofs; the recheck command's exit codes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from mipnet.cli import cli
from mipnet.cli.audit import COMMANDS
from mipnet.io import save_model
from mipnet.report.certificates import (
    certificate_from_dict,
    load_certificate,
    monotonicity_certificate,
    resilience_certificate,
    robustness_certificate,
    save_certificate,
    training_certificate,
)
from mipnet.report.recheck import recheck
from mipnet.solve import available_solvers
from mipnet.verify.monotonic import verify_global
from mipnet.verify.resilience import class_resilience
from mipnet.verify.robustness import verify_robustness

for _cmd in COMMANDS:
    if _cmd.name not in cli.commands:
        cli.add_command(_cmd)

HAS_SCIP = "scip" in available_solvers()


def _edited(cert, edit, reseal=True):
    """A copy of ``cert`` edited by ``edit(dict)``; resealed (a careful forger) unless told otherwise."""
    d = json.loads(json.dumps(cert.to_dict()))
    edit(d)
    c = certificate_from_dict(d)
    if reseal:
        c.seal = c.compute_seal()
    return c


def _failed(rep, name_part):
    return [c for c in rep.checks if c.outcome == "fail" and name_part in c.name]


@pytest.fixture(scope="module")
def rob(request):
    from helpers import random_dense_net

    net = random_dense_net(np.random.default_rng(3), [4, 5, 3, 1])
    X = np.random.default_rng(1).uniform(-1, 1, (6, 4))
    res = verify_robustness(net, X, 0.1, "inf", time_limit=5)
    return net, X, res, robustness_certificate(net, X, res, eps=0.1)


def test_honest_robustness_certificate_passes_with_second_solver(rob):
    net, X, res, cert = rob
    rep = recheck(cert, net, second_solver="auto" if HAS_SCIP else None)
    assert rep.status == "ok", rep.lines()
    assert rep.exit_code == 0
    n_viol = sum(r.verdict == "violated" for r in res)
    assert n_viol >= 1 and len([c for c in rep.checks if "counterexample changes the class" in c.name]) == n_viol
    agree = [c for c in rep.checks if c.category == "solver"]  # re-proved by SCIP, or HiGHS on a fresh build
    assert len(agree) == sum(r.verdict == "holds" for r in res) and all(c.outcome == "pass" for c in agree)


def test_certificate_for_another_model(rob, dense_net):
    net, X, res, cert = rob
    other = dense_net.copy()
    other.layers[0].weight[0, 0] += 1e-3
    rep = recheck(cert, other, second_solver=None)
    assert rep.status == "failed" and rep.problems() == ["certificate for another model"]
    assert rep.exit_code == 1


def test_edit_without_reseal_is_tampering(rob):
    net, X, res, cert = rob
    c = _edited(cert, lambda d: d["answer"].update(bound=123.0), reseal=False)
    rep = recheck(c, net, second_solver=None)
    assert _failed(rep, "content seal")
    assert any(p.startswith("tampered") for p in rep.problems())


def test_edited_verdict_is_caught_even_when_resealed(rob):
    net, X, res, cert = rob
    j = next(i for i, r in enumerate(res) if r.verdict == "violated")

    def flip(d):  # claim robustness for a sample that has a counterexample, hide it, keep the aggregate tidy
        it = d["answer"]["items"][j]
        it.update(verdict="holds", counterexample=None, bound=0.5)
        d["answer"]["status"] = "holds" if all(i["verdict"] == "holds" for i in d["answer"]["items"]) else "violated"

    c = _edited(cert, flip)
    rep = recheck(c, net, second_solver="auto" if HAS_SCIP else None)
    assert rep.status == "failed"
    assert _failed(rep, f"sample {j}: bound <= margin")  # 0.5 exceeds the margin at the sample itself
    assert _failed(rep, f"sample {j}: holds, re-proved")  # and the fresh solve finds a counterexample


def test_edited_witness_and_verdict_mismatch(rob):
    net, X, res, cert = rob
    j = next(i for i, r in enumerate(res) if r.verdict == "violated")
    c = _edited(cert, lambda d: d["answer"]["items"][j].update(counterexample=X[j].tolist()))
    rep = recheck(c, net, second_solver=None)
    bad = _failed(rep, f"sample {j}: counterexample")
    assert bad and "keeps class" in bad[0].detail
    c2 = _edited(cert, lambda d: d["answer"].update(status="holds"))
    rep2 = recheck(c2, net, second_solver=None)
    assert _failed(rep2, "verdict consistent")


def test_monotonicity_witness_and_false_holds(dense_net):
    rep0 = verify_global(dense_net, increasing=["x0"], decreasing=["x1"], time_limit=10)
    assert [f.status for f in rep0.features] == ["violated", "violated"]
    cert = monotonicity_certificate(dense_net, rep0, increasing=["x0"], decreasing=["x1"])
    ok = recheck(cert, dense_net, second_solver=None)
    assert ok.status == "ok", ok.lines()

    def move(d):
        d["answer"]["items"][0]["witness"]["x_prime"][1] += 0.3  # the pair now differs in another feature

    assert _failed(recheck(_edited(cert, move), dense_net, second_solver=None), "x0: witness pair")

    def claim_holds(d):
        for it in d["answer"]["items"]:
            it.update(verdict="holds", witness=None, bound=0.0)
        d["answer"]["status"] = "holds"

    rep = recheck(_edited(cert, claim_holds), dense_net, second_solver="auto" if HAS_SCIP else None)
    assert _failed(rep, "x0: 2000 random secants") and _failed(rep, "x1: 2000 random secants")
    assert _failed(rep, "x0: increasing, re-proved")

    def record_says_holds(d):  # the verifier's own record kept in the file, rewritten: its PASS line compared nothing
        d["result"]["features"][0].update(status="holds", bound=0.5, min_derivative=0.5, witness=None)

    rep = recheck(_edited(cert, record_says_holds), dense_net, second_solver=None, reprove=False)
    (chk,) = _failed(rep, "the result record")
    assert "item 0: verdict 'violated', the result record's status 'holds'" in chk.detail


def test_resilience_witness_and_second_solver(multiclass_net):
    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    assert r.status == "optimal" and r.phi > 0
    cert = resilience_certificate(multiclass_net, [r])
    rep = recheck(cert, multiclass_net, second_solver="auto" if HAS_SCIP else None, time_limit=20)
    assert rep.status == "ok", rep.lines()
    if HAS_SCIP:
        assert any(c.category == "solver" and c.outcome == "pass" for c in rep.checks)
    lower = _edited(cert, lambda d: d["answer"]["items"][0].update(phi=r.phi * 0.5, bound=r.phi * 0.5))
    rep2 = recheck(lower, multiclass_net, second_solver="auto" if HAS_SCIP else None, time_limit=20)
    bad = _failed(rep2, "witness pair")
    assert bad and "Phi" in bad[0].detail
    assert _failed(rep2, "re-proved by a fresh solve")


def test_the_recheck_takes_no_process_count_or_bound_seconds_from_the_certificate(multiclass_net, monkeypatch):
    """An edited heuristics record ("processes": 100000) reached the bound tightening's process pool."""
    import mipnet.verify.resilience.model as res_model

    seen = []
    real = res_model.compute_bounds
    monkeypatch.setattr(res_model, "compute_bounds", lambda *a, **kw: seen.append(kw) or real(*a, **kw))
    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    cert = resilience_certificate(multiclass_net, [r])
    greedy = {"processes": 100000, "bound_time": 1e9, "lookback": 10**6, "mip_bounds": True, "robust": "yes"}
    edited = _edited(cert, lambda d: d["question"]["heuristics"].update(greedy))
    seen.clear()
    rep = recheck(edited, multiclass_net, time_limit=20)
    assert seen and all(kw["processes"] == 1 and kw["time_limit_per_neuron"] <= 1.0 for kw in seen)
    assert all(kw["lookback"] <= 2 for kw in seen)
    assert not _failed(rep, "re-proved")


@pytest.mark.parametrize("value", ["nan", "inf", float("nan")])
def test_a_witness_coordinate_that_is_no_number_is_refuted_not_an_input_error(multiclass_net, value):
    """A witness "nan" reached the forward pass's input check: the re-check ended as an input error (exit 2), not
    FAILED."""
    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    cert = resilience_certificate(multiclass_net, [r])
    edited = _edited(cert, lambda d: d["answer"]["items"][0]["a"].__setitem__(0, value), reseal=isinstance(value, str))
    rep = recheck(edited, multiclass_net, time_limit=20)
    assert rep.status == "failed"
    assert any("NaN or inf" in c.detail for c in _failed(rep, "fields readable"))


@pytest.mark.parametrize(
    "field, value",
    [("norm", "2"), ("norm", None), ("k", 0), ("k", -1), ("k", 1.5), ("k", 3), ("alpha", "x"), ("alpha", 0.5)],
)
def test_resilience_question_is_read_as_the_verifier_reads_it(multiclass_net, field, value):
    """alpha, k and the norm of a resilience question must be values the verifier accepts: with k = -1 every pair
    "reaches k classes" and with norm "2" the distance was silently an L1 one, so both re-checked OK."""
    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    cert = resilience_certificate(multiclass_net, [r])
    rep = recheck(_edited(cert, lambda d: d["question"].update({field: value})), multiclass_net, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()


def test_a_summary_figure_that_is_not_a_number_is_a_failed_check(multiclass_net):
    """A gap of "zz" printed "expected a number" and exited 2 (a usage error) instead of refuting the file."""
    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    cert = resilience_certificate(multiclass_net, [r])
    rep = recheck(_edited(cert, lambda d: d["answer"].update(gap="zz")), multiclass_net, time_limit=20)
    assert rep.status == "failed" and rep.exit_code == 1, rep.lines()


@pytest.fixture(scope="module")
def trained():
    from mipnet.train import TrainConfig, train

    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 3))
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(int)
    res = train(X, y, config=TrainConfig(hidden=(2,), l1=0.01), time_limit=5, threads=1)
    return res.network, X, y, training_certificate(res.network, res.network.metadata["certificate"], target="y")


def test_training_certificate_recomputed_and_tampered(trained):
    net, X, y, cert = trained
    rep = recheck(cert, net, (X, y))
    assert rep.status == "ok", rep.lines()
    assert any(c.name == "objective terms recomputed from weights and data" and c.outcome == "pass" for c in rep.checks)
    y2 = y.copy()
    y2[0] = 1 - y2[0]
    assert "the data do not match" in recheck(cert, net, (X, y2)).problems()

    def lower_l1(d):
        d["answer"]["terms"]["l1"] *= 0.5
        d["answer"]["incumbent"] = sum(d["answer"]["terms"].values())

    rep2 = recheck(_edited(cert, lower_l1), net, None)
    assert _failed(rep2, "penalty terms recomputed")

    def better_bound(d):
        d["answer"]["bound"] = d["answer"]["incumbent"] * 2

    assert _failed(recheck(_edited(cert, better_bound), net, None), "bound <= incumbent")


def test_recheck_command_exit_codes(rob, tmp_path):
    net, X, res, cert = rob
    model = tmp_path / "m.json"
    save_model(net, model)
    good = save_certificate(cert, tmp_path / "good.json")
    runner = CliRunner()
    r = runner.invoke(cli, ["recheck", str(good), str(model), "--second-solver", "none"])
    assert r.exit_code == 0, r.output
    assert "re-check: OK" in r.output
    d = json.loads(good.read_text())
    d["answer"]["items"][0]["verdict"] = "violated"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(d))
    r = runner.invoke(cli, ["recheck", str(bad), str(model), "--second-solver", "none", "--json"])
    assert r.exit_code == 1
    out = json.loads(r.output)
    assert out["status"] == "failed" and any(p.startswith("tampered") for p in out["problems"])
    (tmp_path / "junk.json").write_text("{")
    r = runner.invoke(cli, ["recheck", str(tmp_path / "junk.json"), str(model)])
    assert r.exit_code == 2 and "not valid JSON" in r.output


def test_recheck_loads_a_saved_file(rob, tmp_path):
    net, X, res, cert = rob
    c = load_certificate(save_certificate(cert, tmp_path / "c.json"))
    assert recheck(c, net, second_solver=None).status == "ok"


def test_resilience_verdicts_follow_their_status_and_other_kinds_are_not_reproved(multiclass_net):
    """A feasible item (a gap) relabelled holds re-checked OK, and a certificate renamed kind 'local' with items
    turned infeasible printed no line for them: OK, exit 0. The title names the classes covered."""
    from mipnet.certificates.resilience import _title

    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    cert = resilience_certificate(multiclass_net, [r])
    assert _title(cert.question).startswith("maximum resilience of classes [0]")

    def holds_with_a_gap(d):
        d["answer"]["items"][0].update(status="feasible", verdict="holds", bound=0.5 * r.phi)

    rep = recheck(_edited(cert, holds_with_a_gap), multiclass_net, second_solver=None, reprove=False)
    assert rep.status == "failed" and _failed(rep, "verdict of its status"), rep.lines()

    def local_infeasible(d):
        d["question"]["kind"] = "local"
        d["answer"]["items"][0].update(kind="local", status="infeasible", verdict="holds", phi=None, bound=None)
        d["answer"]["items"][0].update(a=None, b=None)
        d["answer"].update(incumbent=None, bound=None, gap=None)

    rep = recheck(_edited(cert, local_infeasible), multiclass_net, second_solver=None, time_limit=10)
    assert rep.status != "ok" and any(c.outcome == "undecided" for c in rep.checks), rep.lines()


def test_the_monitored_score_words_are_those_of_the_output_proved():
    """Output and versus swapped with "decreasing" turned "increasing" is a true claim about the other score, but the
    title kept the recorded words (a false sentence) and the re-check said OK."""
    from mipnet.domain import Domain
    from mipnet.layers import Dense
    from mipnet.network import Network

    net = Network(
        [Dense(np.array([[-1.0, 0.0], [1.0, 0.0]]), np.zeros(2))],
        domain=Domain(["a", "b"], [0, 0], [1, 1]),
        class_names=["yes", "no"],
    )
    rep0 = verify_global(net, [], ["a"], output="yes", versus="no", time_limit=10)
    assert rep0.status == "holds"
    cert = monotonicity_certificate(net, rep0, decreasing=["a"], output="yes", versus="no")
    assert recheck(cert, net, second_solver=None, reprove=False).status != "failed"

    def swapped(d):
        d["question"].update(output="no", versus="yes", increasing=["a"], decreasing=[])
        for it in d["answer"]["items"]:
            it["direction"] = "increasing"

    rep = recheck(_edited(cert, swapped), net, second_solver=None, reprove=False)
    assert rep.status == "failed" and _failed(rep, "monitored score"), rep.lines()


def test_the_re_proof_note_names_the_solver_as_it_was_chosen():
    """--second-solver gurobi on a gurobi certificate said "no second solver installed: pip install pyscipopt"
    although SCIP was installed and gurobi was asked for: the note now says how the solver was chosen."""
    from helpers import random_dense_net

    from mipnet.certificates.robustness import robustness_certificate
    from mipnet.report import recheck as recheck_cert
    from mipnet.verify.robustness import verify_robustness

    net = random_dense_net(np.random.default_rng(3), [3, 5, 2])
    X = np.random.default_rng(4).uniform(-0.5, 0.5, (3, 3))
    res = verify_robustness(net, X, 0.2, "inf", time_limit=10, early_stop=False)
    cert = robustness_certificate(net, X, res, eps=0.2)
    rep = recheck_cert(cert, net, None, second_solver="highs", time_limit=30)
    notes = [c.detail for c in rep.checks if c.name == "re-proved with"]
    assert notes and "(--second-solver highs)" in notes[0] and "pip install" not in notes[0], rep.lines()
    rep = recheck_cert(cert, net, None, second_solver=None, time_limit=30)
    notes = [c.detail for c in rep.checks if c.name == "re-proved with"]
    assert notes and "no second solver requested" in notes[0], rep.lines()


def test_a_resilience_item_names_the_model_s_class_and_a_round_off_drop_is_no_violation(multiclass_net):
    """(1) Class names swapped between a resilience certificate's items re-checked OK, one class's Phi shown under
    the other's name. (2) A "violated" monotonicity claim whose pair drops f by 1.8e-15 (round-off; f is constant
    in x0) re-checked OK: the verifier's own test asks for more than 1e-9 (1 + |f|)."""
    from mipnet import Dense, Network, ReLU

    r = class_resilience(multiclass_net, 0, alpha=1.5, k=1, time_limit=10)
    cert = resilience_certificate(multiclass_net, [r])
    other = multiclass_net.class_names[1]
    rep = recheck(_edited(cert, lambda d: d["answer"]["items"][0].update(class_name=other)), multiclass_net)
    assert rep.status != "ok" and _failed(rep, f"class {other}"), rep.lines()

    # f = relu(3 x0 + 1) - 3 relu(x0 + 1) + x1 + 2 = x1 (x0 in [0, 1]): constant in x0
    flat = Network(
        [Dense([[3.0, 0.0], [1.0, 0.0], [0.0, 1.0]], [1.0, 1.0, 0.0]), ReLU(), Dense([[1.0, -3.0, 1.0]], [0.0])],
        input_shape=(2,),
        task="regress",
    )
    from mipnet import Domain

    flat.domain = Domain(["x0", "x1"], np.array([0.0, -1.0]), np.array([1.0, 1.0]))
    rep0 = verify_global(flat, increasing=["x0"], time_limit=10)
    assert rep0.features[0].status == "holds"
    cert = monotonicity_certificate(flat, rep0, increasing=["x0"])
    x, xp = np.array([0.016527635528529094, 0.8255111545554434]), np.array([0.8132702392002724, 0.8255111545554434])
    fx, fxp = (flat.forward(np.stack([x, xp])) @ np.ones(1)).tolist()
    assert 0 < fx - fxp < 1e-12  # round-off only

    def violated(d):
        w = {"x": x.tolist(), "x_prime": xp.tolist(), "f_x": fx, "f_x_prime": fxp, "slope": None}
        it = d["answer"]["items"][0]
        it.update(verdict="violated", witness=w, bound=None, min_derivative=-1e-9)
        d["answer"].update(status="violated", bound=None)

    rep = recheck(_edited(cert, violated), flat, second_solver=None)
    assert _failed(rep, "x0: witness pair"), rep.lines()


def test_a_training_objective_edited_out_of_both_records_or_a_constraint_record_added_is_refuted(trained):
    """The coefficients and the loss the objective is scored with must be the configuration's (which the re-proof
    solves): l1 deleted from the question's and the result's coefficients, or the loss set to null in both, re-checked
    OK for a bound of another objective. A record of domain-constraint checks on a configuration without constraints
    was printed as "holds" and re-checked OK. A null class list ended in an AssertionError traceback."""
    net, X, y, cert = trained

    def no_l1(d):
        for c in (d["question"]["coefficients"], d["result"]["coefficients"]):
            del c["l1"]

    def no_loss(d):
        d["question"]["loss"] = d["result"]["loss"] = None

    def constraint_record(d):
        d["result"]["formulation"]["domain_constraints"] = [
            {"constraint": "ExcludeFeatures(features=('x0',))", "holds": True, "measured": 0.0}
        ]

    for edit, words in ((no_l1, "coefficient l1"), (no_loss, "loss of the question")):
        bad = _failed(recheck(_edited(cert, edit), net, (X, y), second_solver=None), "question, answer and record")
        assert bad and words in bad[0].detail, edit.__name__
    assert _failed(recheck(_edited(cert, constraint_record), net, (X, y), second_solver=None), "domain constraints")

    def no_classes(d):
        d["question"]["classes"] = d["result"]["classes"] = None

    rep = recheck(_edited(cert, no_classes), net, (X, y), second_solver=None)  # (a traceback before)
    assert rep.status != "ok"
