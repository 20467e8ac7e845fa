"""mipnet: train small neural networks as mixed-integer programs and prove things about them."""

from .domain import Domain
from .errors import DataError, MipnetError, ModelFormatError, SolverError, UnsupportedError
from .layers import (
    GELU,
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    Identity,
    LeakyReLU,
    MaxPool2D,
    Normalize,
    ReLU,
    Sigmoid,
    Tanh,
)
from .network import Network

__version__ = "0.1.0"

#: imported on first use (PEP 562): the estimators pull in Pyomo and scikit-learn, which the command
#: line does not need for --help, info or predict
_LAZY = {"MIPNetClassifier": "mipnet.train.estimators", "MIPNetRegressor": "mipnet.train.estimators",
         "add_network": "mipnet.embed", "NetworkHandle": "mipnet.embed"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mipnet' has no attribute {name!r}")


__all__ = [
    "Network", "Domain",
    "Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "Normalize",
    "ReLU", "LeakyReLU", "Identity", "GELU", "Tanh", "Sigmoid",
    "MIPNetClassifier", "MIPNetRegressor", "add_network", "NetworkHandle",
    "MipnetError", "ModelFormatError", "UnsupportedError", "DataError", "SolverError",
]
