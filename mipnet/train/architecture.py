"""Architecture specs of trainable conv nets: parsing, validation and the zero-weight template.

A spec is a sequence of entries, the hidden part of the network (the output Dense layer with one
logit per class, or one for a binary task, is appended):

    ("conv", channels, kernel, {"stride": 1, "padding": 0})   Conv2D + ReLU (options optional)
    ("maxpool", kernel)  /  ("maxpool", kernel, {"stride": s})  MaxPool2D (stride = kernel by default)
    ("avgpool", kernel)  /  ("avgpool", kernel, {"stride": s})  AvgPool2D
    ("flatten",)                                              Flatten (implied before the first dense)
    ("dense", width)                                          Dense + ReLU

The string form joins entries with ``-``: ``conv4x3`` (4 channels, 3x3 kernel), ``conv4x3p1``
(padding 1), ``conv4x3s2p1`` (stride 2, padding 1), ``maxpool2``, ``avgpool2``, ``flatten``,
``dense8``; e.g. ``"conv4x3p1-maxpool2-dense8"``.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np

from ..errors import DataError, ModelFormatError
from ..layers import AvgPool2D, Conv2D, Dense, Flatten, Layer, MaxPool2D, ReLU
from ..network import Network

Entry = tuple[Any, ...]
_TOKEN = re.compile(
    r"^(conv)(\d+)x(\d+)(?:s(\d+))?(?:p(\d+))?$|^(maxpool|avgpool)(\d+)(?:s(\d+))?$|^(dense)(\d+)$|"
    r"^(flatten)$"
)


def _parse_token(tok: str) -> Entry:
    m = _TOKEN.match(tok.strip().lower())
    if m is None:
        raise DataError(
            f"unknown architecture entry {tok!r} (use convCxK[sS][pP], maxpoolK, avgpoolK, flatten, denseN)"
        )
    g = m.groups()
    if g[0]:
        return ("conv", int(g[1]), int(g[2]), {"stride": int(g[3] or 1), "padding": int(g[4] or 0)})
    if g[5]:
        return (g[5], int(g[6]), {"stride": int(g[7] or g[6])})
    if g[8]:
        return ("dense", int(g[9]))
    return ("flatten",)


def parse_architecture(spec: str | Sequence[Any]) -> tuple[Entry, ...]:
    """Normalise a spec (string or entries) to entries with every option explicit."""
    if isinstance(spec, str):
        raw: list[Any] = [_parse_token(t) for t in spec.split("-") if t.strip()]
    else:
        raw = [tuple(e) if not isinstance(e, str) else (e,) for e in spec]
    if not raw:
        raise DataError("the architecture is empty")
    out: list[Entry] = []
    for e in raw:
        if not e or not isinstance(e[0], str):
            raise DataError(f"architecture entry {e!r} must start with a layer name")
        kind = e[0].lower()
        opts = dict(e[-1]) if len(e) > 1 and isinstance(e[-1], dict) else {}
        args = [a for a in e[1:] if not isinstance(a, dict)]
        try:
            if kind == "conv":
                ch, k = int(args[0]), int(args[1])
                s, p = int(opts.get("stride", 1)), int(opts.get("padding", 0))
                if ch < 1 or k < 1 or s < 1 or p < 0:
                    raise DataError(f"conv entry {e!r}: channels, kernel, stride >= 1 and padding >= 0")
                out.append(("conv", ch, k, {"stride": s, "padding": p}))
            elif kind in ("maxpool", "avgpool"):
                k = int(args[0])
                s = int(opts.get("stride", k))
                if k < 1 or s < 1:
                    raise DataError(f"{kind} entry {e!r}: kernel and stride >= 1")
                out.append((kind, k, {"stride": s}))
            elif kind == "flatten":
                out.append(("flatten",))
            elif kind == "dense":
                w = int(args[0])
                if w < 1:
                    raise DataError(f"dense entry {e!r}: width >= 1")
                out.append(("dense", w))
            else:
                raise DataError(f"unknown architecture layer {e[0]!r} (conv, maxpool, avgpool, flatten, dense)")
        except (IndexError, TypeError, ValueError):
            raise DataError(f"malformed architecture entry {e!r}") from None
    seen_dense = False
    for e in out:
        if e[0] == "dense" or e[0] == "flatten":
            seen_dense = True
        elif seen_dense:
            raise DataError(f"architecture: {e[0]} after flatten/dense (image layers come first)")
    return tuple(out)


def architecture_string(spec: Sequence[Entry]) -> str:
    """The string form of normalised entries."""
    parts = []
    for e in spec:
        if e[0] == "conv":
            s, p = e[3]["stride"], e[3]["padding"]
            parts.append(f"conv{e[1]}x{e[2]}" + (f"s{s}" if s != 1 else "") + (f"p{p}" if p else ""))
        elif e[0] in ("maxpool", "avgpool"):
            parts.append(f"{e[0]}{e[1]}" + (f"s{e[2]['stride']}" if e[2]["stride"] != e[1] else ""))
        elif e[0] == "dense":
            parts.append(f"dense{e[1]}")
        else:
            parts.append("flatten")
    return "-".join(parts)


def dense_widths(spec: Sequence[Entry]) -> tuple[int, ...]:
    return tuple(int(e[1]) for e in spec if e[0] == "dense")


def template_conv_network(spec: Sequence[Entry], input_shape: Sequence[int], n_out: int) -> Network:
    """Zero-weight network of the spec on images ``input_shape`` = (C, H, W), with the output Dense."""
    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3:
        raise DataError(f"a conv architecture needs an image input shape (C, H, W), got {shape}")
    layers: list[Layer] = []
    cur: tuple[int, ...] = shape
    flat = False

    def add(layer: Layer) -> None:
        nonlocal cur
        try:
            cur = tuple(layer.output_shape(cur))
        except ModelFormatError as exc:
            raise DataError(f"architecture {architecture_string(spec)!r} on input {shape}: {exc}") from None
        layers.append(layer)

    for e in spec:
        if e[0] == "conv":
            add(
                Conv2D(
                    np.zeros((e[1], cur[0], e[2], e[2])), np.zeros(e[1]), stride=e[3]["stride"], padding=e[3]["padding"]
                )
            )
            add(ReLU())
        elif e[0] == "maxpool":
            add(MaxPool2D(e[1], e[2]["stride"]))
        elif e[0] == "avgpool":
            add(AvgPool2D(e[1], e[2]["stride"]))
        elif e[0] == "flatten":
            add(Flatten())
            flat = True
        else:
            if not flat:
                add(Flatten())
                flat = True
            add(Dense(np.zeros((e[1], cur[0])), np.zeros(e[1])))
            add(ReLU())
    if not flat:
        add(Flatten())
    add(Dense(np.zeros((n_out, cur[0])), np.zeros(n_out)))
    return Network(layers, input_shape=shape)


def downsample_layer(input_shape: Sequence[int], factor: int) -> AvgPool2D | None:
    """AvgPool2D(factor) that shrinks (C, H, W) images by ``factor`` (28 -> 14 with 2, -> 7 with 4)."""
    f = int(factor)
    if f < 1:
        raise DataError(f"downsample factor must be >= 1, got {factor}")
    if f == 1:
        return None
    if len(input_shape) != 3 or input_shape[1] < f or input_shape[2] < f:
        raise DataError(f"cannot downsample images of shape {tuple(input_shape)} by {f}")
    return AvgPool2D((f, f), (f, f))


def image_shape(X: np.ndarray, input_shape: Sequence[int] | None) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Flat rows (N, C*H*W) and the image shape from (N, C, H, W) arrays or flat rows + ``input_shape``."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 4:
        shape = tuple(int(s) for s in X.shape[1:])
        if input_shape is not None and tuple(int(s) for s in input_shape) != shape:
            raise DataError(f"input_shape {tuple(input_shape)} differs from the images' shape {shape}")
        return X.reshape(X.shape[0], -1), shape  # type: ignore[return-value]
    if X.ndim == 3 and input_shape is None:
        return X.reshape(X.shape[0], -1), (1, int(X.shape[1]), int(X.shape[2]))
    if X.ndim != 2:
        raise DataError(f"images must be (N, C, H, W) or flat rows with input_shape, got shape {X.shape}")
    if input_shape is None:
        raise DataError("flat rows need input_shape=(C, H, W) for a conv architecture")
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 2:
        shape = (1,) + shape
    if len(shape) != 3 or int(np.prod(shape)) != X.shape[1]:
        raise DataError(f"input_shape {tuple(input_shape)} does not match {X.shape[1]} features per row")
    return X, shape
