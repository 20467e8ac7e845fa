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
from .train.estimators import MIPNetClassifier, MIPNetRegressor

__version__ = "0.1.0"

__all__ = [
    "Network", "Domain",
    "Dense", "Conv2D", "MaxPool2D", "AvgPool2D", "Flatten", "Normalize",
    "ReLU", "LeakyReLU", "Identity", "GELU", "Tanh", "Sigmoid",
    "MIPNetClassifier", "MIPNetRegressor",
    "MipnetError", "ModelFormatError", "UnsupportedError", "DataError", "SolverError",
]
