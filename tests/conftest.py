"""Shared fixtures: small random dense and conv networks (see tests/helpers.py)."""

from __future__ import annotations

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
