"""PyTorch ``nn.Sequential`` models <-> :class:`~mipnet.network.Network`.

Module -> layer (nested ``Sequential`` containers are flattened, eval-mode semantics; a BatchNorm or Dropout
module in training mode is refused, as the ONNX reader refuses training-mode nodes):

    Linear                    Dense(W, b)                 (no bias -> b = 0)
    Conv2d                    Conv2D(W, b, stride, padding)   (dilation 1, groups 1, zero padding)
    MaxPool2d / AvgPool2d     MaxPool2D / AvgPool2D       (ceil_mode False; count_include_pad kept)
    BatchNorm1d / 2d          Normalize(scale, offset),   scale = gamma / sqrt(var + eps),
                                                          offset = beta - mean * scale
    Flatten (start_dim 1)     Flatten
    ReLU, LeakyReLU, GELU (exact), Tanh, Sigmoid, Identity     the same activation
    Dropout*                  nothing (identity at inference)
    Affine (this module)      Normalize

``to_torch`` builds the inverse ``nn.Sequential``, e.g. to warm-start a MIP from gradient training.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..domain import Domain
from ..errors import MipnetError, ModelFormatError, UnsupportedError
from ..layers import (
    GELU,
    LAYER_TYPES,
    AvgPool2D,
    Conv2D,
    Dense,
    Flatten,
    Layer,
    MaxPool2D,
    Normalize,
    Shape,
)
from ..layers.normalize import positive_variance
from ..network import Network, output_sigmoid, without_output_sigmoid

try:
    import torch
    from torch import nn
except ImportError:  # pragma: no cover - depends on the environment
    raise UnsupportedError("torch models need PyTorch: pip install 'mipnet[torch]'") from None

#: the parameterless torch modules that are a layer type (ReLU, Tanh, Sigmoid, Identity): the layers' ``torch_module``
#: (GELU and Flatten take arguments and are read below)
_SIMPLE: dict[type[nn.Module], type[Layer]] = {
    getattr(nn, cls.torch_module): cls
    for cls in LAYER_TYPES.values()
    if cls.torch_module is not None and cls.torch_module not in ("GELU", "Flatten")
}
#: torch modules with arguments that a layer type reads itself (``torch_imports``), by class name
_IMPORTERS: dict[str, type[Layer]] = {name: cls for cls in LAYER_TYPES.values() for name in cls.torch_imports}
_DROPOUT = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout)


class Affine(nn.Module):
    """Elementwise ``scale * x + offset`` (the torch twin of :class:`~mipnet.layers.Normalize`)."""

    def __init__(self, scale: torch.Tensor, offset: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("scale", scale)
        self.register_buffer("offset", offset)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale + self.offset


def _np(t: torch.Tensor) -> np.ndarray:
    """A tensor as float64 numpy (every caller passes a tensor: optional ones are checked for None first)."""
    return t.detach().cpu().to(torch.float64).numpy()


def _modules(module: nn.Module) -> list[nn.Module]:
    """Leaf modules of a (possibly nested) Sequential, in execution order. A module whose class redefines the
    ``forward`` of the torch class it derives from (a Sequential subclass adding a skip connection, a Linear that
    clips) computes something else than its parts: refused, never read as its parts."""
    _own_forward(module)
    if isinstance(module, nn.Sequential):
        return [leaf for child in module for leaf in _modules(child)]
    return [module]


def _own_forward(m: nn.Module) -> None:
    cls = type(m)
    hooks = [h for h in ("_forward_hooks", "_forward_pre_hooks") if getattr(m, h, None)]
    if hooks:  # weight_norm / spectral_norm recompute the weight in a pre-hook; any hook may change the output
        raise UnsupportedError(
            f"{cls.__name__} has forward hooks ({', '.join(h.strip('_') for h in hooks)}: e.g. weight_norm or "
            "spectral_norm, or a registered hook) that change what it computes: remove them (for weight_norm: "
            "torch.nn.utils.remove_weight_norm) before converting"
        )
    if cls.__module__.startswith("mipnet."):
        return
    base: type = next((c for c in cls.__mro__ if c.__module__.startswith("torch.nn")), nn.Module)
    if base is not cls and base is not nn.Module and cls.forward is not base.forward:  # type: ignore[attr-defined]
        raise UnsupportedError(
            f"{cls.__name__} subclasses torch's {base.__name__} with its own forward (e.g. a skip connection): "
            "mipnet reads the standard modules only; write the model as a plain nn.Sequential"
        )


def _padding(m: nn.Module) -> tuple[int, int]:
    pad = m.padding
    if pad == "valid":
        return (0, 0)
    if pad == "same":
        k = m.kernel_size
        if m.stride != (1, 1) or k[0] % 2 == 0 or k[1] % 2 == 0:
            raise UnsupportedError("Conv2d padding='same' is supported for odd kernels with stride 1 only")
        return (k[0] // 2, k[1] // 2)
    return pad if isinstance(pad, tuple) else (pad, pad)


def _conv(m: nn.Conv2d) -> Conv2D:
    if tuple(m.dilation) != (1, 1) or m.groups != 1:
        raise UnsupportedError(f"Conv2d with dilation={m.dilation}, groups={m.groups} is not supported (need 1 and 1)")
    if m.padding_mode != "zeros":
        raise UnsupportedError(f"Conv2d padding_mode={m.padding_mode!r} is not supported (only 'zeros')")
    w = _np(m.weight)
    b = _np(m.bias) if m.bias is not None else np.zeros(w.shape[0])
    return Conv2D(w, b, stride=m.stride, padding=_padding(m))


def _pool(m: nn.Module) -> Layer:
    name = type(m).__name__
    if m.ceil_mode:
        raise UnsupportedError(f"{name}(ceil_mode=True) is not supported")
    if isinstance(m, nn.MaxPool2d):
        if m.dilation not in (1, (1, 1)) or m.return_indices:
            raise UnsupportedError("MaxPool2d with dilation != 1 or return_indices=True is not supported")
        return MaxPool2D(m.kernel_size, m.stride or m.kernel_size, m.padding)
    if m.divisor_override is not None:
        raise UnsupportedError("AvgPool2d(divisor_override=...) is not supported")
    return AvgPool2D(m.kernel_size, m.stride or m.kernel_size, m.padding, count_include_pad=m.count_include_pad)


def _layer(m: nn.Module, shape: Shape) -> Layer | None:
    """The mipnet layer of one leaf module applied to inputs of ``shape`` (None: no-op at inference)."""
    if isinstance(m, _DROPOUT):
        return None
    for cls, layer in _SIMPLE.items():
        if type(m) is cls:
            return layer()
    if isinstance(m, nn.Linear):
        b = _np(m.bias) if m.bias is not None else np.zeros(m.out_features)
        return Dense(_np(m.weight), b)
    if isinstance(m, nn.Conv2d):
        return _conv(m)
    if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)):
        return _pool(m)
    if type(m).__name__ in _IMPORTERS and getattr(nn, type(m).__name__, None) is type(m):  # torch's own class only
        return _IMPORTERS[type(m).__name__].from_torch(m)
    if isinstance(m, nn.GELU):
        if m.approximate != "none":
            raise UnsupportedError(f"GELU(approximate={m.approximate!r}) is not supported (only the exact erf form)")
        return GELU()
    if isinstance(m, nn.Flatten):
        if m.start_dim != 1 or m.end_dim != -1:
            raise UnsupportedError(f"Flatten(start_dim={m.start_dim}, end_dim={m.end_dim}) is not supported")
        return Flatten()
    if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
        if m.running_mean is None:
            raise UnsupportedError(f"{type(m).__name__}(track_running_stats=False) has no inference statistics")
        scale = 1.0 / np.sqrt(positive_variance(_np(m.running_var) + m.eps, type(m).__name__))
        if m.affine:
            scale = scale * _np(m.weight)
        offset = -_np(m.running_mean) * scale + (_np(m.bias) if m.affine else 0.0)
        per_channel = (shape[0],) + (1,) * (len(shape) - 1)  # broadcast to the input: 2 numbers per channel
        return Normalize(np.reshape(scale, per_channel).copy(), np.reshape(offset, per_channel).copy())
    if isinstance(m, Affine):
        return Normalize(np.broadcast_to(_np(m.scale), shape).copy(), np.broadcast_to(_np(m.offset), shape).copy())
    raise UnsupportedError(
        f"unsupported torch module {type(m).__name__!r} (supported: Linear, Conv2d, MaxPool2d, AvgPool2d, "
        "BatchNorm1d/2d, Flatten, ReLU, LeakyReLU, GELU, Tanh, Sigmoid, Identity, Dropout, "
        f"{', '.join(sorted(_IMPORTERS))})"
    )


def from_torch(
    module: nn.Module,
    input_shape: Sequence[int],
    domain: Domain | None = None,
    class_names: Sequence[Any] | None = None,
    task: str = "classify",
    feature_names: Sequence[str] | None = None,
) -> Network:
    """Convert an ``nn.Sequential`` (or a single supported module) to a Network.

    ``input_shape`` excludes the batch dimension: ``(n_features,)`` or ``(C, H, W)``.
    """
    shape: Shape = tuple(int(s) for s in input_shape)
    layers: list[Layer] = []
    for k, m in enumerate(_modules(module)):
        if m.training and isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, *_DROPOUT)):
            # as the ONNX reader: in training mode these compute another function (batch statistics, random
            # zeros) than the one mipnet would verify (the running statistics, no dropout)
            raise UnsupportedError(
                f"module {k} ({type(m).__name__}) is in training mode: call model.eval() before saving or converting"
            )
        layer = _layer(m, shape)
        if layer is None:
            continue
        try:
            shape = tuple(layer.output_shape(shape))
        except ModelFormatError as exc:
            raise ModelFormatError(f"module {k} ({type(m).__name__}): {exc}") from None
        layers.append(layer)
    if not layers:
        raise ModelFormatError("the torch model has no layers with an effect at inference")
    n_in = int(np.prod(input_shape))
    if domain is None and feature_names is not None:
        if isinstance(feature_names, (str, bytes)) or not isinstance(feature_names, (list, tuple)):
            raise ModelFormatError(f"the feature names must be a list, not {type(feature_names).__name__}")
        domain = Domain.box(list(feature_names), -np.inf, np.inf)
    if domain is not None and domain.n_features != n_in:
        raise ModelFormatError(
            f"the domain has {domain.n_features} features, the input shape {tuple(input_shape)} has {n_in}"
        )
    metadata: dict[str, Any] = {"source": "torch", "module": type(module).__name__}
    sig = output_sigmoid(layers)
    if task == "classify" and int(np.prod(shape)) == 1 and sig is not None and len(layers) > 1:
        # P(class 1) = sigmoid(z) > 0.5 iff z > 0: the logit is what a one-output classifier of mipnet returns
        layers, metadata["torch_dropped_output"] = without_output_sigmoid(layers, sig), "Sigmoid"
    return Network(
        layers,
        domain=domain,
        input_shape=input_shape,
        class_names=class_names,
        task=task,
        metadata=metadata,
    )


def _guess_input_shape(module: nn.Module) -> tuple[int, ...]:
    shape = getattr(module, "input_shape", None)
    if shape is not None:
        return tuple(int(s) for s in shape)
    for m in _modules(module):
        if isinstance(m, nn.Linear):
            return (m.in_features,)
        if not (
            isinstance(m, (*_DROPOUT, nn.Identity, nn.Flatten, *_SIMPLE, nn.GELU))
            or (type(m).__name__ in _IMPORTERS and getattr(nn, type(m).__name__, None) is type(m))
        ):
            break
    mods = _modules(module)
    if not mods:
        raise ModelFormatError("the torch model has no layers")
    raise ModelFormatError(
        f"cannot infer the input shape of a model starting with {type(mods[0]).__name__}; "
        f"set model.input_shape = {_shape_hint(mods[0])} before torch.save(model)"
    )


def _shape_hint(first: nn.Module) -> str:
    """The input shape's form for a first layer (BatchNorm1d reads (C,) or (C, L); a 2-D layer (C, H, W))."""
    name = type(first).__name__
    if name.endswith("1d"):
        return "(C,) or (C, L)"
    return "(C, H, W)" if name.endswith("2d") else "(n,) for a flat input, or (C, H, W)"


def load_torch_file(path: str | os.PathLike[str]) -> Network:
    """Load a whole-module save (``torch.save(model)``; only open files you trust: unpickling runs code).

    The input shape is the module's ``input_shape`` attribute if it has one, else the first Linear's
    ``in_features``. Optional attributes ``class_names``, ``feature_names``, ``task`` and ``domain`` (a
    :meth:`Domain.to_dict` dict) are honoured.
    """
    p = Path(path)
    if not p.is_file():
        raise MipnetError(f"file not found: {p}")
    try:
        obj = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure is a bad file for the user
        msg = (str(exc).strip().splitlines() or [""])[0]
        raise ModelFormatError(f"{p} is not a loadable torch model: {type(exc).__name__}: {msg}") from None
    if isinstance(obj, dict):
        raise ModelFormatError(f"{p} holds a state_dict, not a model; save the whole module with torch.save(model)")
    if not isinstance(obj, nn.Module):
        raise ModelFormatError(f"{p} holds a {type(obj).__name__}, not a torch nn.Module")
    try:
        dom = getattr(obj, "domain", None)
        return from_torch(
            obj,
            _guess_input_shape(obj),
            class_names=getattr(obj, "class_names", None),
            task=getattr(obj, "task", "classify"),
            feature_names=getattr(obj, "feature_names", None),
            domain=Domain.from_dict(dom) if isinstance(dom, dict) else None,
        )
    except MipnetError as exc:
        raise type(exc)(f"{p}: {exc}") from None


def to_torch(net: Network, dtype: torch.dtype = torch.float32) -> nn.Sequential:
    """An ``nn.Sequential`` computing ``net`` (inputs shaped ``(N, *net.input_shape)``).

    The result carries ``input_shape``, ``class_names``, ``feature_names``, ``task`` and ``domain`` attributes, so
    ``torch.save(model)`` followed by :func:`load_torch_file` restores the same network.
    """

    mods: list[nn.Module] = [layer.to_torch(shape, dtype) for layer, shape in zip(net.layers, net.shapes)]
    model = nn.Sequential(*mods)
    model.input_shape = tuple(net.input_shape)
    model.class_names = list(net.class_names) if net.class_names is not None else None
    model.feature_names = list(net.feature_names)
    model.task = net.task
    model.domain = net.domain.to_dict()
    return model.eval()


__all__ = ["Affine", "from_torch", "load_torch_file", "to_torch"]
