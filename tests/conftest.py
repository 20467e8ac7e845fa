"""Shared fixtures: small random dense and conv networks (see tests/helpers.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from helpers import random_conv_net, random_dense_net  # noqa: E402

from mipnet.network import Network  # noqa: E402


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


@pytest.fixture
def dense_net() -> Network:
    """Binary classifier 4 -> 5 -> 3 -> 1 (ReLU) over [-1, 1]^4; about 35 % of the box is class 1."""
    return random_dense_net(np.random.default_rng(3), [4, 5, 3, 1])


@pytest.fixture
def multiclass_net() -> Network:
    """Three-class classifier 3 -> 6 -> 3 (ReLU) over [-1, 1]^3; all three classes occur."""
    return random_dense_net(np.random.default_rng(0), [3, 6, 3])


@pytest.fixture
def conv_net() -> Network:
    """Two-class conv net over 1x6x6 images in [0, 1]."""
    return random_conv_net(np.random.default_rng(2))


#: mypy's run over the package, started in a process of its own as soon as the typing test is collected: it takes
#: about 30 s of one core, and runs beside the tests before it (the suite itself uses about one core)
MYPY_KEY = pytest.StashKey[object]()


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    import subprocess
    import tempfile

    if not any(item.nodeid.startswith("tests/test_typing.py") for item in items):
        return
    if os.environ.get("PYTEST_XDIST_WORKER"):  # every worker collects every test: the typing test starts mypy itself
        return
    try:
        import mypy  # noqa: F401
    except ImportError:  # the test skips itself
        return
    root = Path(__file__).resolve().parents[1]
    cache = tempfile.mkdtemp(prefix="mipnet-mypy-")
    proc = subprocess.Popen(
        [sys.executable, "-m", "mypy", "--cache-dir", cache],
        cwd=root,  # mypy reads pyproject.toml and the files it lists from the working directory
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    config.stash[MYPY_KEY] = proc
