"""Small deterministic networks shared by the tests (other test modules import these; keep them stable).

``random_dense_net(rng, sizes, act)``  Dense -> act -> ... -> Dense, sizes = [n_in, hidden..., n_out],
                                       inputs in the box [-1, 1]^n_in, features x0..x{n-1}.
``random_conv_net(rng)``               (1, 6, 6) image in [0, 1]: Conv2D(2, 3x3, pad 1) -> ReLU ->
                                       MaxPool2D(2) -> Flatten -> Dense(18 -> 4) -> ReLU -> Dense(4 -> 2).
Weights are N(0, 1/fan_in), biases N(0, 0.1^2); both are drawn from ``rng`` only.
``forged(cert, edit)``                 a certificate edited by ``edit(dict)`` and sealed again, as a forger would.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Sequence

import numpy as np

from mipnet.domain import Domain
from mipnet.layers import GELU, Conv2D, Dense, Flatten, Identity, Layer, LeakyReLU, MaxPool2D, ReLU, Sigmoid, Tanh
from mipnet.network import Network

ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
    "gelu": GELU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
}


def random_dense(rng: np.random.Generator, n_in: int, n_out: int) -> Dense:
    """A Dense layer with N(0, 1/n_in) weights and N(0, 0.01) biases."""
    return Dense(rng.normal(0.0, 1.0 / np.sqrt(n_in), size=(n_out, n_in)), rng.normal(0.0, 0.1, size=n_out))


def random_dense_net(rng: np.random.Generator, sizes: Sequence[int], act: str = "relu") -> Network:
    """A fully connected classifier (one output: binary logit) over the box [-1, 1]^sizes[0]."""
    if len(sizes) < 2:
        raise ValueError("sizes needs at least an input and an output size")
    layers: list[Layer] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(random_dense(rng, n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[act]())
    return Network(layers, domain=Domain.box(int(sizes[0]), -1.0, 1.0))


def random_conv_net(rng: np.random.Generator) -> Network:
    """A two-class conv net over 1x6x6 images with pixels in [0, 1] (36 features, C-order)."""
    conv = Conv2D(rng.normal(0.0, 1.0 / 3.0, size=(2, 1, 3, 3)), rng.normal(0.0, 0.1, size=2), stride=1, padding=1)
    layers: list[Layer] = [
        conv,
        ReLU(),
        MaxPool2D(kernel=2),
        Flatten(),
        random_dense(rng, 18, 4),
        ReLU(),
        random_dense(rng, 4, 2),
    ]
    return Network(layers, domain=Domain.box(36, 0.0, 1.0), input_shape=(1, 6, 6))


def twin_of(base: Network) -> Network:
    """f(x) = h(x) - h(x) + 2 x0 for the dense ReLU net h = ``base`` (one output), written twice side by side;
    x0 goes through always-active units (bias 1 on [-1, 1]). Monotone in x0 with slope 2, which interval
    bounds cannot see (the two copies cancel only when their activation patterns agree)."""
    from scipy.linalg import block_diag

    n_in = base.n_inputs
    dense = [layer for layer in base.layers if isinstance(layer, Dense)]
    layers: list[Layer] = []
    for k, d in enumerate(dense[:-1]):
        if k == 0:
            W, b = np.vstack([d.weight, d.weight, np.eye(1, n_in)]), np.concatenate([d.bias, d.bias, [1.0]])
        else:
            W, b = block_diag(d.weight, d.weight, np.ones((1, 1))), np.concatenate([d.bias, d.bias, [0.0]])
        layers += [Dense(W, b), ReLU()]
    out = dense[-1]
    layers.append(Dense(np.hstack([out.weight, -out.weight, [[2.0]]]), np.zeros(1)))
    return Network(layers, domain=Domain.box(n_in, -1.0, 1.0))


def bab_net(rng: np.random.Generator, sizes: Sequence[int], leaky: bool = False) -> Network:
    """Dense layers of the given sizes (weights N(0, 1.2 / sqrt(fan-in)), biases N(0, 0.2)) with ReLU (or
    LeakyReLU(0.1)) between them, on the box [-1, 1]^n: the branch-and-bound tests' random nets."""
    layers: list[Layer] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(Dense(rng.normal(0, 1.2 / np.sqrt(a), (b, a)), rng.normal(0, 0.2, b)))
        if i < len(sizes) - 2:
            layers.append(LeakyReLU(0.1) if leaky else ReLU())
    return Network(layers, domain=Domain.box(sizes[0], -1.0, 1.0))


def bab_boxes(rng: np.random.Generator, n_in: int, B: int) -> tuple[np.ndarray, np.ndarray]:
    """B random sub-boxes of [-1, 1]^n_in, about a tenth of their widths 0."""
    c = rng.uniform(-0.6, 0.6, (B, n_in))
    w = rng.uniform(0.0, 0.4, (B, n_in)) * (rng.random((B, n_in)) < 0.9)
    return c - w, c + w


def forged(cert: Any, edit: Callable[[dict[str, Any]], None]) -> Any:
    """A copy of the certificate ``cert`` edited by ``edit(dict)`` and sealed again: the seal is a plain content hash
    anyone can recompute, so only a re-check that re-derives the claims can catch the edit."""
    from mipnet.certificates.format import certificate_from_dict

    d = json.loads(json.dumps(cert.to_dict()))
    edit(d)
    c = certificate_from_dict(d)
    c.seal = c.compute_seal()
    assert c.sealed()
    return c
