"""The network model: an input domain plus an ordered list of layers, with a numpy forward pass.

A :class:`Network` is what every part of mipnet exchanges: the importers build one, the trainers
return one, the encoder reads one, the verifiers and explainers reason about one. Inputs are flat
feature vectors in the domain's feature order; when ``input_shape`` is an image shape (C, H, W) the
flat vector is reshaped C-order before the first layer.
"""

from __future__ import annotations

import copy
import hashlib
import json
import pickle
from collections import OrderedDict
from typing import Any, Iterator, Sequence, cast

import numpy as np

from .domain import Domain
from .errors import DataError, MipnetError, ModelFormatError
from .layers import (
    Conv2D,
    Dense,
    Layer,
    Shape,
    layer_from_dict,
)

FORMAT_NAME = "mipnet"
FORMAT_VERSION = 1
TASKS = ("classify", "regress")


#: :meth:`Network.fingerprint`'s recent results: digest of the pickled dict -> SHA-256 of its JSON text
_FINGERPRINTS: "OrderedDict[bytes, str]" = OrderedDict()
_FINGERPRINT_CACHE_SIZE = 16


#: layers that leave every value as it is (a Sigmoid before them is still the network's last operation)
VALUE_NOOPS = ("Identity", "Flatten")


def _identity_on_probabilities(layer: Layer) -> bool:
    """The layer leaves every value in (0, 1) as it is: Identity, Flatten, ReLU, LeakyReLU, a HardTanh / ReLU6 /
    clamp whose range holds [0, 1]."""
    if layer.kind in VALUE_NOOPS or layer.kind in ("ReLU", "LeakyReLU"):
        return True
    lo, hi = getattr(layer, "min_val", None), getattr(layer, "max_val", None)
    return layer.kind == "HardTanh" and lo is not None and hi is not None and lo <= 0.0 and hi >= 1.0


def output_sigmoid(layers: Sequence[Layer]) -> int | None:
    """The index of a Sigmoid after which every layer leaves a probability as it is (a classifier's output
    probability), or None. (A Sigmoid before a trailing Identity, Flatten, ReLU or clamp was kept: every input was
    read as class 1.)"""
    k = len(layers) - 1
    while k >= 0 and _identity_on_probabilities(layers[k]):
        k -= 1
    return k if k >= 0 and layers[k].kind == "Sigmoid" else None


def without_output_sigmoid(layers: Sequence[Layer], k: int) -> list[Layer]:
    """``layers`` without the output Sigmoid at ``k`` and the activations after it (identities on its range, not on
    the logit's): the logit, through the Identity / Flatten layers that follow."""
    return [*layers[:k], *(layer for layer in layers[k + 1 :] if layer.kind in VALUE_NOOPS)]


def dropped_output(net: "Network") -> str | None:
    """The output operation an importer removed to leave logits ("Sigmoid", "Softmax", "LogSoftmax"), or None:
    ONNX and torch record it, a scikit-learn MLP its ``out_activation_`` (logistic, softmax). Properties about
    output values were checked on the logits of a torch model (a reachable probability of 0.62 said "holds")."""
    meta = net.metadata or {}
    op = meta.get("onnx_dropped_output") or meta.get("torch_dropped_output")
    if op:
        return str(op)
    return {"logistic": "Sigmoid", "softmax": "Softmax"}.get(str(meta.get("output_activation")))


#: the most values one row may have at any layer (1e8 float64 = 800 MB per row): a file of a few hundred bytes
#: declaring an input of 1e9 features or a padding of 30 000 asked for gigabytes and ended in a MemoryError
MAX_VALUES_PER_ROW = 10**8


def _checked_size(shape: Sequence[int], what: str) -> int:
    """The number of values of ``shape`` (exact integers), refused above :data:`MAX_VALUES_PER_ROW`."""
    n = 1
    for s in shape:
        n *= int(s)
    if n > MAX_VALUES_PER_ROW:
        raise ModelFormatError(
            f"{what} has {n:.3g} values per row (shape {tuple(shape)}), more than mipnet handles "
            f"({MAX_VALUES_PER_ROW:.0e}): is the model file corrupt?"
        )
    return n


def _name_list(v: Any, what: str) -> list[Any]:
    """A list of names from a list or tuple (a string would be read letter by letter, a number not at all)."""
    if isinstance(v, (str, bytes)) or not isinstance(v, (list, tuple, np.ndarray)):
        raise ModelFormatError(f"the {what} must be a list, not {type(v).__name__} {v!r:.60}")
    return list(v)


class Network:
    """A feed-forward network over a typed input domain."""

    def __init__(
        self,
        layers: Sequence[Layer],
        domain: Domain | None = None,
        input_shape: Sequence[int] | None = None,
        class_names: Sequence[Any] | None = None,
        output_names: Sequence[str] | None = None,
        task: str = "classify",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise ModelFormatError("a network needs at least one layer")
        if input_shape is None:
            if domain is not None:
                input_shape = (domain.n_features,)
            else:
                n_first = self.layers[0].flat_input_size
                if n_first is None:
                    raise ModelFormatError("give input_shape or a domain when the first layer is not Dense")
                input_shape = (n_first,)
        self.input_shape: Shape = tuple(int(s) for s in input_shape)
        n_in = _checked_size(self.input_shape, "the input")
        self.domain = domain if domain is not None else Domain.box(n_in, -np.inf, np.inf)
        if self.domain.n_features != n_in:
            raise ModelFormatError(
                f"the domain has {self.domain.n_features} features but the input shape {self.input_shape} has {n_in}"
            )
        if task not in TASKS:
            raise ModelFormatError(f"task must be one of {TASKS}, got {task!r}")
        self.task = task
        self.metadata: dict[str, Any] = dict(metadata or {})
        self.shapes: list[Shape] = self._chain_shapes()
        out = self.shapes[-1]
        if len(out) != 1:
            raise ModelFormatError(f"the last layer must produce a flat output, got shape {out}")
        self.class_names = _name_list(class_names, "class names") if class_names is not None else None
        if self.class_names is not None and len({str(c) for c in self.class_names}) != len(self.class_names):
            raise ModelFormatError(f"the class names repeat a name: {self.class_names[:8]}")
        if task == "classify" and out[0] == 1 and output_sigmoid(self.layers) is not None:
            raise ModelFormatError(
                "a one-output classifier ending in Sigmoid returns a probability (class 1 above 0.5), while mipnet "
                "classifies by the sign of a logit: remove the final Sigmoid (the importers drop it)"
            )
        if task == "classify" and self.class_names is None:
            self.class_names = [0, 1] if out[0] == 1 else list(range(out[0]))
        if self.class_names is not None and task == "classify":
            expected = 2 if out[0] == 1 else out[0]
            if len(self.class_names) != expected:
                raise ModelFormatError(f"{len(self.class_names)} class names for a network with {out[0]} output(s)")
        self.output_names = (
            _name_list(output_names, "output names") if output_names is not None else [f"y{i}" for i in range(out[0])]
        )
        if len(self.output_names) != out[0]:
            raise ModelFormatError(f"{len(self.output_names)} output names for {out[0]} outputs")

    # ------------------------------------------------------------------ structure
    def _chain_shapes(self) -> list[Shape]:
        shapes = [self.input_shape]
        for i, layer in enumerate(self.layers):
            try:
                shapes.append(tuple(layer.output_shape(shapes[-1])))
            except ModelFormatError as exc:
                raise ModelFormatError(f"layer {i} ({layer.kind}): {exc}") from None
            _checked_size(shapes[-1], f"layer {i} ({layer.kind})'s output")
        return shapes

    @property
    def n_inputs(self) -> int:
        return self.domain.n_features

    @property
    def n_outputs(self) -> int:
        return self.shapes[-1][0]

    @property
    def feature_names(self) -> list[str]:
        return self.domain.names

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Layer]:
        return iter(self.layers)

    def __repr__(self) -> str:
        return f"Network({self.input_shape} -> {' -> '.join(l.kind for l in self.layers)} -> {self.shapes[-1]})"

    # ------------------------------------------------------------------ forward pass
    def _check_input(self, X: Any) -> np.ndarray:
        X = self._by_feature_name(X)
        try:
            X = np.asarray(X, dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError("the data are not numeric") from None
        if X.ndim == 0:
            raise DataError("the data must be a vector or a matrix of feature values")
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2:
            X = X.reshape(X.shape[0], -1)
        if X.shape[1] != self.n_inputs:
            raise DataError(f"the model takes {self.n_inputs} features, the data have {X.shape[1]}")
        if not np.all(np.isfinite(X)):
            raise DataError("the data contain NaN or inf values")
        return X

    def _by_feature_name(self, X: Any) -> Any:
        """A table (a pandas DataFrame) whose columns name any of the model's features is read by name, in the
        model's order (columns in another order gave other predictions, silently; the estimators and ``mipnet
        predict`` read by name); a feature it lacks is an error. A table naming none of them is read by position."""
        columns = getattr(X, "columns", None)
        if columns is None or not hasattr(X, "loc"):
            return X
        names = list(self.feature_names)
        have = [c for c in columns if isinstance(c, str)]
        if not set(have) & set(names):
            return X
        missing = [n for n in names if n not in set(have)]
        if missing:
            raise DataError(
                f"the table lacks the model's feature columns {missing[:5]}{' ...' if len(missing) > 5 else ''}"
            )
        return X.loc[:, names]

    def forward_trace(self, X: Any) -> list[np.ndarray]:
        """All intermediate values: element i is the input of layer i, the last is the output."""
        X = self._check_input(X)
        values = [X.reshape((X.shape[0],) + self.input_shape)]
        for layer in self.layers:
            values.append(layer.forward(values[-1]))
        return values

    def forward(self, X: Any) -> np.ndarray:
        """Network outputs (logits for a classifier), shape (N, n_outputs)."""
        return self.forward_trace(X)[-1]

    __call__ = forward

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classify) or outputs (regress; a single output is returned as a vector)."""
        out = self.forward(X)
        bad = np.flatnonzero(~np.all(np.isfinite(out), axis=1))
        if bad.size:  # (a NaN score was class 0, an overflow class 1, silently)
            raise DataError(
                f"row {int(bad[0])}: the model's outputs overflow (inf or NaN) at these inputs; no prediction"
            )
        if self.task == "regress":
            return out[:, 0] if out.shape[1] == 1 else out
        return np.asarray(self.class_names, dtype=object)[self.predict_index(out)]

    def predict_index(self, logits: np.ndarray) -> np.ndarray:
        """Index of the predicted class from logits (one logit: class 1 iff logit > 0)."""
        if logits.shape[1] == 1:
            return (logits[:, 0] > 0).astype(int)
        return np.argmax(logits, axis=1)

    def activation_patterns(self, X: Any) -> list[np.ndarray]:
        """For every ReLU/LeakyReLU layer, a boolean array (N, *shape): True where the unit is on (z > 0)."""
        trace = self.forward_trace(X)
        return [trace[i] > 0 for i, layer in enumerate(self.layers) if layer.gated]

    # ------------------------------------------------------------------ counts
    def n_params(self) -> int:
        return sum(layer.n_params() for layer in self.layers)

    def n_weights(self, include_bias: bool = False) -> int:
        """The number of weights: entries of the Dense and Conv2D weight arrays (the denominator of
        :meth:`n_nonzero`; biases only with ``include_bias``). :meth:`n_params` counts every parameter."""
        return sum(l.weight.size + (l.bias.size if include_bias else 0) for l in self._trainable())

    def n_nonzero(self, include_bias: bool = False) -> int:
        """The number of non-zero weights, mipnet's one sparsity count.

        Counted: the entries of the weight arrays of the trainable layers (Dense and Conv2D) that are
        not 0. Not counted: biases (unless ``include_bias=True``, which adds the non-zero Dense/Conv2D
        biases), and never the parameters of Normalize layers (the fixed input scaling, imported batch
        norms), which training does not choose. Out of :meth:`n_weights`; for all parameters see
        :meth:`n_params`.
        """
        return sum(
            int(np.count_nonzero(l.weight)) + (int(np.count_nonzero(l.bias)) if include_bias else 0)
            for l in self._trainable()
        )

    def _trainable(self) -> list[Dense | Conv2D]:
        return cast("list[Dense | Conv2D]", [l for l in self.layers if l.parametrised])

    def _unit_layers(self) -> list[tuple[int, int]]:
        """Pairs (producer, consumer) of parametrised layers separated only by activations/pools/flatten."""
        param = [i for i, l in enumerate(self.layers) if l.parametrised]
        return list(zip(param[:-1], param[1:]))

    def _param_layer(self, i: int) -> Dense | Conv2D:
        """Layer ``i``, an index :meth:`_unit_layers` gives (so a Dense or a Conv2D)."""
        return cast("Dense | Conv2D", self.layers[i])

    def _outgoing(self, prod: int, cons: int) -> np.ndarray:
        """Per unit (neuron or channel) of the producer, the max |weight| it feeds into the consumer."""
        p, c = self._param_layer(prod), self._param_layer(cons)
        # the consumer's input columns grouped by the producer's unit (channel blocks after Flatten)
        return np.abs(c.input_unit_weights(p.units)).max(axis=(0, 2))

    def _incoming(self, prod: int) -> np.ndarray:
        p = self._param_layer(prod)
        w = np.abs(p.weight)
        return w.reshape(w.shape[0], -1).max(axis=1)

    def active_units(self) -> list[dict[str, Any]]:
        """Per hidden Dense/Conv2D layer: units (neurons or channels) with nonzero in- and out-weights."""
        rows = []
        for prod, cons in self._unit_layers():
            active = (self._incoming(prod) > 0) & (self._outgoing(prod, cons) > 0)
            kind = self._param_layer(prod).unit_name
            rows.append({"layer": prod, "kind": kind, "total": int(active.size), "active": int(active.sum())})
        return rows

    def n_active_neurons(self) -> int:
        return sum(r["active"] for r in self.active_units() if r["kind"] == "neurons")

    def n_active_channels(self) -> int:
        return sum(r["active"] for r in self.active_units() if r["kind"] == "channels")

    def summary(self) -> dict[str, Any]:
        return {
            "input_shape": list(self.input_shape),
            "layers": [repr(l) for l in self.layers],
            "shapes": [list(s) for s in self.shapes],
            "task": self.task,
            "classes": [str(c) for c in self.class_names] if self.class_names is not None else None,
            "n_params": self.n_params(),
            "n_weights": self.n_weights(),
            "n_nonzero": self.n_nonzero(),
            "units": self.active_units(),
        }

    # ------------------------------------------------------------------ pruning
    def _between_ok(self, prod: int, cons: int) -> bool:
        """Only activations, pools and a Flatten between producer and consumer (unit structure kept)."""
        for layer in self.layers[prod + 1 : cons]:
            if not layer.keeps_units:
                return False
        return True

    def _constant_through(self, prod: int, cons: int, value: float) -> float | None:
        """The value a constant unit output ``value`` has at the consumer, or None if not constant."""
        v: np.ndarray | None = np.array([value])
        for layer in self.layers[prod + 1 : cons]:
            assert v is not None
            v = layer.carry_constant(v)
            if v is None:
                return None
        assert v is not None
        return float(v[0])

    def pruned(self, fold_constants: bool = True) -> "Network":
        """A copy without dead neurons/channels; the function computed is unchanged.

        A unit is removed when all its outgoing weights are zero, or (``fold_constants``) when all its incoming
        weights are zero (it is then a constant c = act(b), folded into the consumer's bias; for a channel
        only when that constant is 0, since a constant channel meets zero padding downstream). A trained network
        keeps its constant units (``fold_constants=False``): folding one moves v c into a bias that may leave its
        box and drops the weights v its certificate's penalty terms count.
        """
        net = copy.deepcopy(self)
        changed = True
        while changed:
            changed = False
            for prod, cons in net._unit_layers():
                if not net._between_ok(prod, cons):
                    continue
                p, c = net._param_layer(prod), net._param_layer(cons)
                out = net._outgoing(prod, cons)
                inc = net._incoming(prod)
                n_units = out.size
                remove = out == 0
                for k in np.flatnonzero((inc == 0) & ~remove) if fold_constants else ():
                    const = net._constant_through(prod, cons, float(p.bias[k]))
                    if const is None:
                        continue
                    if p.unit_name == "neurons" and c.absorb_constant_input(int(k), const):
                        remove[k] = True
                    elif const == 0.0:
                        remove[k] = True
                if remove.all():
                    # keep one unit so shapes stay valid; its contribution is zero or already folded
                    # into the consumer's bias, so its outgoing weights are zeroed
                    kept = int(np.argmax(out))
                    remove[kept] = False
                    c.zero_input_unit(kept, n_units)
                if not remove.any():
                    continue
                keep = ~remove
                p.keep_units(keep)
                c.keep_input_units(keep, n_units)
                net.shapes = net._chain_shapes()
                changed = True
        return net

    # ------------------------------------------------------------------ serialisation
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "task": self.task,
            "input_shape": list(self.input_shape),
            "domain": self.domain.to_dict(),
            "class_names": self.class_names,
            "output_names": self.output_names,
            "layers": [l.to_dict() for l in self.layers],
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, d: Any) -> "Network":
        if not isinstance(d, dict):
            raise ModelFormatError("a mipnet model must be a JSON object")
        if d.get("format") != FORMAT_NAME:
            raise ModelFormatError('not a mipnet model file (missing "format": "mipnet")')
        version = d.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise ModelFormatError(f"invalid model format version {version!r}")
        if version > FORMAT_VERSION:
            raise ModelFormatError(
                f"model format version {version} is newer than this mipnet reads ({FORMAT_VERSION}); upgrade mipnet"
            )
        for key in ("layers", "domain"):
            if key not in d:
                raise ModelFormatError(f"model file is missing field {key!r}")
        if not isinstance(d["layers"], list):
            raise ModelFormatError("model field 'layers' must be a list")
        input_shape = d.get("input_shape")
        if input_shape is not None and not (
            isinstance(input_shape, list)
            and input_shape
            and all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in input_shape)
        ):
            raise ModelFormatError(f"model field 'input_shape' must list positive integers, not {input_shape!r}")
        for key in ("class_names", "output_names"):
            if d.get(key) is not None and not isinstance(d[key], list):
                raise ModelFormatError(f"model field {key!r} must be a list or null")
        if d.get("metadata") is not None and not isinstance(d["metadata"], dict):
            raise ModelFormatError("model field 'metadata' must be an object")
        layers = []
        for i, l in enumerate(d["layers"]):
            try:
                layers.append(layer_from_dict(l))
            except MipnetError as exc:
                raise type(exc)(f"layer {i}: {exc}") from None
        try:
            return cls(
                layers,
                domain=Domain.from_dict(d["domain"]),
                input_shape=input_shape,
                class_names=d.get("class_names"),
                output_names=d.get("output_names"),
                task=d.get("task", "classify"),
                metadata=d.get("metadata") or {},
            )
        except (TypeError, ValueError) as exc:  # a field of the wrong JSON type deeper down
            raise ModelFormatError(f"malformed model file: {exc}") from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), allow_nan=False)

    def fingerprint(self) -> str:
        """SHA-256 of the model's function: layers, domain and shape (metadata excluded): the hash of the
        canonical JSON text of :meth:`to_dict`.

        The JSON text of a net with millions of weights takes seconds to write (one float repr per weight), and
        an audit asks for the fingerprint of one net several times. Recent results are kept, keyed by a digest of
        the dict's pickle (a few percent of the JSON's cost): equal pickles are equal dicts, hence equal JSON
        texts, so a hit is exact; an edited weight changes the pickle and is hashed afresh."""
        d = self.to_dict()
        d.pop("metadata")
        try:
            key: bytes | None = hashlib.sha256(pickle.dumps(d, protocol=5)).digest()
        except Exception:  # an unpicklable class name: no cache
            key = None
        if key is not None and key in _FINGERPRINTS:
            _FINGERPRINTS.move_to_end(key)
            return _FINGERPRINTS[key]
        # numpy scalars (e.g. class names from np.unique) hash as the plain values a saved file holds
        text = json.dumps(
            d, sort_keys=True, allow_nan=False, default=lambda o: o.item() if isinstance(o, np.generic) else str(o)
        )
        digest = hashlib.sha256(text.encode()).hexdigest()
        if key is not None:
            _FINGERPRINTS[key] = digest
            while len(_FINGERPRINTS) > _FINGERPRINT_CACHE_SIZE:
                _FINGERPRINTS.popitem(last=False)
        return digest

    def copy(self) -> "Network":
        return copy.deepcopy(self)

    def with_domain(self, domain: Domain) -> "Network":
        net = self.copy()
        if domain.n_features != net.n_inputs:
            raise ModelFormatError(f"domain has {domain.n_features} features, the model takes {net.n_inputs}")
        net.domain = domain
        return net
