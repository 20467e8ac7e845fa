"""The command line starts fast: building the command tree (what ``--help`` needs) imports none of the heavy
libraries; they are imported by the command that uses them. Checked by module lists, not wall times."""

import json
import subprocess
import sys

import pytest

#: what is slow to import; scipy.sparse (about 0.15 s) is allowed: the layer types' linear maps are sparse matrices
HEAVY = (
    "pyomo",
    "pandas",
    "sklearn",
    "torch",
    "onnx",
    "matplotlib",
    "highspy",
    "scipy.stats",
    "scipy.optimize",
    "scipy.special",
    "scipy.spatial",
)


def _loaded_after(code: str) -> set[str]:
    probe = code + (
        "\nimport sys, json\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules}"
        " | {'.'.join(m.split('.')[:2]) for m in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_command_tree_imports_no_heavy_library():
    loaded = _loaded_after("import mipnet.cli")
    assert not loaded & set(HEAVY), f"imported at start-up: {sorted(loaded & set(HEAVY))}"


@pytest.mark.parametrize(
    "args",
    [["--help"], ["train", "--help"], ["verify", "robustness", "--help"], ["audit", "--help"], ["explain", "--help"]],
)
def test_help_imports_no_heavy_library(args):
    loaded = _loaded_after(
        f"from click.testing import CliRunner\nfrom mipnet.cli import cli\n"
        f"r = CliRunner().invoke(cli, {args!r})\nassert r.exit_code == 0, r.output"
    )
    assert not loaded & set(HEAVY), f"imported by {' '.join(args)}: {sorted(loaded & set(HEAVY))}"


def test_info_needs_no_solver_or_dataframe(tmp_path):
    import numpy as np

    from mipnet import Dense, Network, ReLU
    from mipnet.io import save_model

    rng = np.random.default_rng(0)
    net = Network([Dense(rng.normal(size=(3, 2)), np.zeros(3)), ReLU(), Dense(rng.normal(size=(1, 3)), np.zeros(1))])
    path = tmp_path / "m.json"
    save_model(net, path)
    loaded = _loaded_after(
        f"from click.testing import CliRunner\nfrom mipnet.cli import cli\n"
        f"r = CliRunner().invoke(cli, ['info', {str(path)!r}])\nassert r.exit_code == 0, r.output"
    )
    assert not loaded & {"pyomo", "pandas", "sklearn", "torch", "highspy"}, sorted(loaded & set(HEAVY))
