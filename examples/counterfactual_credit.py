"""The cheapest actionable change that turns a 'bad credit' decision into 'good': a counterfactual explanation,
found by optimising over a trained network embedded with :func:`mipnet.add_network`.

A scikit-learn MLP (standard scaler + 8 ReLU units) is trained on UCI German credit (59 inputs: integer counts and
one-hot categories) and converted to a mipnet network. For one applicant x0 the model rejects, the MILP

    min  sum_i |x_i - x0_i| / range_i                       (normalised L1: few, small changes)
    s.t. y = net(x)                                          (exact, add_network)
         logit_bad(x) <= -margin                             (the model now says 'good')
         x_i integer for integer features, each one-hot group sums to 1   (a real applicant)
         age, sex / personal status, foreign worker, people liable: unchanged   (not actionable)
         credit amount and duration: may only go down       (ask for less, for a shorter time)
         every other feature within the data's range

is solved with HiGHS through Pyomo. The counterfactual is then re-checked with the scikit-learn pipeline itself
(not the MILP's numbers): the script exits 0 only if the pipeline's decision really flips.

Run: ``python examples/counterfactual_credit.py`` (about 10-30 s).
"""

from __future__ import annotations

import sys

import numpy as np
import pyomo.environ as pyo
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from mipnet import add_network
from mipnet.datasets import load_german
from mipnet.io.sklearn_io import from_sklearn

IMMUTABLE = ("age", "status_sex", "foreign_worker", "people_liable")
ONLY_DOWN = ("credit_amount", "duration")
MARGIN = 0.05


def main() -> int:
    data = load_german()
    X, names = data.X_numeric()
    y = data.y.to_numpy()
    dom = data.domain
    pipe = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=2000, random_state=0))
    pipe.fit(X[:800], y[:800])
    print(f"MLP test accuracy on 200 held-out rows: {pipe.score(X[800:], y[800:]):.3f}")
    net = from_sklearn(pipe, feature_names=names, domain=dom)

    bad = int(np.flatnonzero(np.asarray(data.class_names) == "bad")[0])
    rejected = np.flatnonzero(pipe.predict(X[800:]) == bad) + 800
    i0 = int(rejected[0])
    x0 = X[i0]
    print(f"applicant {i0}: the model says {data.class_names[bad]!r} (logit {net.forward(x0[None])[0, 0]:+.3f})")

    m = pyo.ConcreteModel()
    n = len(names)
    lo, hi = dom.lower.copy(), dom.upper.copy()
    for j, name in enumerate(names):
        base = name.split("=")[0]
        if base in IMMUTABLE:
            lo[j] = hi[j] = x0[j]
        elif base in ONLY_DOWN:
            hi[j] = x0[j]
    m.x = pyo.Var(range(n), bounds=lambda m, j: (float(lo[j]), float(hi[j])))
    for j in np.flatnonzero(dom.integer):
        m.x[int(j)].domain = pyo.Integers
    m.onehot = pyo.ConstraintList()
    for g in dom.onehot_groups:
        m.onehot.add(sum(m.x[int(j)] for j in g) == 1)
        for j in g:
            m.x[int(j)].domain = pyo.Binary

    h = add_network(m, net, m.x, bounds="lp")
    # one logistic output: the logit of the second class (sklearn's classes_ order)
    m.flip = pyo.Constraint(expr=h.outputs[0] <= -MARGIN if bad == 1 else h.outputs[0] >= MARGIN)
    width = np.maximum(dom.upper - dom.lower, 1.0)
    m.d = pyo.Var(range(n), bounds=(0, None))
    m.dist = pyo.ConstraintList()
    for j in range(n):
        m.dist.add(m.d[j] >= m.x[j] - float(x0[j]))
        m.dist.add(m.d[j] >= float(x0[j]) - m.x[j])
    m.obj = pyo.Objective(expr=sum(m.d[j] / float(width[j]) for j in range(n)))
    res = pyo.SolverFactory("appsi_highs").solve(m)
    if str(res.solver.termination_condition) != "optimal":
        print(f"no counterfactual found: {res.solver.termination_condition}")
        return 1

    x1 = h.input_values()
    x1 = np.where(dom.integer, np.round(x1), x1)
    print(f"the cheapest change (encoded logit {h.values()[0]:+.3f}, |MILP - forward| = {h.error():.1e}):")
    for j in np.flatnonzero(np.abs(x1 - x0) > 1e-6):
        print(f"  {names[j]:28s} {x0[j]:g} -> {x1[j]:g}")
    decision = int(pipe.predict(x1[None])[0])
    p = float(pipe.predict_proba(x1[None])[0, 1])
    same = abs(np.log(p / (1 - p)) - float(net.forward(x1[None])[0, 0])) < 1e-6  # the converted net is the MLP
    print(
        f"re-checked with the scikit-learn pipeline: {data.class_names[decision]!r} (P(bad) = "
        f"{float(pipe.predict_proba(x1[None])[0, bad]):.3f})"
    )
    ok = decision != bad and same
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
