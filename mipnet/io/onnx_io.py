"""ONNX models <-> :class:`~mipnet.network.Network`.

**Import** walks a graph with one input and one output along its single data path. The input is
``(N, ...)`` (dynamic batch), ``(1, ...)`` (batch fixed to 1: ``[1, 5]``, ``[1, 1, 1, 5]``) or a vector
without batch dim (``[5]``); ``input_shape`` is one sample's shape, its inputs (the VNN-LIB ``X_i``) the
sample flattened in C order. With a fixed batch the whole tensor's shape is followed: Reshape, Flatten,
Squeeze and Unsqueeze map it to a new one whose leading 1 (at rank >= 2) is the batch axis, and a MatMul
on a sample ``(1, ..., 1, d)`` flattens it first. Initializers and ``Constant`` nodes are weights, and
nodes whose inputs are all constants are evaluated once (onnx reference runtime). Operator -> layer:

    Gemm (transA=0)              Dense(alpha * B^T or alpha * B, beta * C)
    MatMul [+ Add c]             Dense(B^T, c)
    Conv (2-D, group 1)          Conv2D              (symmetric pads, dilation 1)
    MaxPool / AveragePool        MaxPool2D / AvgPool2D (count_include_pad kept; ceil_mode 0)
    GlobalMax/AveragePool        MaxPool2D / AvgPool2D over the whole image
    Flatten (axis 1), Reshape    Flatten             (Reshape to (N, -1) or to the same shape only)
    Squeeze, Unsqueeze           Flatten or nothing  (the same rule as Reshape)
    Relu, LeakyRelu, Sigmoid, Tanh, Gelu (exact), Identity    the same layer
    PRelu (one constant slope in [0, 1))                      LeakyReLU
    x/sqrt2 -> Erf -> +1 -> *x -> *0.5                         GELU (the exporters' erf subgraph)
    BatchNormalization           Normalize (per channel, inference statistics)
    Dropout                      nothing
    Cast to float/double         nothing, on the data path and on constants alike: a float64 weight cast
                                 to float32 for the runtime is read as the float64 value (precision casts
                                 are not part of the function, as in the export below)
    Add/Sub/Mul/Div by a constant    Normalize(a, b) with the node computing a * x + b; an Add/Sub
                                 right after a Dense/Conv2D goes into its bias; consecutive ones compose
    Softmax / LogSoftmax         only as the very last node, and then dropped: the network returns
                                 logits (same argmax); ``metadata["onnx_dropped_output"]`` records it

Anything else raises ``UnsupportedError("unsupported ONNX operator 'Op' (node name)")``.

Float inputs, weights and outputs of any precision are read as float64 (float32 files of other tools
are upcast). Every value is read as what the graph computes with, never as metadata (which anyone can edit):
LeakyRelu's float32 ``alpha`` attribute as its float32 value (0.10000000149, as onnxruntime computes, not 0.1);
mipnet's float64 export writes an alpha float32 does not hold as PRelu's slope tensor (one value) instead.

**Export** writes opset 17 with a dynamic batch dim ``N`` (input ``input``, output ``output``), in
**float64** by default: input, output and every weight are DOUBLE tensors holding the network's values
bit for bit, so ``from_onnx(to_onnx(net))`` has the same :meth:`~mipnet.network.Network.fingerprint`
as ``net`` and as its JSON copy (a certificate made on one re-checks on the other). onnxruntime has no
float64 Conv, AveragePool and Erf kernels: those nodes run in float32 between ``Cast`` nodes (their
weights stay DOUBLE initializers, cast in the graph), so onnxruntime runs the exports and the file
still holds the exact weights; one exception: a ReLU followed by a HardTanh whose min is > 0 (onnxruntime's
Relu-Clip fusion cannot read a float64 Clip min, up to 1.32 at least; a min <= 0 is left out of the Clip, which
is the same function after a ReLU) loads with ``dtype="float32"`` or with onnxruntime's graph optimisations off.
``dtype="float32"`` writes a plain float32 model for consumers that need
one (weights rounded to float32). Gemm nodes carry ``alpha``, ``beta``, ``transA`` and ``transB``
explicitly and every node has a unique name (readers such as OMLT need both). GELU becomes the erf
subgraph above. Task, domain, class and output names and metadata go to the model's
``metadata_props["mipnet"]`` (JSON), so JSON -> ONNX -> JSON keeps them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

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
from ..layers.normalize import compact, positive_variance
from ..network import Network, _checked_size, output_sigmoid, without_output_sigmoid
from .atomic import atomic_write_bytes

try:
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:  # pragma: no cover - depends on the environment
    raise UnsupportedError("ONNX models need the 'onnx' package: pip install 'mipnet[onnx]'") from None

OPSET = 17
META_KEY = "mipnet"
#: the parameterless ONNX operators that are a layer type (Relu, Sigmoid, Tanh, Identity): the layers' ``onnx_op``
_ACTIVATIONS: dict[str, type[Layer]] = {cls.onnx_op: cls for cls in LAYER_TYPES.values() if cls.onnx_op is not None}
#: the ONNX operators with attributes or constant inputs that a layer type reads itself (``onnx_imports``)
_IMPORTERS: dict[str, type[Layer]] = {op: cls for cls in LAYER_TYPES.values() for op in cls.onnx_imports}
_SKIP = {"Dropout"}
_ELEMENTWISE = {"Add", "Sub", "Mul", "Div"}
#: operators whose first axis is the batch: refused on a tensor without one
_BATCHED = {"Gemm", "Conv", "MaxPool", "AveragePool", "GlobalMaxPool", "GlobalAveragePool", "BatchNormalization"}


def _input_layout(name: str, dims: Any) -> tuple[str, Shape]:
    """The batch axis of the input (``dynamic``, ``one`` = fixed to 1, ``none``) and one sample's shape."""
    sizes = [int(d.dim_value) if d.dim_value > 0 else None for d in dims]
    shown = ["?" if s is None else s for s in sizes]
    if not sizes or None in sizes[1:]:
        raise UnsupportedError(f"the ONNX input {name!r} needs fixed sizes after its batch dim (got shape {shown})")
    if len(sizes) == 1:
        if sizes[0] is None:
            raise UnsupportedError(f"the ONNX input {name!r} has one dimension and it is not fixed")
        return "none", (sizes[0],)
    if sizes[0] is None or sizes[0] == 1:
        return ("dynamic" if sizes[0] is None else "one"), tuple(int(s or 0) for s in sizes[1:])
    raise UnsupportedError(
        f"the ONNX input {name!r} has shape {shown}: its first dimension must be the batch "
        "(dynamic or 1), or the input a vector without batch dim"
    )


def _attrs(node: Any) -> dict[str, Any]:
    out = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        out[a.name] = v.decode() if isinstance(v, bytes) else v
    return out


def _fit(c: np.ndarray, shape: Shape, what: str) -> np.ndarray:
    """A constant broadcast to one sample's ``shape`` (a leading batch dim of 1 is allowed)."""
    c = np.asarray(c, dtype=np.float64)
    if c.ndim == len(shape) + 1 and c.shape[0] == 1:
        c = c[0]
    try:
        return np.broadcast_to(c, shape).copy()
    except ValueError:
        raise UnsupportedError(f"{what}: a constant of shape {c.shape} does not broadcast to {shape}") from None


def _own_shape(c: np.ndarray, shape: Shape) -> Shape | None:
    """The shape of a constant without a leading batch dim of 1, when it broadcasts to one sample's ``shape``."""
    cs = tuple(np.shape(c))
    if len(cs) == len(shape) + 1 and cs[0] == 1:
        cs = cs[1:]
    try:
        return cs if np.broadcast_shapes(cs, tuple(shape)) == tuple(shape) else None
    except ValueError:
        return None


def _node_name(node: Any) -> str:
    return node.name or (node.output[0] if node.output else "?")


def onnx_outputs(net: Network, y: np.ndarray) -> np.ndarray:
    """The ONNX graph's outputs from the network's (rows of ``y``): the final Softmax / LogSoftmax / Sigmoid the
    import dropped (``metadata["onnx_dropped_output"]``) applied again; ``y`` itself otherwise."""
    from scipy.special import expit, log_softmax, softmax

    op = (net.metadata or {}).get("onnx_dropped_output")
    y = np.asarray(y, dtype=np.float64)
    if op == "Softmax":
        return np.asarray(softmax(y, axis=-1))
    if op == "LogSoftmax":
        return np.asarray(log_softmax(y, axis=-1))
    if op == "Sigmoid":
        return np.asarray(expit(y))
    return y


#: operators whose value is a random draw: never folded into a fixed network
RANDOM_OPERATORS = frozenset(
    {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Bernoulli", "Multinomial"}
)
#: the largest constant read from an ONNX graph (elements): 400 MB as float64, beyond any network mipnet verifies
MAX_CONSTANT_ELEMENTS = 50_000_000


def _check_constant_size(n: int, node: Any) -> None:
    if n > MAX_CONSTANT_ELEMENTS:
        raise ModelFormatError(
            f"ONNX node {_node_name(node)!r} ({node.op_type}) makes a constant of {n} elements (more than "
            f"{MAX_CONSTANT_ELEMENTS}): not a network mipnet can read"
        )


def _folded_size(node: Any, consts: dict[str, Any]) -> int:
    """The number of elements a constant node would make, where its inputs say so before it runs (the operators
    that build a tensor from a shape); 0 when not known in advance."""
    ins = [np.asarray(consts[n]) if n in consts else None for n in node.input]
    try:
        if node.op_type == "ConstantOfShape" and ins and ins[0] is not None:
            return int(np.prod([max(int(d), 0) for d in ins[0].ravel()], dtype=object))
        if node.op_type == "Expand" and len(ins) == 2 and ins[0] is not None and ins[1] is not None:
            shape = np.broadcast_shapes(ins[0].shape, tuple(max(int(d), 0) for d in ins[1].ravel()))
            return int(np.prod(shape, dtype=object))
        if node.op_type == "Tile" and len(ins) == 2 and ins[0] is not None and ins[1] is not None:
            return int(ins[0].size * np.prod([max(int(d), 0) for d in ins[1].ravel()], dtype=object))
    except (ValueError, TypeError, OverflowError):
        return 0  # (a malformed shape: the evaluator's own error says so)
    return 0


class _Reader:
    """Walks the data path of a graph, turning nodes into layers."""

    def __init__(self, model: Any, exact_attrs: dict[str, Any] | None = None) -> None:
        g = model.graph
        self.exact_attrs = exact_attrs if isinstance(exact_attrs, dict) else {}
        self.hidden_ones = 0  # leading ones of the runtime tensor a MatMul flattened away (see its branch)
        self.nodes, alias = _without_float_casts(g.node)
        self.consts: dict[str, np.ndarray] = {t.name: numpy_helper.to_array(t) for t in g.initializer}
        inputs = [i for i in g.input if i.name not in self.consts]
        if len(inputs) != 1 or len(g.output) != 1:
            raise UnsupportedError(
                "mipnet reads ONNX graphs with one input and one output, "
                f"this one has {len(inputs)} and {len(g.output)}"
            )
        self.opset = next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 17)
        elem = inputs[0].type.tensor_type.elem_type
        real = (TensorProto.FLOAT, TensorProto.DOUBLE, TensorProto.FLOAT16, TensorProto.BFLOAT16, TensorProto.UNDEFINED)
        if elem not in real:
            raise UnsupportedError(
                f"the ONNX input {inputs[0].name!r} has type {TensorProto.DataType.Name(elem)}: mipnet reads networks "
                "of real-valued (float) inputs (an integer input verified over the reals could get a fractional "
                "counterexample)"
            )
        self.batch, self.input_shape = _input_layout(inputs[0].name, inputs[0].type.tensor_type.shape.dim)
        # before any per-row array is made (an Add's constant broadcast to 1e12 values asked for 7 TiB)
        _checked_size(self.input_shape, "the input")
        #: the current tensor has a leading batch axis (always with a dynamic batch; of size 1 otherwise)
        self.batched = self.batch != "none"
        self.shape = self.input_shape
        self.cur = inputs[0].name
        self.output = alias.get(g.output[0].name, g.output[0].name)
        self.layers: list[Layer] = []
        self.notes: dict[str, Any] = {}
        self.consumers: dict[str, list[int]] = {}
        for i, n in enumerate(self.nodes):
            for name in n.input:
                self.consumers.setdefault(name, []).append(i)
        self.done: set[int] = set()
        for i, n in enumerate(self.nodes):  # constants first: they have no inputs, order is free
            if n.op_type == "Constant":
                self.fold_constant(n)
                self.done.add(i)

    # ------------------------------------------------------------------ helpers
    def full_shape(self) -> Shape:
        """The whole tensor's shape (with a fixed batch: the batch axis of size 1 where present)."""
        return (1, *self.shape) if self.batched else self.shape

    def push(self, layer: Layer, node: Any) -> None:
        try:
            self.shape = tuple(layer.output_shape(self.shape))
        except ModelFormatError as exc:
            raise ModelFormatError(f"ONNX node {_node_name(node)!r} ({node.op_type}): {exc}") from None
        self.layers.append(layer)

    def const(self, name: str, node: Any) -> np.ndarray:
        if name not in self.consts:
            raise UnsupportedError(f"ONNX node {_node_name(node)!r} ({node.op_type}) needs a constant for {name!r}")
        _check_constant_size(np.asarray(self.consts[name]).size, node)
        try:
            return np.asarray(self.consts[name], dtype=np.float64)
        except MemoryError:
            raise ModelFormatError(
                f"the constant {name!r} of ONNX node {_node_name(node)!r} does not fit in memory"
            ) from None

    def scalar(self, name: str) -> float | None:
        c = self.consts.get(name)
        return float(np.asarray(c).reshape(-1)[0]) if c is not None and np.asarray(c).size == 1 else None

    def only_consumer(self, name: str, op: str) -> int | None:
        users = self.consumers.get(name, [])
        if len(users) == 1 and self.nodes[users[0]].op_type == op and name != self.output:
            return users[0]
        return None

    def fold_constant(self, node: Any) -> None:
        if node.op_type == "Constant":
            a = node.attribute[0]
            v = helper.get_attribute_value(a)
            self.consts[node.output[0]] = numpy_helper.to_array(v) if a.name == "value" else np.array(v)
            return
        if node.op_type in RANDOM_OPERATORS:  # the reference evaluator draws anew at every load
            raise UnsupportedError(
                f"ONNX node {_node_name(node)!r} ({node.op_type}) draws random numbers: its value differs at every "
                "run, and mipnet reads and verifies fixed networks only"
            )
        _check_constant_size(_folded_size(node, self.consts), node)  # before a tiny file allocates gigabytes
        from onnx.reference import ReferenceEvaluator

        try:
            outs = ReferenceEvaluator(node).run(None, {n: self.consts[n] for n in node.input if n})
        except Exception as exc:  # noqa: BLE001 - any evaluation failure means we cannot read the graph
            raise UnsupportedError(
                f"cannot evaluate constant ONNX node {_node_name(node)!r} ({node.op_type}): {type(exc).__name__}"
            ) from None
        self.consts.update({name: np.asarray(v) for name, v in zip(node.output, outs) if name})

    # ------------------------------------------------------------------ the walk
    def read(self) -> list[Layer]:
        for i, node in enumerate(self.nodes):
            if i in self.done:
                continue
            if node.domain not in ("", "ai.onnx"):
                op = f"{node.domain}.{node.op_type}"
                raise UnsupportedError(f"unsupported ONNX operator '{op}' (node {_node_name(node)!r})")
            data = [n for n in node.input if n and n not in self.consts]
            if not data:
                self.fold_constant(node)
                continue
            if data != [self.cur]:
                raise UnsupportedError(
                    f"ONNX node {_node_name(node)!r} ({node.op_type}) reads {data}: "
                    "only single-path graphs are supported"
                )
            try:
                out = self.gelu(i) or self.convert(node)
            except (IndexError, TypeError, KeyError, AttributeError) as exc:  # a node without its inputs or output
                raise ModelFormatError(
                    f"ONNX node {_node_name(node)!r} ({node.op_type}) is malformed: {type(exc).__name__}: {exc} "
                    f"(inputs {list(node.input)}, outputs {list(node.output)})"
                ) from None
            self.cur = out
        if self.cur != self.output:
            raise UnsupportedError(f"the ONNX output {self.output!r} is not computed along the input's single path")
        if not self.layers:
            raise ModelFormatError("the ONNX graph has no layers")
        return self.layers

    def gelu(self, i: int) -> str | None:
        """Match x/sqrt2 -> Erf -> +1 -> (*x, *0.5 in either order); return the output name or None."""
        x, n1 = self.cur, self.nodes[i]

        def near(name: str, value: float) -> bool:
            v = self.scalar(name)
            return v is not None and math.isclose(v, value, rel_tol=1e-6)

        other = [n for n in n1.input if n != x]
        if len(other) != 1 or not (
            (n1.op_type == "Div" and n1.input[0] == x and near(other[0], math.sqrt(2.0)))
            or (n1.op_type == "Mul" and near(other[0], 1.0 / math.sqrt(2.0)))
        ):
            return None
        i2 = self.only_consumer(n1.output[0], "Erf")
        i3 = self.only_consumer(self.nodes[i2].output[0], "Add") if i2 is not None else None
        if i2 is None or i3 is None:
            return None
        t2, t3 = self.nodes[i2].output[0], self.nodes[i3].output[0]
        if sorted(n == t2 or near(n, 1.0) for n in self.nodes[i3].input) != [True, True]:
            return None
        i4 = self.only_consumer(t3, "Mul")
        i5 = self.only_consumer(self.nodes[i4].output[0], "Mul") if i4 is not None else None
        if i4 is None or i5 is None:
            return None
        rest = [*self.nodes[i4].input, *self.nodes[i5].input]
        rest = [n for n in rest if n not in (t3, self.nodes[i4].output[0])]
        if len(rest) != 2 or x not in rest or not near(rest[1 - rest.index(x)], 0.5):
            return None
        self.done.update((i2, i3, i4, i5))
        self.push(GELU(), n1)
        return self.nodes[i5].output[0]

    def convert(self, node: Any) -> str:
        op, at, name = node.op_type, _attrs(node), _node_name(node)
        where = f"ONNX node {name!r} ({op})"
        out = node.output[0]
        if op in _BATCHED and not self.batched:
            raise UnsupportedError(f"{where}: reads a tensor of shape {list(self.shape)} without batch dim")
        if op in _ACTIVATIONS:
            self.push(_ACTIVATIONS[op](), node)
        elif op in _SKIP:
            mode = node.input[2] if len(node.input) > 2 else ""  # Dropout's training_mode (opset 12 on)
            if mode and (mode not in self.consts or bool(np.asarray(self.consts[mode]).reshape(-1).any())):
                raise UnsupportedError(
                    f"{where}: Dropout in training mode (training_mode not a constant false) drops random inputs; "
                    "export the model in inference mode (model.eval())"
                )
        elif op in _IMPORTERS:  # a layer type with attributes or constant inputs reads the node itself
            consts = [self.const(n, node) if n else None for n in node.input[1:]]
            if op == "PRelu" and consts and consts[0] is not None:  # the slope may not change the tensor's shape
                full = (1, *self.shape)
                try:
                    same = np.broadcast_shapes(full, consts[0].shape) == full
                except ValueError:
                    same = False
                if not same:
                    raise UnsupportedError(
                        f"{where}: a PRelu slope of shape {list(consts[0].shape)} changes the shape of its input "
                        f"{list(full)}"
                    )
            exact = dict(self.exact_attrs.get(out) or {}) if isinstance(self.exact_attrs.get(out), dict) else {}
            exact.pop("input_nonnegative", None)  # what the graph says, never the (editable) metadata
            if self.layers and self.layers[-1].kind == "ReLU":
                exact["input_nonnegative"] = 1.0
            self.push(_IMPORTERS[op].from_onnx(op, at, consts, exact), node)
        elif op == "BatchNormalization":  # y = gamma (x - mean) / sqrt(var + eps) + beta, per channel
            if at.get("training_mode", 0) or any(node.output[1:]):
                # training mode normalises by the batch's own statistics (onnxruntime does): the stored running
                # statistics would be another function (a false "holds" was proved on it)
                raise UnsupportedError(
                    f"{where}: training mode (training_mode=1 or the running-statistics outputs) normalises by "
                    "each batch's statistics; export the model in inference mode (model.eval())"
                )
            if not at.get("spatial", 1):  # opset < 9: statistics per element, not per channel
                raise UnsupportedError(f"{where}: BatchNormalization with spatial=0 is not supported")
            gamma, beta, mean, var = (self.const(n, node) for n in node.input[1:5])
            if not all(v.size == self.shape[0] for v in (gamma, beta, mean, var)):
                raise ModelFormatError(f"{where}: BatchNormalization's statistics are not one per channel")
            scale = gamma / np.sqrt(positive_variance(var + at.get("epsilon", 1e-5), f"node {name!r}"))
            per_channel = (-1,) + (1,) * (len(self.shape) - 1)
            a, b = (np.broadcast_to(v.reshape(per_channel), self.shape).copy() for v in (scale, beta - mean * scale))
            # a new Normalize keeps 2 numbers per channel
            self._compact: tuple[int, ...] | None = (self.shape[0],) + (1,) * (len(self.shape) - 1)
            self.affine(a, b, node)
        elif op == "Gelu":
            if at.get("approximate", "none") != "none":
                raise UnsupportedError(f"{where}: only the exact (erf) GELU is supported")
            self.push(GELU(), node)
        elif op == "Gemm":
            if at.get("transA", 0) or node.input[0] != self.cur:
                raise UnsupportedError(f"{where}: only Gemm(input, W, b) with transA=0 is supported")
            w = at.get("alpha", 1.0) * self.const(node.input[1], node)
            w = w if at.get("transB", 0) else w.T
            c = self.const(node.input[2], node) if len(node.input) > 2 and node.input[2] else np.zeros(1)
            self.push(Dense(w, _fit(at.get("beta", 1.0) * c, (w.shape[0],), where)), node)
        elif op == "MatMul":
            w = self.const(node.input[1], node) if node.input[0] == self.cur else None
            if self.batch != "dynamic" and len(self.shape) > 1 and all(d == 1 for d in self.shape[:-1]):
                # (1, ..., 1, d) @ W: the same values as the flat sample; the runtime's tensor keeps its leading
                # ones (a Softmax over its axis 1 normalises a size-1 axis: every output 1, not the classes')
                self.hidden_ones = len(self.shape) - 1
                self.push(Flatten(), node)
            if w is None or w.ndim != 2 or len(self.shape) != 1:
                raise UnsupportedError(f"{where}: only MatMul(flat input, constant 2-D matrix) is supported")
            self.push(Dense(w.T, np.zeros(w.shape[1])), node)
        elif op in _ELEMENTWISE:
            self.elementwise(node, where)
        elif op == "Conv":
            w = self.const(node.input[1], node)
            if w.ndim != 4 or at.get("group", 1) != 1 or any(d != 1 for d in at.get("dilations", [1, 1])):
                raise UnsupportedError(f"{where}: only 2-D convolutions with group=1 and dilation 1 are supported")
            b = self.const(node.input[2], node) if len(node.input) > 2 and node.input[2] else np.zeros(w.shape[0])
            k = w.shape[2:]
            self.push(Conv2D(w, b, at.get("strides", [1, 1]), self.pads(at, k, where)), node)
        elif op in ("MaxPool", "AveragePool"):
            k = tuple(at.get("kernel_shape", ()))
            if len(k) != 2 or at.get("ceil_mode", 0) or any(d != 1 for d in at.get("dilations", [1, 1])):
                raise UnsupportedError(f"{where}: only 2-D pooling with ceil_mode=0 and dilation 1 is supported")
            if len(node.output) > 1 and node.output[1]:
                raise UnsupportedError(f"{where}: MaxPool indices output is not supported")
            pads, stride = self.pads(at, k, where), at.get("strides", [1, 1])
            if op == "MaxPool":
                self.push(MaxPool2D(k, stride, pads), node)
            else:
                self.push(AvgPool2D(k, stride, pads, count_include_pad=bool(at.get("count_include_pad", 0))), node)
        elif op in ("GlobalMaxPool", "GlobalAveragePool") and len(self.shape) == 3:
            k = self.shape[1:]
            self.push(MaxPool2D(k, k) if op == "GlobalMaxPool" else AvgPool2D(k, k), node)
        elif op == "Flatten" and self.batch != "dynamic":  # [prod(dims before axis), prod(dims from axis)]
            self.hidden_ones = 0
            full, a = self.full_shape(), int(at.get("axis", 1))
            a = a + len(full) if a < 0 else a
            self.reshape_to([int(np.prod(full[:a])), int(np.prod(full[a:]))], node, where)
        elif op == "Flatten":
            self.hidden_ones = 0
            if at.get("axis", 1) != 1:
                raise UnsupportedError(f"{where}: only Flatten(axis=1) is supported")
            self.push(Flatten(), node)
        elif op == "Reshape":
            self.hidden_ones = 0  # (the runtime's rank is the reshaped one)
            self.reshape(node, where)
        elif op in ("Squeeze", "Unsqueeze"):
            self.hidden_ones = 0
            self.squeeze(node, at, where)
        elif op in ("Softmax", "LogSoftmax") and out == self.output and len(self.shape) == 1:
            rank = len(self.full_shape()) + self.hidden_ones
            axis = int(at.get("axis", -1 if self.opset >= 13 else 1))
            if axis % rank != rank - 1:  # over the batch axis: not the classes' normalisation
                raise UnsupportedError(f"{where}: {op} over axis {axis} (not the class axis) is not supported")
            self.notes["onnx_dropped_output"] = op
        else:
            raise UnsupportedError(f"unsupported ONNX operator '{op}' (node {name!r})")
        return out

    @staticmethod
    def pads(at: dict[str, Any], kernel: tuple[int, ...], where: str) -> tuple[int, int]:
        auto = at.get("auto_pad", "NOTSET")
        if auto == "VALID":
            return (0, 0)
        if auto in ("SAME_UPPER", "SAME_LOWER"):
            if any(s != 1 for s in at.get("strides", [1, 1])) or any(k % 2 == 0 for k in kernel):
                raise UnsupportedError(f"{where}: auto_pad={auto} needs stride 1 and odd kernels")
            return (kernel[0] // 2, kernel[1] // 2)
        p = list(at.get("pads", [0, 0, 0, 0]))
        if p[:2] != p[2:]:
            raise UnsupportedError(f"{where}: asymmetric padding {p} is not supported")
        return (int(p[0]), int(p[1]))

    def reshape(self, node: Any, where: str) -> None:
        target = [int(v) for v in np.asarray(self.consts.get(node.input[1], [])).reshape(-1)]
        if self.batch != "dynamic" and node.input[1] in self.consts:  # a concrete whole shape
            full = self.full_shape()
            t = [full[i] if v == 0 and i < len(full) else v for i, v in enumerate(target)]
            if t.count(-1) == 1:
                known = int(np.prod([v for v in t if v != -1]))
                t = [int(np.prod(full)) // max(known, 1) if v == -1 else v for v in t]
            self.reshape_to(t, node, where)
            return
        if len(target) < 2:
            raise UnsupportedError(f"{where}: only a Reshape to a constant (batch, ...) shape is supported")
        if target[0] not in (0, -1, 1) or (target[0] == -1 and -1 in target[1:]):
            # the first entry keeps the batch (0), is inferred as it (-1 beside a whole sample) or is the one sample
            # a property speaks of (1); (2, -1) regroups samples (a Softmax after it normalises other groups)
            raise UnsupportedError(
                f"{where}: a Reshape of a batch of any size must keep the batch first (0, -1 or 1 there), not {target}"
            )
        rest = [self.shape[i] if v == 0 and i < len(self.shape) else v for i, v in enumerate(target[1:])]
        n = int(np.prod(self.shape))
        if rest.count(-1) == 1 and len(rest) > 1:
            known = int(np.prod([v for v in rest if v != -1]))
            rest = [n // known if v == -1 else v for v in rest]
        self.sample_shape(rest, n, node, where)

    def sample_shape(self, rest: list[int], n: int, node: Any, where: str) -> None:
        """The sample becomes ``rest``: a flat vector (Flatten) or the same shape (nothing)."""
        if rest in ([n], [-1]):
            if len(self.shape) != 1:
                self.push(Flatten(), node)
        elif tuple(rest) != self.shape:
            raise UnsupportedError(f"{where}: only a Reshape to a flat vector is supported, not to {tuple(rest)}")

    def reshape_to(self, target: list[int], node: Any, where: str) -> None:
        """With a fixed batch: the whole tensor becomes ``target`` (a leading 1 of rank >= 2 is the batch)."""
        n = int(np.prod(self.shape))
        if int(np.prod(target)) != n or any(v < 1 for v in target):
            raise ModelFormatError(f"{where}: cannot reshape {list(self.full_shape())} to {target}")
        self.batched = len(target) >= 2 and target[0] == 1
        self.sample_shape(target[1:] if self.batched else target, n, node, where)

    def squeeze(self, node: Any, at: dict[str, Any], where: str) -> None:
        """Squeeze / Unsqueeze (axes as attribute before opset 13, as a constant input since) as a reshape."""
        unsq, full = node.op_type == "Unsqueeze", list(self.full_shape())
        given = at.get("axes") if "axes" in at else (self.consts.get(node.input[1]) if len(node.input) > 1 else None)
        rank = len(full) + (len(np.asarray(given).reshape(-1)) if unsq and given is not None else 0)
        axes = sorted(int(a) % rank for a in np.asarray(given if given is not None else []).reshape(-1))
        if unsq:
            for a in axes:
                full.insert(a, 1)
        else:
            full = [d for i, d in enumerate(full) if (i not in axes if axes else d != 1)]
        if self.batch == "dynamic":
            if 0 in axes or not axes:
                raise UnsupportedError(f"{where}: only a {node.op_type} off the batch axis is supported")
            self.sample_shape(full[1:], int(np.prod(self.shape)), node, where)
        else:
            self.reshape_to(full, node, where)

    def elementwise(self, node: Any, where: str) -> None:
        """x op c with a constant c, written as a * x + b and merged into the previous layer where exact."""
        op = node.op_type
        first = node.input[0] == self.cur
        raw = self.const(node.input[1] if first else node.input[0], node)
        if not np.all(np.isfinite(raw)):  # (it went into the previous layer's bias unchecked: NaN outputs)
            raise ModelFormatError(f"{where}: its constant contains NaN or inf values")
        if self.batch != "dynamic" and raw.ndim > len(self.shape):
            self.batched = True  # broadcasting against (1, ...) adds the batch axis
        c = _fit(raw, self.shape, where)
        self._compact = _own_shape(raw, self.shape)  # (the new Normalize keeps the constant's own shape)
        one, zero = np.ones(self.shape), np.zeros(self.shape)
        if op == "Add":
            a, b = one, c
        elif op == "Sub":
            a, b = (one, -c) if first else (-one, c)
        elif op == "Mul":
            a, b = c, zero
        elif not first:
            raise UnsupportedError(f"{where}: dividing a constant by the input is not an affine map")
        elif np.any(c == 0):
            raise ModelFormatError(f"{where}: division by zero")
        else:
            a, b = 1.0 / c, zero
        self.affine(a, b, node, shift_only=op == "Add" or (op == "Sub" and first))

    def affine(self, a: np.ndarray, b: np.ndarray, node: Any, shift_only: bool = False) -> None:
        """Append ``a * x + b``: into the previous bias (a shift after Dense/Conv2D), Normalize, or a new one."""
        prev = self.layers[-1] if self.layers else None
        if prev is None or not prev.absorb_affine(a, b, self.shape, shift_only):  # the layer's own merge rule
            small = getattr(self, "_compact", None)
            ac, bc = (compact(a, small), compact(b, small)) if small is not None else (None, None)
            self.push(Normalize(a, b) if ac is None or bc is None else Normalize(ac, bc), node)
        self._compact = None


def _without_float_casts(nodes: Any) -> tuple[list[Any], dict[str, str]]:
    """The nodes without their Casts to float/double, readers rewired to the Cast's input (copies).

    Returns the nodes and the map from each dropped Cast's output to the name it now stands for.
    """
    alias: dict[str, str] = {}
    out = []
    for n in nodes:
        if (
            n.op_type == "Cast"
            and n.domain in ("", "ai.onnx")
            and len(n.input) == 1
            and len(n.output) == 1
            and _attrs(n).get("to") in (TensorProto.FLOAT, TensorProto.DOUBLE)
        ):
            alias[n.output[0]] = alias.get(n.input[0], n.input[0])
            continue
        if any(i in alias for i in n.input):
            m = onnx.NodeProto()
            m.CopyFrom(n)
            del m.input[:]
            m.input.extend(alias.get(i, i) for i in n.input)
            n = m
        out.append(n)
    return out, alias


def _load(model_or_path: Any) -> Any:
    if isinstance(model_or_path, onnx.ModelProto):
        return model_or_path
    try:
        if isinstance(model_or_path, (bytes, bytearray)):
            return onnx.load_from_string(bytes(model_or_path))
        p = Path(model_or_path)
        if not p.is_file():
            raise MipnetError(f"file not found: {p}")
        return onnx.load(str(p))
    except MipnetError:
        raise
    except Exception as exc:  # noqa: BLE001 - protobuf raises several types for a corrupt file
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ModelFormatError(
            f"{model_or_path} is not a readable ONNX model: {type(exc).__name__}" + (f" ({detail})" if detail else "")
        ) from None


def from_onnx(model_or_path: Any, domain: Domain | None = None, task: str | None = None) -> Network:
    """Read an ONNX model (a ``ModelProto``, serialized bytes or a file path) as a Network.

    Models written by :func:`to_onnx` bring back their domain, task, class and output names; for
    others the domain is the unbounded box and the task ``classify`` unless ``task`` says otherwise.
    """
    model = _load(model_or_path)
    props = {p.key: p.value for p in model.metadata_props}
    saved: dict[str, Any] = {}
    if META_KEY in props:
        try:
            saved = json.loads(props[META_KEY])
        except json.JSONDecodeError:
            raise ModelFormatError(f"the ONNX model's {META_KEY!r} metadata is not valid JSON") from None
        if not isinstance(saved, dict):
            saved = {}
    reader = _Reader(model, saved.get("exact_attributes"))
    layers = reader.read()
    kept = saved.get("metadata")
    metadata = (
        dict(kept)
        if isinstance(kept, dict) and kept
        else {"source": "onnx", "producer": model.producer_name or "unknown"}
    )
    metadata.pop("onnx_dropped_output", None)  # what this graph drops is the reader's to say, not a saved note's
    metadata.update(reader.notes)
    if domain is None and isinstance(saved.get("domain"), dict):
        domain = Domain.from_dict(saved["domain"])
    task = task or saved.get("task", "classify")
    sig = output_sigmoid(layers)
    if task == "classify" and int(np.prod(reader.shape)) == 1 and sig is not None and len(layers) > 1:
        # P(class 1) = sigmoid(z) > 0.5 iff z > 0: the logit is what a one-output classifier of mipnet returns
        layers, metadata["onnx_dropped_output"] = without_output_sigmoid(layers, sig), "Sigmoid"
    return Network(
        layers,
        domain=domain,
        input_shape=reader.input_shape,
        class_names=saved.get("class_names") if task == saved.get("task") else None,
        output_names=saved.get("output_names"),
        task=task,
        metadata=metadata,
    )


def load_onnx(path: str | os.PathLike[str]) -> Network:
    """Read an ONNX file; errors name the file."""
    try:
        return from_onnx(Path(path))
    except MipnetError as exc:
        msg = str(exc)
        raise type(exc)(msg if str(path) in msg else f"{path}: {msg}") from None


# ----------------------------------------------------------------------------- export


class _Graph:
    """The nodes and initializers of an export (:class:`mipnet.layers.OnnxGraph`, what layers write to)."""

    def __init__(self, np_type: Any, elem: int, f32_ops: set[str]) -> None:
        self.np_type, self.elem, self.f32_ops = np_type, elem, f32_ops
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.exact: dict[str, dict[str, float]] = {}

    def const(self, name: str, value: Any) -> str:
        v = np.asarray(value, dtype=np.float64)
        with np.errstate(over="ignore"):
            cast = v.astype(self.np_type)
        if not np.all(np.isfinite(cast)):  # a weight of 1e39 became inf in float32 (and NaN in onnxruntime)
            big = float(np.max(np.abs(v[~np.isfinite(cast)])))
            raise UnsupportedError(f"a value of {big:.3g} does not fit the ONNX export's {self.np_type} (use float64)")
        self.inits.append(numpy_helper.from_array(cast, name))
        return name

    def producer(self, name: str) -> str | None:
        return next((str(n.op_type) for n in reversed(self.nodes) if name in n.output), None)

    def node(self, op: str, inputs: list[str], out: str, **attrs: Any) -> None:
        if op not in self.f32_ops:
            self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
            return
        cast = [f"{out}_in{k}_f32" for k in range(len(inputs))]  # (named by the consumer: one writer per tensor)
        self.nodes.extend(helper.make_node("Cast", [n], [c], to=TensorProto.FLOAT) for n, c in zip(inputs, cast))
        self.nodes.append(helper.make_node(op, cast, [f"{out}_f32"], **attrs))
        self.nodes.append(helper.make_node("Cast", [f"{out}_f32"], [out], to=self.elem))


def to_onnx(net: Network, dtype: str = "float64") -> Any:
    """The ONNX ``ModelProto`` of ``net`` (opset 17, dynamic batch dim ``N``).

    ``dtype="float64"`` (the default) keeps every weight bit for bit (see the module docstring);
    ``dtype="float32"`` rounds them to float32 for consumers that need a float32 model.
    """
    try:
        np_type = np.dtype(dtype)
    except TypeError:
        np_type = None
    if np_type not in (np.float32, np.float64):
        raise UnsupportedError(f"ONNX export supports float32 and float64, not {dtype}")
    elem = helper.np_dtype_to_tensor_dtype(np_type)
    # onnxruntime has no float64 kernels for these: they run in float32 between Casts
    f32_ops = {"Conv", "AveragePool", "Erf"} if np_type == np.float64 else set()
    g = _Graph(np_type, elem, f32_ops)
    x = "input"
    last = len(net.layers) - 1
    for i, layer in enumerate(net.layers):
        out = "output" if i == last else f"l{i}_{layer.kind.lower()}"
        layer.onnx_export(g, x, out, f"l{i}_")  # the layer's own nodes
        x = out
    nodes, inits, exact = g.nodes, g.inits, g.exact
    for n in nodes:  # unique node names (OMLT keys its graph by node name)
        n.name = n.output[0]
    graph = helper.make_graph(
        nodes,
        "mipnet",
        [helper.make_tensor_value_info("input", elem, ["N", *net.input_shape])],
        [helper.make_tensor_value_info("output", elem, ["N", net.n_outputs])],
        inits,
    )
    from .. import __version__

    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="mipnet", producer_version=__version__
    )
    model.ir_version = 8  # the IR of opset 17; readable by every onnxruntime since 1.11
    d = net.to_dict()
    saved = {k: d[k] for k in ("task", "domain", "class_names", "output_names", "metadata")}
    # the exported graph ends in the logits: a Softmax / Sigmoid an import dropped is not in it
    dropped = ("onnx_dropped_output", "torch_dropped_output", "output_activation")
    saved["metadata"] = {k: v for k, v in (saved["metadata"] or {}).items() if k not in dropped}
    if exact:
        saved["exact_attributes"] = exact
    # (numpy scalars, e.g. the class names np.unique gives a fitted estimator, as the plain values a JSON file holds)
    plain = json.dumps(saved, allow_nan=False, default=lambda o: o.item() if isinstance(o, np.generic) else str(o))
    helper.set_model_props(model, {META_KEY: plain})
    return model


def save_onnx(net: Network, path: str | os.PathLike[str], dtype: str = "float64") -> None:
    """Write ``net`` as an ONNX file atomically (float64 unless ``dtype="float32"``, see :func:`to_onnx`)."""
    atomic_write_bytes(path, to_onnx(net, dtype).SerializeToString())


__all__ = ["from_onnx", "load_onnx", "to_onnx", "save_onnx"]
