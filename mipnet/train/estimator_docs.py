"""The scikit-learn estimators' shared documentation (:mod:`.estimators`): the Parameters and Attributes sections
of :class:`~.estimators.MIPNetClassifier` and :class:`~.estimators.MIPNetRegressor`, and :func:`_doc` that joins
them into each class's docstring (numpydoc layout, as scikit-learn's own estimators)."""

from __future__ import annotations

_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default=(3,)
        Widths of the hidden ReLU layers (each >= 1). Ignored with ``architecture``.
    hypothesis : {"auto", "sign", "quantized", "continuous"}, default="auto"
        Hypothesis class of :class:`~mipnet.train.TrainConfig`; "auto": the sign class (one hidden layer, one
        output, output weights in {-1, 0, +1}) when it applies, else "quantized".
    loss : str, default="auto"
        Classifier: "hinge", "multiclass_hinge", "zero_one" or "logistic" (two classes; the MILP holds its tangent
        envelope, within 2e-3, and the certificate reports the true loss); regressor: "l1" or "squared"; "auto"
        picks the first that applies.
    margin : float, default=1.0
        Hinge margin m >= 0 of ``max(0, m - y f(x))``.
    l1 : float >= 0 or "cv", default=0.0
        Coefficient of the L1 penalty ``sum |w|``; "cv" chooses it from ``l1_grid`` by cross-validation.
    l2, l0, neuron_penalty, layer_penalty, channel_penalty : float >= 0, default=0.0
        Coefficients of ``sum w^2``, of the non-zero weights, the active units, the active layers, the active
        conv channels.
    max_nonzeros, max_neurons, max_channels : int >= 0 or None, default=None
        Budgets: at most this many non-zero weights, active units, active channels.
    weight_bound, bias_bound : float > 0, default=1.0
        Boxes ``|W| <= B_w``, ``|b| <= B_b`` on the standardised inputs; the certificate is for the class with
        these boxes. On unbalanced classes the best intercept can lie beyond 1 (a network whose bias sits at
        +-B_b says so): raise the boxes, e.g. 4 and 8 for the logistic loss's linear scores (Adult's threshold
        scores gained up to 0.6 points of test accuracy).
    levels : int >= 1, default=1
        Quantisation levels Q of the quantized class (weights in ``scale * {-Q, ..., Q}``).
    scale : float > 0, default=1.0
        Step of the quantized weights (the grid above).
    solver : str, default="highs"
        "highs", "gurobi", "scip" or an installed Pyomo solver (checked at ``fit``).
    time_limit : float >= 0, default=60.0
        Wall-clock seconds for the whole fit (cross-validation, warm start, model building, solve, re-check);
        ``inf``: no limit.
    threads : int >= 1 or None, default=None
        Solver threads (None: the solver's default; HiGHS: one per process).
    init : {"gradient", "none"}, default="gradient"
        Start of the MILP: "gradient" maps a gradient-trained net into the class (and, in the sign class, the
        proximal-gradient surrogate's net) and improves it by the LP heuristic; "none" starts the solver cold.
    warm_start : bool, deprecated
        The former name of ``init`` (True: "gradient", False: "none"); a FutureWarning names ``init``. Not
        scikit-learn's warm_start (refitting from the previous fit is not supported).
    lp_heuristic_rounds : int >= 0, default=10
        Rounds of the LP heuristic on the start (0: none).
    symmetry_breaking, tight_bounds : bool, default=True
        Symmetry-breaking constraints between hidden units; big-M constants from bound propagation.
    max_samples : int >= 1 or None, default=None
        Train on a random subsample of this many rows (the certificate names them).
    random_state : int in [0, 2**32 - 1] or None, default=0
        Seed of the subsample, the gradient start and the cross-validation splits.
    verbose : bool, default=False
        Print the trainer's stage lines and the solver's progress.
    architecture : str or list of tuples or None, default=None
        A conv architecture (:mod:`mipnet.train.architecture`, e.g. ``"conv4x3-maxpool2-dense8"``).
    input_shape : tuple of int or None, default=None
        (C, H, W) of flat image rows.
    downsample : int >= 1, default=1
        Average-pool the images by this factor (folded into the network as an AvgPool2D layer).
    sign_patterns : bool, default=False
        Solve the sign class one pattern of output signs at a time (:mod:`mipnet.train.signs`).
    l1_grid : array-like of float, default=DEFAULT_L1_GRID
        Candidates of ``l1="cv"``.
    cv_folds : int >= 2, default=5
        Folds of ``l1="cv"`` (repeated stratified K-fold).
    linear_term : bool, default=False
        Add the linear (skip) term ``w0 . x`` to the output (one hidden layer; :mod:`mipnet.train.linear_term`),
        with the same l1 / l2 / l0 coefficients, saved in the network as two exact ReLU units per output.
    constraints : list or None, default=None
        Domain constraints in training (:mod:`mipnet.train.constraints`: ``ExcludeFeatures``, ``WeightSign``,
        ``FeatureBudget``, ``OutputOrder``, ``ParityBound`` or their JSON dicts), each checked on the returned
        network and recorded in ``certificate_.formulation["domain_constraints"]``; features by their encoded names.
"""

_ATTRIBUTES = """
    Attributes
    ----------
    network_ : Network
        The trained network, pruned (raw features in).
    network_full_ : Network
        The trained network before pruning.
    certificate_ : Certificate
        What was proved: objective, bound, gap, status, the formulation (:mod:`mipnet.train.certificate`).
    certificate_check_ : dict
        The certificate's numpy re-check (``ok`` True when it holds).
    output_bias_at_bound_ : float or None
        The output bias when it sits at +-``bias_bound`` (classifiers; a ``BoundWarning`` says so), else None.
    l1_ : float
        The l1 coefficient used (chosen by cross-validation with ``l1="cv"``).
    cv_results_ : dict
        The cross-validation's evidence (only with ``l1="cv"``).
    n_features_in_ : int
        Number of features seen in ``fit``.
    feature_names_in_ : ndarray of str
        Feature names seen in ``fit`` (frames with string column names only).
    categories_ : dict
        Levels of each categorical frame column (one-hot encoded).
"""


def _doc(head: str, extra_attributes: str, examples: str) -> str:
    return head + _PARAMETERS + _ATTRIBUTES + extra_attributes + examples


__all__ = ["_PARAMETERS", "_ATTRIBUTES", "_doc"]
