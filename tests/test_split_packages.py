"""The last long modules as packages (training dual bound, robustness, resilience, dataset loaders).

* every name the former single module defined is importable from the old path, as the object of its new home;
* no module of these packages is longer than ``MAX_LINES``;
* the names looked up on the package (``solve`` and ``project_to_ball`` of robustness, ``_solve`` of resilience)
  take effect when patched there, for every query that calls them.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "mipnet"
MAX_LINES = 500

OLD_NAMES = {
    "mipnet.train.dual_bound": [
        "QUANT_BITS",
        "REL_SAFETY",
        "ABS_SAFETY",
        "ENTER_TOL",
        "AUTO_CG_ROWS",
        "ALPHA_ZERO",
        "DualBoundResult",
        "merge_duplicates",
        "_representatives",
        "_record",
        "standardise",
        "units_of_network",
        "Pricing",
        "_trivial_upper",
        "price",
        "_unit_from",
        "_consistent_solution",
        "_Master",
        "_balanced",
        "_prepared",
        "_safe",
        "any_width_lower_bound",
        "opposite_pairs",
        "pair_abs_diffs",
        "transport_lower_bound",
        "hybrid_lower_bound",
        "bound_for_config",
        "__all__",
    ],
    "mipnet.verify.robustness": [
        "NORMS",
        "VERDICTS",
        "TAU",
        "BOUNDS_SHARE",
        "normalise_norm",
        "RobustnessResult",
        "PerturbationResult",
        "_jsonable",
        "class_indices",
        "region_text",
        "check_in_domain",
        "ball_box",
        "_sub_domain",
        "margins",
        "project_to_ball",
        "_jacobian",
        "attack",
        "_l1_vertex",
        "_prepare",
        "verify_sample",
        "_solve_margin",
        "verify_robustness",
        "summarize",
        "minimal_perturbation",
        "Margin",
        "encode_margin",
        "solve",
        "Result",
    ],
    "mipnet.verify.resilience": [
        "NORMS",
        "TOL",
        "BOUNDS_SHARE",
        "INIT_STRONG_SHARE",
        "INIT_LOCAL_SHARE",
        "Heuristics",
        "ResilienceResult",
        "_class_index",
        "_check_args",
        "uniform_big_m",
        "_encode_copy",
        "_logit_terms",
        "_add_reach",
        "_add_norm",
        "_is_var",
        "_start_values",
        "_add_twin",
        "_priorities",
        "_solve",
        "_witness",
        "_prepare_bounds",
        "_base",
        "_out_of_time",
        "_fill",
        "alpha_max",
        "local_resilience",
        "_decide_by_robustness",
        "class_resilience",
        "_keep_initial_pair",
        "network_resilience",
    ],
    "mipnet.datasets": [
        "FEATURE_TYPES",
        "TASKS",
        "ONEHOT_SEP",
        "_data_file",
        "Dataset",
        "_bounds_of",
        "_levels",
        "_as_categorical",
        "_check_split",
        "_compas_raw",
        "load_compas",
        "_ADULT_COLUMNS",
        "_ADULT_CATEGORICAL",
        "_adult_raw",
        "load_adult",
        "_GERMAN_COLUMNS",
        "_german_raw",
        "load_german",
        "_HEART_RENAME",
        "_HEART_TYPES",
        "_heart_raw",
        "load_heart",
        "_autompg_raw",
        "load_autompg",
        "_sklearn_raw",
        "load_breast_cancer",
        "load_digits",
        "_PIXELS",
        "_npz",
        "_image_dataset",
        "load_mnist_subset",
        "_FASHION_LABELS",
        "FASHION_PAIRS",
        "load_fashion_pair",
        "DatasetInfo",
        "_Entry",
        "_entry",
        "_REGISTRY",
        "_ALIASES",
        "available",
        "canonical_name",
        "load",
        "__all__",
    ],
}


@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_old_path_exports_every_name_as_its_new_homes_object(module: str) -> None:
    mod = importlib.import_module(module)
    assert Path(mod.__file__).name == "__init__.py"  # a package now
    missing = [n for n in OLD_NAMES[module] if not hasattr(mod, n)]
    assert not missing, missing
    for name in OLD_NAMES[module]:
        obj = getattr(mod, name)
        home = getattr(obj, "__module__", None)
        if isinstance(home, str) and home.startswith(module + "."):  # defined in one of the package's modules
            assert getattr(importlib.import_module(home), name) is obj, (name, home)
    for name in getattr(mod, "__all__", []):
        assert hasattr(mod, name), name


@pytest.mark.parametrize("package", ["train/dual_bound", "verify/robustness", "verify/resilience", "datasets"])
def test_package_modules_are_short(package: str) -> None:
    files = sorted((PACKAGE / package).glob("*.py"))
    assert len(files) >= 4
    long = {p.name: n for p in files if (n := len(p.read_text("utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_data_files_stay_in_mipnet_data() -> None:
    from mipnet import datasets as ds

    assert Path(str(ds._data_file("PROVENANCE.md"))) == PACKAGE / "data" / "PROVENANCE.md"
    assert ds.load("heart").n_rows == 297


class _Reached(Exception):
    pass


def _reached(*args: object, **kwargs: object) -> None:
    raise _Reached


def _two_class_net():  # type: ignore[no-untyped-def]
    from mipnet import Dense, Domain, Network, ReLU

    return Network(
        [Dense(np.eye(2), np.zeros(2)), ReLU(), Dense(np.eye(2), np.zeros(2))], domain=Domain.box(2, -1.0, 1.0)
    )


def test_robustness_looks_solve_and_projection_up_on_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from mipnet.verify import robustness as rob

    net = _two_class_net()
    x = np.array([0.6, 0.4])
    assert int(net.predict_index(net.forward(x[None]))[0]) == 0
    with monkeypatch.context() as mp:
        mp.setattr(rob, "solve", _reached)
        with pytest.raises(_Reached):
            rob.minimal_perturbation(net, x, "inf", time_limit=20)
        with pytest.raises(_Reached):
            rob.verify_sample(net, x, 0.3, "inf", use_attack=False, time_limit=20, relu_split=False)
    with monkeypatch.context() as mp:
        mp.setattr(rob, "project_to_ball", _reached)
        with pytest.raises(_Reached):  # the attack's first step crosses the boundary x_0 = x_1
            rob.attack(net, x, 0.5, "inf", 0)


def test_resilience_looks_solve_up_on_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    from mipnet.verify import resilience as res_mod

    net = _two_class_net()
    monkeypatch.setattr(res_mod, "_solve", _reached)
    none = res_mod.Heuristics.none()
    with pytest.raises(_Reached):
        res_mod.alpha_max(net, 0, heuristics=none, time_limit=20)
    with pytest.raises(_Reached):
        res_mod.local_resilience(net, np.array([0.6, 0.4]), 0, heuristics=none, time_limit=20)
    with pytest.raises(_Reached):
        res_mod.class_resilience(net, 0, heuristics=none, time_limit=20)
