"""mipnet: train small neural networks as mixed-integer programs and prove things about them."""

from typing import TYPE_CHECKING

from .errors import DataError, MipnetError, ModelFormatError, SolverError, UnsupportedError

if TYPE_CHECKING:
    from .domain import Domain
    from .embed import NetworkHandle, add_network
    from .layers import (
        GELU,
        AvgPool2D,
        Conv2D,
        Dense,
        Flatten,
        HardTanh,
        Identity,
        LeakyReLU,
        MaxPool2D,
        Normalize,
        ReLU,
        Sigmoid,
        Tanh,
    )
    from .network import Network
    from .train.estimators import MIPNetClassifier, MIPNetRegressor

__version__ = "0.1.0"

#: imported on first use (PEP 562), so that ``import mipnet`` (and the command line's entry point, which must
#: catch Ctrl-C from its first instant) costs nothing: the network model needs numpy and scipy, the estimators
#: Pyomo and scikit-learn
_LAZY = {
    **{
        name: "mipnet.layers"
        for name in (
            "Dense",
            "Conv2D",
            "MaxPool2D",
            "AvgPool2D",
            "Flatten",
            "Normalize",
            "ReLU",
            "LeakyReLU",
            "Identity",
            "GELU",
            "Tanh",
            "Sigmoid",
            "HardTanh",
        )
    },
    "Network": "mipnet.network",
    "Domain": "mipnet.domain",
    "MIPNetClassifier": "mipnet.train.estimators",
    "MIPNetRegressor": "mipnet.train.estimators",
    "add_network": "mipnet.embed",
    "NetworkHandle": "mipnet.embed",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    raise AttributeError(f"module 'mipnet' has no attribute {name!r}")


__all__ = [
    "Network",
    "Domain",
    "Dense",
    "Conv2D",
    "MaxPool2D",
    "AvgPool2D",
    "Flatten",
    "Normalize",
    "ReLU",
    "LeakyReLU",
    "Identity",
    "GELU",
    "Tanh",
    "Sigmoid",
    "HardTanh",
    "MIPNetClassifier",
    "MIPNetRegressor",
    "add_network",
    "NetworkHandle",
    "MipnetError",
    "ModelFormatError",
    "UnsupportedError",
    "DataError",
    "SolverError",
]
