"""Reading a solution of the training MILP back: weights, the network they define, the numpy forward pass on
the training data, and the model's size and objective terms (as methods of
:class:`~.formulation.TrainingProblem`, through :class:`Readback`).

Conventions (the layer switches of :mod:`.formulation`): a switched hidden layer whose weights and bias are all
exactly zero is *skipped*, i.e. the identity; the network returned leaves out its Dense + ReLU pair, and the
forward pass passes its input through. Discrete weights are rounded to their exact grid values
s (offset + sum_t c_t round(beta_t)); values below 1e-9 in magnitude are zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyomo.environ as pyo

from ..layers import Weighted
from ..network import Network
from .problem_state import ProblemState


class Readback(ProblemState):
    """Solution -> weights -> :class:`~mipnet.network.Network` (and the traces the warm start and the
    certificate read); see the module docstring."""

    # the linear term (:mod:`.linear_term`) and the domain constraints' binaries (:mod:`.constraint_rows`)
    linear_var: Any
    linear_w: np.ndarray | None
    constraint_binaries: list[tuple[Any, Any]]

    def skipped_layers(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Per hidden layer: True iff it has a layer switch and its weights and bias are all exactly zero,
        i.e. it is the identity (module docstring)."""
        o = self.hidden_offset
        return np.array(
            [
                r is not None and not np.any(weights[o + l][0]) and not np.any(weights[o + l][1])
                for l, r in enumerate(self.layer_switch)
            ],
            dtype=bool,
        )

    def skipped_params(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """:meth:`skipped_layers` per parametrised layer (conv layers and the output layer: False)."""
        out = np.zeros(len(self.dense_idx), dtype=bool)
        skip = self.skipped_layers(weights)
        out[self.hidden_offset : self.hidden_offset + skip.size] = skip
        return out

    def consumers(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> list[int]:
        """For each parametrised layer k but the last, the layer that reads its units in the network
        without the skipped layers: the first k' > k that is not skipped (k + 1 without switches)."""
        skip = self.skipped_params(weights)
        out = []
        for k in range(len(self.dense_idx) - 1):
            c = k + 1
            while skip[c]:
                c += 1
            out.append(c)
        return out

    def zero_dead_units(self, w: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """A hidden unit without outgoing weight (in its consumer, past skipped layers) gets zero incoming
        weights and bias (required by the switches); repeated until nothing changes; ``w`` is changed in place
        and returned. The function is kept: a layer that becomes all zero had only dead units, so as the
        identity it feeds zero weights too. Conv problems (:class:`~.conv.ConvTrainingProblem`) zero channels too."""
        changed = True
        while changed:
            changed = False
            skip = self.skipped_params(w)
            cons = self.consumers(w)
            for l in range(len(w) - 1):
                if skip[l]:
                    continue
                dead = np.all(w[cons[l]][0] == 0, axis=0) & (np.any(w[l][0] != 0, axis=1) | (w[l][1] != 0))
                if dead.any():
                    w[l][0][dead] = 0.0
                    w[l][1][dead] = 0.0
                    changed = True
        return w

    def _filled(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> Network:
        net = self.template.copy()
        for i, (W, b) in zip(self.dense_idx, weights):
            layer = net.layers[i]
            assert isinstance(layer, Weighted)  # dense_idx: the parametrised layers
            layer.weight = np.asarray(W, dtype=np.float64).reshape(layer.weight.shape).copy()
            layer.bias = np.asarray(b, dtype=np.float64).copy()
        return net

    def network_with(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> Network:
        """The template with ``weights`` (one (W, b) per parametrised layer), standardised inputs; the
        Dense + ReLU pair of every skipped layer (all zero, the identity) is left out."""
        net = self._filled(weights)
        o = self.hidden_offset
        drop: set[int] = set()
        for l in np.flatnonzero(self.skipped_layers(weights)):
            i = self.dense_idx[o + l]
            drop.update((i, i + 1))
        if not drop:
            return net
        return Network(
            [layer for i, layer in enumerate(net.layers) if i not in drop],
            domain=net.domain,
            input_shape=net.input_shape,
            class_names=net.class_names,
            output_names=net.output_names,
            task=net.task,
            metadata=net.metadata,
        )

    def template_trace(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
        """Numpy forward pass of the template on the training data: element i is the input of template
        layer i, the last the output. A skipped layer's Dense output is W h + b = 0 (as in the MILP) and
        its ReLU returns the Dense layer's input h (the identity)."""
        net = self._filled(weights)
        o = self.hidden_offset
        ident = {self.dense_idx[o + l] + 1 for l in np.flatnonzero(self.skipped_layers(weights))}
        vals = [self.X.reshape((self.N,) + tuple(net.input_shape))]
        for i, layer in enumerate(net.layers):
            vals.append(vals[i - 1] if i in ident else layer.forward(vals[i]))
        return vals

    def pre_activations(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> tuple[list[np.ndarray], np.ndarray]:
        """Numpy forward pass on the training data: per template ReLU layer its input (N, flat; zero for a
        skipped layer), and the outputs."""
        trace = self.template_trace(weights)
        pre = [trace[i].reshape(self.N, -1) for i, l in enumerate(self.template.layers) if l.gated]
        return pre, trace[-1]

    def selection_values(self, weights: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        """Values of further binaries implied by ``weights`` (a ComponentMap; conv: max-pool selections)."""
        from pyomo.common.collections import ComponentMap

        out = ComponentMap()
        if getattr(self, "constraint_binaries", None):  # the domain constraints' binaries (:mod:`.constraint_rows`)
            from .constraint_rows import constraint_values

            out.update(constraint_values(self, weights))
        return out

    def weight_values(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Current (W, b) per Dense layer; discrete weights rounded to their exact grid values."""
        out = []
        for lp in self.params:
            b = np.array([_val(e) for e in lp.bias])
            if lp.kind == "continuous":
                W = np.vectorize(_val, otypes=[float])(lp.weight)
            else:
                W = np.zeros(lp.shape)
                for k, (s, off, bits) in lp.expansion.items():
                    W.flat[k] = s * (off + sum(c * round(_val(bv)) for c, bv in bits))
            W[np.abs(W) < 1e-9] = 0.0
            b[np.abs(b) < 1e-9] = 0.0
            out.append((W, b))
        if getattr(self, "linear_var", None) is not None:  # the linear term's w0 (:mod:`.linear_term`)
            from .linear_term import read_linear

            read_linear(self)
        return self._present_zero_layers(out)

    def _present_zero_layers(self, out: list[tuple[np.ndarray, np.ndarray]]) -> list[tuple[np.ndarray, np.ndarray]]:
        """A switched layer with r_l = 1 but all-zero weights and bias outputs g^l = ReLU(0) = 0, so the
        weights reading it (the next layer's, and through skipped layers the next present one's) do not
        matter: they are zeroed, and the convention (all zero = identity, then fed into zero weights)
        computes the same function at a no larger objective."""
        o = self.hidden_offset
        for l, r in enumerate(self.layer_switch):
            k = o + l
            if r is None or round(_val(r)) == 0 or np.any(out[k][0]) or np.any(out[k][1]):
                continue
            c = k + 1
            while True:
                out[c][0][...] = 0.0
                rc = self.layer_switch[c - o] if c - o < len(self.layer_switch) else None
                if rc is None or round(_val(rc)) == 1:
                    break
                c += 1
        return out

    def binaries(self) -> list[Any]:
        return [v for v in self.model.component_data_objects(pyo.Var) if v.is_binary()]

    def objective_value(self) -> float:
        return float(pyo.value(self.model.obj))

    def term_values(self) -> dict[str, float]:
        return {k: float(pyo.value(e)) for k, e in self.terms.items()}

    def size(self) -> dict[str, int]:
        n_var = sum(1 for _ in self.model.component_data_objects(pyo.Var))
        n_bin = len(self.binaries())
        n_con = sum(1 for _ in self.model.component_data_objects(pyo.Constraint, active=True))
        return {"variables": n_var, "binaries": n_bin, "constraints": n_con}


def _val(e: Any) -> float:
    if isinstance(e, (int, float, np.floating)):
        return float(e)
    v = pyo.value(e, exception=False)
    return 0.0 if v is None else float(v)


__all__ = ["Readback"]
