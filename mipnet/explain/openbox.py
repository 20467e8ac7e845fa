"""Exact interpretation of a piecewise-linear network as a set of local linear classifiers (OpenBox).

A network built from affine layers (Dense, Conv2D, AvgPool2D, Normalize, Flatten) and piecewise-linear
activations (ReLU, LeakyReLU, MaxPool2D, Identity) is affine on each *activation region*. The region
of an input x is fixed by its **configuration** C(x):

* for every ReLU / LeakyReLU unit u, the bit  s_u = 1[z_u(x) > 0]   (z_u its pre-activation);
* for every MaxPool2D output o over the window P_o, the winner  w_o = argmax_{k in P_o} z_k(x).

With C fixed, every activation is a fixed linear map: ReLU multiplies by diag(s), LeakyReLU by
diag(s + alpha (1 - s)), MaxPool selects the winners' rows. Composing layer by layer,

    z^(l)(x) = W^(l) x + b^(l)     for every pre-activation layer l,
    f(x)     = W^ x + b^           (the local linear classifier of C; its rows are the decision features),

and the region is the polyhedron

    P(C) = { x :  (2 s_u - 1) z_u(x) >= 0                  for every ReLU/LeakyReLU unit u,
                  z_k(x) <= z_{w_o}(x)   for every k in P_o \\ {w_o}, every max-pool output o }

written here as G x <= h with  G_u = -(2 s_u - 1) W^(l)_u,  h_u = (2 s_u - 1) b^(l)_u  and
G_{o,k} = W^(l)_k - W^(l)_{w_o},  h_{o,k} = b^(l)_{w_o} - b^(l)_k.  Within the input box
lo <= x <= hi, inequality i is **redundant** iff

    max { G_i x : G_j x <= h_j (j != i), lo <= x <= hi }  <=  h_i ,

one LP per inequality (HiGHS through scipy). The non-redundant rows are the polytope's boundary
features. The maps are computed for all configurations at once (batched numpy), which makes the whole
interpretation of a data set cost about one forward pass per distinct configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
from scipy.optimize import linprog

from ..deadline import Deadline, OutOfTime
from ..errors import DataError, SolverError, UnsupportedError
from ..layers import Layer, Shape
from ..network import Network

#: float budget (number of float64 values) of one batch of configurations during propagation
_BATCH_FLOATS = 2.5e7
#: refuse interpretations whose stored maps would exceed this many float64 values (about 4 GB)
_MAX_STORED_FLOATS = 5e8


# ----------------------------------------------------------------------------- structure


@dataclass(frozen=True)
class PieceLayer:
    """A layer whose behaviour depends on the configuration, and its slice of the configuration code."""

    layer: int  #: index in ``net.layers``
    kind: str  #: "relu", "leaky" or "maxpool"
    input_shape: Shape  #: shape of the layer's input (the pre-activation)
    offset: int  #: first column of this layer in a configuration code
    n_codes: int  #: number of code columns (units for ReLU, pooled outputs for MaxPool)
    alpha: float = 0.0  #: LeakyReLU slope
    windows: np.ndarray | None = None  #: MaxPool: (n_codes, kh*kw) flat input index per window slot, -1 = pad
    #: ReLU: unit pairs (p, q) whose states do not change the map (:func:`value_pairs`); coded p on, q off
    pairs: tuple[tuple[int, int], ...] = ()

    @property
    def n_inputs(self) -> int:
        return int(np.prod(self.input_shape))


def piece_layers(net: Network) -> list[PieceLayer]:
    """The configuration-dependent layers of ``net`` (raises UnsupportedError for smooth activations)."""
    pieces: list[PieceLayer] = []
    offset = 0
    for i, layer in enumerate(net.layers):
        shape = net.shapes[i]
        if layer.gated:
            n = int(np.prod(shape))
            assert layer.piece_kind is not None  # a gated activation is a "relu" or "leaky" piece
            pairs = value_pairs(net, i) if layer.piece_kind == "relu" else ()
            pieces.append(PieceLayer(i, layer.piece_kind, shape, offset, n, layer.negative_slope, pairs=pairs))
            offset += n
        elif layer.piece_kind is not None:  # a max-pool selection
            win = layer.flat_windows(shape)
            pieces.append(PieceLayer(i, layer.piece_kind, shape, offset, win.shape[0], 0.0, win))
            offset += win.shape[0]
        elif not (layer.affine or layer.passthrough):
            what = (
                "a piecewise-linear layer this explanation does not read yet"
                if layer.piecewise_linear
                else ("not piecewise linear")
            )  # (HardTanh was called "not piecewise linear")
            raise UnsupportedError(
                f"layer {i} ({layer.kind}) is {what}: exact interpretation needs "
                "ReLU, LeakyReLU, MaxPool2D or affine layers"
            )
    return pieces


def value_pairs(net: Network, i: int) -> tuple[tuple[int, int], ...]:
    """Unit pairs (p, q) of the ReLU layer i between two Dense layers with W_q = -W_p != 0, b_q = -b_p and out-weights
    V_q = -V_p (bit for bit): V_p max(0, z) + V_q max(0, -z) = V_p z whatever their states, so they split no region
    (the linear term of ``train(linear=True)`` is such pairs, :mod:`mipnet.train.linear_term`; its regions were
    counted twice and its plane listed as a boundary)."""
    if not 0 < i < len(net.layers) - 1 or net.layers[i - 1].kind != "Dense" or net.layers[i + 1].kind != "Dense":
        return ()
    prev, nxt = net.layers[i - 1].parameters(), net.layers[i + 1].parameters()
    W, b = np.asarray(prev["weight"], np.float64), np.asarray(prev["bias"], np.float64)
    V = np.asarray(nxt["weight"], np.float64)

    def key(j: int, sign: float) -> bytes:  # + 0.0 makes -0.0 the +0.0 of the partner's bytes
        return (sign * np.concatenate([W[j], [b[j]], V[:, j]]) + 0.0).tobytes()

    rows = {key(j, 1.0): j for j in range(W.shape[0]) if np.any(W[j])}
    pairs: list[tuple[int, int]] = []
    used: set[int] = set()
    for p in range(W.shape[0]):
        q = rows.get(key(p, -1.0)) if np.any(W[p]) and p not in used else None
        if q is not None and q != p and q not in used:
            pairs.append((p, q))
            used.update((p, q))
    return tuple(pairs)


def configurations(net: Network, X: Any, pieces: Sequence[PieceLayer] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Configuration code of every row of X and the network outputs.

    Returns ``codes`` (N, P) int16 (ReLU bits, then max-pool winners as window slots) and ``out`` (N, n_out).
    """
    pieces = piece_layers(net) if pieces is None else pieces
    trace = net.forward_trace(X)
    n = trace[0].shape[0]
    cols = []
    for p in pieces:
        z = trace[p.layer].reshape(n, -1)
        if p.kind in ("relu", "leaky"):
            col = (z > 0).astype(np.int16)
            for u, v in p.pairs:  # one code for both states of a pair (the same map)
                col[:, u], col[:, v] = 1, 0
            cols.append(col)
        else:
            ext = np.concatenate([z, np.full((n, 1), -np.inf)], axis=1)  # index -1 (padding) -> -inf
            cols.append(np.argmax(ext[:, p.windows], axis=2).astype(np.int16))
    codes = np.concatenate(cols, axis=1) if cols else np.zeros((n, 0), dtype=np.int16)
    return codes, trace[-1]


# ----------------------------------------------------------------------------- affine maps


def _linear_part(layer: Layer, V: np.ndarray) -> np.ndarray:
    """The linear part L(v) - L(0) of an affine layer, on a batch V (:meth:`mipnet.layers.Layer.linear_forward`)."""
    return layer.linear_forward(V)


@dataclass
class AffineMaps:
    """For K configurations: the affine map of every piece layer's input and of the output.

    ``pre_weight[j]`` has shape (K, units_j, n_in) and ``pre_bias[j]`` (K, units_j) for piece layer j;
    ``weight`` (K, n_out, n_in) and ``bias`` (K, n_out) are the local linear classifiers.
    """

    pre_weight: list[np.ndarray]
    pre_bias: list[np.ndarray]
    weight: np.ndarray
    bias: np.ndarray


def _check_codes(codes: np.ndarray, pieces: Sequence[PieceLayer]) -> None:
    for p in pieces:
        block = codes[:, p.offset : p.offset + p.n_codes]
        if p.kind in ("relu", "leaky"):
            if np.any((block != 0) & (block != 1)):
                raise DataError(f"configuration codes of layer {p.layer} must be 0/1")
        else:
            assert p.windows is not None  # a max-pool piece layer carries its windows
            kk = p.windows.shape[1]
            if np.any((block < 0) | (block >= kk)):
                raise DataError(f"max-pool winners of layer {p.layer} must lie in 0..{kk - 1}")
            if np.any(p.windows[np.arange(p.n_codes)[None, :], block] < 0):
                raise DataError(f"a max-pool winner of layer {p.layer} points at padding")


def affine_maps(net: Network, codes: np.ndarray, pieces: Sequence[PieceLayer] | None = None) -> AffineMaps:
    """Closed-form affine maps of ``net`` for each configuration (rows of ``codes``), batched.

    The input is pushed through as the identity: a value is carried as (A, c) with v = A^T x + c,
    A of shape (K, n_in, *shape). Layers before the first piece layer do not depend on the
    configuration and are pushed once; from there the K configurations go in batches.
    """
    pieces = piece_layers(net) if pieces is None else list(pieces)
    codes = np.asarray(codes)
    if codes.ndim != 2 or codes.shape[1] != sum(p.n_codes for p in pieces):
        raise DataError(f"configuration codes must have shape (K, {sum(p.n_codes for p in pieces)})")
    _check_codes(codes, pieces)
    n_in = net.n_inputs
    K = codes.shape[0]
    by_layer = {p.layer: p for p in pieces}
    first = pieces[0].layer if pieces else len(net.layers)

    # configuration-independent prefix, pushed once
    A = np.eye(n_in).reshape((n_in,) + net.input_shape)
    c = np.zeros((1,) + net.input_shape)
    for i in range(first):
        layer = net.layers[i]
        if layer.affine:
            A = _linear_part(layer, A)
            c = layer.forward(c)
    widths = [int(np.prod(s)) for s in net.shapes[first:]]
    stored = K * n_in * (sum(p.n_inputs for p in pieces) + net.n_outputs)
    if stored > _MAX_STORED_FLOATS:
        raise UnsupportedError(
            f"{K} configurations of a {n_in}-input network need {stored * 8 / 1e9:.1f} GB of affine maps; "
            "explain fewer instances at a time"
        )
    batch = max(1, int(_BATCH_FLOATS // (n_in * max(widths))))
    pre_w = [np.empty((K, p.n_inputs, n_in)) for p in pieces]
    pre_b = [np.empty((K, p.n_inputs)) for p in pieces]
    W = np.empty((K, net.n_outputs, n_in))
    b = np.empty((K, net.n_outputs))
    for start in range(0, K, batch):
        stop = min(K, start + batch)
        k = stop - start
        cb = codes[start:stop]
        Ab = np.broadcast_to(A[None], (k,) + A.shape)
        cc = np.broadcast_to(c, (k,) + c.shape[1:])
        for i in range(first, len(net.layers)):
            layer = net.layers[i]
            shape_in, shape_out = net.shapes[i], net.shapes[i + 1]
            p = by_layer.get(i)
            if p is not None:
                j = pieces.index(p)
                pre_w[j][start:stop] = Ab.reshape(k, n_in, -1).transpose(0, 2, 1)
                pre_b[j][start:stop] = cc.reshape(k, -1)
                code = cb[:, p.offset : p.offset + p.n_codes]
                if p.kind in ("relu", "leaky"):
                    slope = code.astype(np.float64) if p.kind == "relu" else np.where(code == 1, 1.0, p.alpha)
                    slope = slope.reshape((k,) + shape_in)
                    Ab = Ab * slope[:, None]
                    cc = cc * slope
                else:
                    assert p.windows is not None  # a max-pool piece layer carries its windows
                    sel = p.windows[np.arange(p.n_codes)[None, :], code]  # (k, n_out) flat input index
                    Ab = np.take_along_axis(Ab.reshape(k, n_in, -1), sel[:, None, :], axis=2)
                    Ab = Ab.reshape((k, n_in) + shape_out)
                    cc = np.take_along_axis(cc.reshape(k, -1), sel, axis=1).reshape((k,) + shape_out)
            elif layer.affine:
                Ab = _linear_part(layer, Ab.reshape((k * n_in,) + shape_in)).reshape((k, n_in) + shape_out)
                cc = layer.forward(np.ascontiguousarray(cc))
        W[start:stop] = Ab.reshape(k, n_in, -1).transpose(0, 2, 1)
        b[start:stop] = cc.reshape(k, -1)
    return AffineMaps(pre_w, pre_b, W, b)


# ----------------------------------------------------------------------------- polytopes


@dataclass
class Polytope:
    """The region {x : G x <= h} of one configuration; ``labels[i]`` names the unit behind row i."""

    G: np.ndarray
    h: np.ndarray
    labels: list[str]
    layer: np.ndarray  #: network layer index behind each row
    unit: np.ndarray  #: unit (flat index in that layer's input) behind each row


def polytope(
    pieces: Sequence[PieceLayer],
    code: np.ndarray,
    pre_w: Sequence[np.ndarray],
    pre_b: Sequence[np.ndarray],
    n_inputs: int | None = None,
) -> Polytope:
    """Inequalities G x <= h of one configuration from its pre-activation maps (see module docstring); a network
    without piece layers has none (G of shape (0, ``n_inputs``))."""
    Gs, hs, labels, layers, units = [], [], [], [], []
    for j, p in enumerate(pieces):
        A, c = pre_w[j], pre_b[j]
        cd = np.asarray(code[p.offset : p.offset + p.n_codes])
        if p.kind in ("relu", "leaky"):
            s = 2.0 * cd - 1.0
            rows = np.setdiff1d(np.arange(p.n_codes), np.array([u for pair in p.pairs for u in pair], dtype=int))
            Gs.append(-s[rows, None] * A[rows])
            hs.append(s[rows] * c[rows])
            labels += [f"L{p.layer}.u{u}{'+' if cd[u] else '-'}" for u in rows]
            layers.append(np.full(rows.size, p.layer))
            units.append(rows)
        else:
            win = p.windows
            assert win is not None  # a max-pool piece layer carries its windows
            winner = win[np.arange(p.n_codes), cd]
            o, slot = np.nonzero((win >= 0) & (np.arange(win.shape[1])[None, :] != cd[:, None]))
            other = win[o, slot]
            w = winner[o]
            Gs.append(A[other] - A[w])
            hs.append(c[w] - c[other])
            labels += [f"L{p.layer}.p{oo}:{kk}<={ww}" for oo, kk, ww in zip(o, other, w)]
            layers.append(np.full(o.size, p.layer))
            units.append(other)
    n_in = pre_w[0].shape[1] if pre_w else int(n_inputs or 0)
    if not Gs:
        return Polytope(np.zeros((0, n_in)), np.zeros(0), [], np.zeros(0, int), np.zeros(0, int))
    return Polytope(np.concatenate(Gs), np.concatenate(hs), labels, np.concatenate(layers), np.concatenate(units))


#: a row is dropped as redundant only with this margin (unit rows, box units): above HiGHS's tolerances (1e-7), as
#: 1e-9 dropped rows that cut the region by 1.5e-8 (its LP optimum is only as exact as the solver's tolerances)
REDUNDANT_MARGIN = 1e-6


def nonredundant(
    G: np.ndarray,
    h: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    tol: float = REDUNDANT_MARGIN,
    deadline: Deadline | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of G x <= h are needed to describe the polytope inside the box lower <= x <= upper.

    The test runs in the box's own units, x = lower + (upper - lower) u with u in [0, 1] per feature (a feature
    without a finite range keeps its units), so features of very different scales (1e-6 and 1e6) are treated
    alike; rows are then scaled to unit norm. A row is dropped only when it is redundant with a margin: its
    closed-form maximum over the box, or the LP max {G_i x : G_j x <= h_j for the rows j still kept, box}, is at
    most h_i - tol (in u units). A dropped row leaves the later LPs, so of two equal or nearly parallel rows one is
    kept (each alone would make the other redundant); identical rows are merged first. Keeping a row with a
    margin of +-tol is conservative (the described region is exact; a touching row may be listed), dropping one
    never enlarges the region. Zero rows (constant, satisfied in the region) are redundant. Returns the boolean
    mask and, per row, the LP's ``max - h_i`` (in u units; -inf for rows not tested by an LP).

    Each row is divided by its largest entry before its norm is taken (a row of 1e-170 squared to 0 and was
    dropped as a zero row); where the box's units overflow float64 (a box of 1e300 times weights of 1e10) the
    test runs in the features' own units. ``deadline``: checked before every LP; past it, :class:`OutOfTime`
    (no partial answer: a row not tested may be redundant).
    """
    G = np.asarray(G, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    lower = np.asarray(lower, dtype=np.float64)
    upper = np.asarray(upper, dtype=np.float64)
    m = G.shape[0]
    keep = np.zeros(m, dtype=bool)
    excess = np.full(m, -np.inf)
    if m == 0:
        return keep, excess
    if deadline is not None and deadline.expired():
        raise OutOfTime("the time limit came before this region's boundaries were computed")
    with np.errstate(over="ignore"):
        span = upper - lower  # inf for a finite box wider than the largest float ([-1e308, 1e308])
    finite = np.isfinite(lower) & np.isfinite(upper) & np.isfinite(span)
    width = np.where(finite & (upper > lower), span, 1.0)
    half_open = np.isfinite(lower) != np.isfinite(upper)  # one finite end: the unit shift starts there
    shift = np.where(finite | (half_open & np.isfinite(lower)), lower, np.where(half_open, upper, 0.0))
    with np.errstate(over="ignore", invalid="ignore"):
        Gu = G * width  # G x = G (shift + width u) = (G width) u + G shift
        hu = h - np.where(shift != 0, G * shift, 0.0).sum(axis=1)
    if not (np.all(np.isfinite(Gu)) and np.all(np.isfinite(hu))):  # the box's units overflow: the features' own
        width, shift, Gu, hu = np.ones_like(width), np.zeros_like(shift), G, h
    if not (np.all(np.isfinite(Gu)) and np.all(np.isfinite(hu))):
        raise DataError("a region's inequalities are not finite in float64 (weights too large): no boundary is exact")
    lo_u, hi_u = (lower - shift) / width, (upper - shift) / width
    top = np.abs(Gu).max(axis=1)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        Gs = Gu / np.where(top > 0, top, 1.0)[:, None]  # entries of at most 1: the norm neither under- nor overflows
        norms = np.linalg.norm(Gs, axis=1)
        hn = np.where(top > 0, hu / np.where(top > 0, top, 1.0) / np.where(top > 0, norms, 1.0), hu)
    if np.any(np.isneginf(hn) & (top > 0)):
        raise DataError("a region's inequality overflows float64 once scaled (weights too small or too large)")
    live = (top > 0) & np.isfinite(hn)  # a row whose h overflows +inf once scaled is never binding
    Gn = np.where(live[:, None], Gs / np.where(live, norms, 1.0)[:, None], 0.0)
    hn = np.where(live, hn, 0.0)
    # identical rows: only the first representative is tested
    key = np.concatenate([Gn, hn[:, None]], axis=1)
    _, first = np.unique(key, axis=0, return_index=True)
    active = np.zeros(m, dtype=bool)
    active[first] = True
    active &= live
    # closed-form box maximum: a row the box never violates (with the margin) is redundant
    with np.errstate(invalid="ignore", over="ignore"):  # 0 * inf of a feature without a range: the row does not use it
        box_max = np.where(Gn > 0, Gn * hi_u, np.where(Gn < 0, Gn * lo_u, 0.0)).sum(axis=1)
    active &= ~(box_max <= hn - tol)
    bounds = [(float(a) if np.isfinite(a) else None, float(b) if np.isfinite(b) else None) for a, b in zip(lo_u, hi_u)]
    for i in np.flatnonzero(active):
        if deadline is not None and deadline.expired():
            raise OutOfTime("the time limit came before this region's boundaries were computed")
        others = np.flatnonzero(active)
        others = others[others != i]
        res = linprog(
            -Gn[i],
            A_ub=Gn[others] if others.size else None,
            b_ub=hn[others] if others.size else None,
            bounds=bounds,
            method="highs",
        )
        if res.status == 2:  # the other rows and the box are infeasible: empty region
            raise DataError("a configuration's polytope does not meet the input box: are the instances inside it?")
        if res.status == 3:  # unbounded along this row (a feature without a range): a facet
            excess[i] = np.inf
            continue
        if res.status != 0:
            raise SolverError(f"redundancy LP failed: {res.message}")
        excess[i] = -res.fun - hn[i]
        if excess[i] <= -tol:
            active[i] = False  # redundant: the rows kept describe the same polytope
    keep[:] = active
    return keep, excess


# ----------------------------------------------------------------------------- the interpretation


@dataclass
class Interpretation:
    """Local linear classifiers of a network on a data set, one per configuration met.

    Regions are numbered by decreasing number of instances. ``region[n]`` is the region of instance n.
    """

    net: Network
    pieces: list[PieceLayer]
    codes: np.ndarray  #: (K, P) configuration of each region
    region: np.ndarray  #: (N,) region of each instance
    counts: np.ndarray  #: (K,) instances per region
    maps: AffineMaps
    outputs: np.ndarray  #: (N, n_out) network outputs on the instances
    lower: np.ndarray  #: input box used for redundancy
    upper: np.ndarray
    _facets: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    #: the redundancy LPs stop here: :meth:`facets` raises :class:`OutOfTime`, :meth:`summary` marks the regions
    #: left without boundaries (``boundaries_cut``)
    deadline: Deadline | None = field(default=None, repr=False)

    # --------------------------------------------------------------- sizes
    @property
    def n_regions(self) -> int:
        return int(self.codes.shape[0])

    @property
    def weight(self) -> np.ndarray:
        return self.maps.weight

    @property
    def bias(self) -> np.ndarray:
        return self.maps.bias

    @property
    def n_hidden_units(self) -> int:
        """Number of ReLU/LeakyReLU units (N in the 2^N bound on configurations)."""
        return sum(p.n_codes for p in self.pieces if p.kind != "maxpool")

    def log2_bound(self) -> float:
        """log2 of the number of possible configurations: 2 per ReLU unit, |window| per max-pool output."""
        bits = float(self.n_hidden_units)
        for p in self.pieces:
            if p.kind == "maxpool":
                assert p.windows is not None  # a max-pool piece layer carries its windows
                bits += float(np.log2(np.maximum((p.windows >= 0).sum(axis=1), 1)).sum())
        return bits

    # --------------------------------------------------------------- local classifiers
    def local_outputs(self, X: Any, region: np.ndarray | None = None) -> np.ndarray:
        """W^_k x + b^_k for every row, with k = its region (default: the interpreted instances)."""
        X = self.net._check_input(X)
        region = self.region if region is None else self._regions(region)
        if region.shape != (X.shape[0],):
            raise DataError(f"local_outputs needs one region per row ({X.shape[0]}), got shape {region.shape}")
        out = np.empty((X.shape[0], self.net.n_outputs))
        for k in np.unique(region):
            rows = np.flatnonzero(region == k)
            out[rows] = X[rows] @ self.weight[k].T + self.bias[k]
        return out

    def _regions(self, region: Any) -> np.ndarray:
        """Region indices checked to lie in 0 .. n_regions - 1 (numpy would read -1, :meth:`assign`'s "not met",
        as the last region and give its classifier silently)."""
        r = np.asarray(region)
        if r.size and (not np.issubdtype(r.dtype, np.integer) or r.min() < 0 or r.max() >= self.n_regions):
            raise DataError(
                f"region indices must be whole numbers 0 .. {self.n_regions - 1} (assign() gives -1 for a "
                "configuration the interpretation has not met: it has no local classifier here)"
            )
        return r

    def exactness(self, X: Any) -> dict[str, float]:
        """How exactly the local classifiers reproduce the network on the interpreted instances X.

        The relative error of an output is |W^ x + b^ - f(x)| / max(sum_j |W^_ij x_j| + |b^_i|, M(x)), the
        scale of the floating-point sums: the local map's and the forward pass's own (M, :func:`magnitude_trace`),
        so that neither a zero output nor a local map that cancels to 0 where the forward pass adds up terms of 1
        divides round-off by nothing (1e-17 / 1e-308 was reported as a relative error of 5e291). Also checks every
        piece layer's pre-activation. ``exact_fraction`` is the share of instances with relative error <= 1e-9.
        """
        X = self.net._check_input(X)
        if X.shape[0] != self.region.shape[0]:
            raise DataError("exactness needs the same instances that were interpreted")
        trace = self.net.forward_trace(X)
        mags = magnitude_trace(self.net, X)
        worst_rel = np.zeros(X.shape[0])
        worst_abs = 0.0
        targets = [
            (self.maps.pre_weight[j], self.maps.pre_bias[j], trace[p.layer].reshape(X.shape[0], -1), mags[p.layer])
            for j, p in enumerate(self.pieces)
        ]
        targets.append((self.weight, self.bias, trace[-1], mags[-1]))
        for Wk, bk, ref, mag in targets:
            for k in range(self.n_regions):
                rows = np.flatnonzero(self.region == k)
                xr = X[rows]
                got = xr @ Wk[k].T + bk[k]
                scale = np.maximum(np.abs(xr) @ np.abs(Wk[k]).T + np.abs(bk[k]), mag[rows])
                err = np.abs(got - ref[rows])
                worst_abs = max(worst_abs, float(err.max(initial=0.0)))
                rel = np.where(err > 0, err / np.maximum(scale, np.finfo(float).tiny), 0.0)
                rel[~np.isfinite(err) | ~np.isfinite(scale)] = np.inf  # NaN compares false: never "exact"
                worst_rel[rows] = np.maximum(worst_rel[rows], rel.max(axis=1, initial=0.0))
        return {
            "max_abs_error": worst_abs,
            "max_rel_error": float(worst_rel.max(initial=0.0)),
            "exact_fraction": float(np.mean(worst_rel <= 1e-9)),
        }

    def decision_features(self, k: int, cls: int | None = None) -> np.ndarray:
        """Rows of the local classifier of region k: all (n_out, n_in), or class ``cls``'s row."""
        k = int(self._regions(k))
        return self.weight[k] if cls is None else self.weight[k, cls]

    def margin(self, k: int) -> tuple[np.ndarray, float]:
        """(w, b) of the local decision function of region k: logit 1 - logit 0 (two logits) or the logit.

        With more classes, the margin of the class with the largest mean output on the region's rows over the
        runner-up (:meth:`margin_classes`). A regression has no decision: its first output's local model (a
        difference of two predictions means nothing); :meth:`margin_label` says which.
        """
        k = int(self._regions(k))
        W, b = self.weight[k], self.bias[k]
        if W.shape[0] == 1 or self.net.task != "classify":
            return W[0].copy(), float(b[0])
        if W.shape[0] == 2:
            return W[1] - W[0], float(b[1] - b[0])
        top, second = self.margin_classes(k)
        return W[top] - W[second], float(b[top] - b[second])

    def margin_label(self, k: int) -> str:
        """What :meth:`margin` of region k is, in words: ``logit``, ``margin (output B - output A)``, ``model``
        (a regression) or ``model of NAME`` (the first output of a regression with several)."""
        names = self.net.output_names
        if self.net.task != "classify":
            return "model" if len(names) == 1 else f"model of {names[0]}"
        if len(names) == 1:
            return "logit"
        top, second = self.margin_classes(k)
        return f"margin (output {names[top]} - output {names[second]})"

    def margin_classes(self, k: int) -> tuple[int, int]:
        """(top, runner-up) output indices of :meth:`margin` on region k ((1, 0) with two outputs, (0, 0) for
        one output or a regression)."""
        if self.net.task != "classify":
            return (0, 0)
        if self.weight.shape[1] <= 2:
            return (1, 0) if self.weight.shape[1] == 2 else (0, 0)
        # the first of tied outputs wins, as in the prediction (np.argmax; a stable ascending sort put the last first)
        pred = np.argsort(-self.outputs[self.region == k].mean(axis=0), kind="stable")
        return int(pred[0]), int(pred[1])

    # --------------------------------------------------------------- polytopes
    def polytope(self, k: int) -> Polytope:
        k = int(self._regions(k))
        return polytope(
            self.pieces,
            self.codes[k],
            [w[k] for w in self.maps.pre_weight],
            [c[k] for c in self.maps.pre_bias],
            n_inputs=self.net.n_inputs,
        )

    def facets(self, k: int, tol: float = REDUNDANT_MARGIN) -> tuple[Polytope, np.ndarray]:
        """Region k's polytope and the indices of its non-redundant inequalities (cached)."""
        P = self.polytope(k)
        if k not in self._facets:
            self._facets[k] = nonredundant(P.G, P.h, self.lower, self.upper, tol, self.deadline)
        mask, _ = self._facets[k]
        return P, np.flatnonzero(mask)

    def boundary_features(self, k: int) -> tuple[np.ndarray, list[str]]:
        """The non-redundant rows of G (outward normals of the region's facets) and their labels."""
        P, idx = self.facets(k)
        return P.G[idx], [P.labels[i] for i in idx]

    def assign(self, X: Any) -> tuple[np.ndarray, np.ndarray]:
        """Region index of new rows (-1 when their configuration was not met) and their codes."""
        codes, _ = configurations(self.net, X, self.pieces)
        lookup = {row.tobytes(): k for k, row in enumerate(self.codes)}
        return np.array([lookup.get(row.tobytes(), -1) for row in codes], dtype=np.int64), codes

    # --------------------------------------------------------------- tables
    def summary(self, y: np.ndarray | None = None, max_boundaries: int | None = None) -> list[dict[str, Any]]:
        """One row per region (like the paper's Tables 6-7): instances, accuracy, facets.

        ``y`` are class indices (accuracy per region); ``max_boundaries`` limits the LP work to the
        largest regions (the others show ``None``).
        """
        rows = []
        pred = self.net.predict_index(self.outputs) if self.net.task == "classify" else None
        for k in range(self.n_regions):
            members = self.region == k
            row: dict[str, Any] = {
                "region": k,
                "instances": int(self.counts[k]),
                "share": float(self.counts[k] / self.region.size),
            }
            if pred is not None:
                assert self.net.class_names is not None  # a classifier has class names
                row["predicted"] = {
                    str(self.net.class_names[c]): int(n) for c, n in zip(*np.unique(pred[members], return_counts=True))
                }
                if y is not None:
                    row["accuracy"] = float(np.mean(pred[members] == np.asarray(y)[members]))
            row["inequalities"] = int(self.polytope(k).G.shape[0])
            row["boundaries"] = row["n_boundaries"] = None
            if max_boundaries is None or k < max_boundaries:
                try:
                    if k not in self._facets and self.deadline is not None and self.deadline.expired():
                        raise OutOfTime("no time left for this region's LPs")
                    P, idx = self.facets(k)
                except OutOfTime:
                    row["boundaries_cut"] = "time limit"
                else:
                    row["boundaries"] = [P.labels[i] for i in idx]
                    row["n_boundaries"] = int(idx.size)
            rows.append(row)
        return rows

    def classifier_table(self, names: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Long-format local classifiers: one row per (region, output) with bias and all weights (a feature named
        region, output or bias gets the column "weight NAME": it overwrote the fixed column, silently)."""
        names = list(names) if names is not None else self.net.feature_names
        fixed = ("region", "output", "bias")
        columns = [f"weight {n}" if n in fixed else n for n in names]
        rows = []
        for k in range(self.n_regions):
            for o, oname in enumerate(self.net.output_names):
                row: dict[str, Any] = {"region": k, "output": oname, "bias": float(self.bias[k, o])}
                row.update({c: float(v) for c, v in zip(columns, self.weight[k, o])})
                rows.append(row)
        return rows

    def to_dict(self, max_boundaries: int | None = None, y: np.ndarray | None = None) -> dict[str, Any]:
        """JSON-ready description: configurations, local classifiers, facets (for the largest regions)."""
        summary = self.summary(y, max_boundaries)
        regions = []
        for k, s in enumerate(summary):
            d = dict(s)
            d["configuration"] = self.codes[k].tolist()
            d["weight"] = self.weight[k].tolist()
            d["bias"] = self.bias[k].tolist()
            if s["boundaries"] is not None:
                G, labels = self.boundary_features(k)
                P, idx = self.facets(k)
                d["boundary_rows"] = [
                    {"label": lab, "normal": g.tolist(), "rhs": float(P.h[i])} for lab, g, i in zip(labels, G, idx)
                ]
            regions.append(d)
        return {
            "n_instances": int(self.region.size),
            "n_regions": self.n_regions,
            "n_hidden_units": self.n_hidden_units,
            "log2_configuration_bound": self.log2_bound(),
            "features": self.net.feature_names,
            "outputs": self.net.output_names,
            "box": {  # the set the boundaries are non-redundant in (null: a side without a bound)
                "lower": [float(v) if np.isfinite(v) else None for v in self.lower],
                "upper": [float(v) if np.isfinite(v) else None for v in self.upper],
            },
            "regions": regions,
        }


def input_box(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The box used for redundancy: the model's domain, widened to contain the rows of X. A side without a bound
    stays infinite (a boundary that only matters beyond the data is still a boundary of the region)."""
    lo = np.minimum(net.domain.lower, X.min(axis=0))
    hi = np.maximum(net.domain.upper, X.max(axis=0))
    return lo, hi


def view_box(lower: np.ndarray, upper: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A finite box to draw: the sides of (lower, upper) that are finite, the data's range elsewhere (and for a
    box wider than the largest float, [-1e308, 1e308]), a side of zero width widened by one unit (or 10 %)."""
    with np.errstate(over="ignore", invalid="ignore"):
        drawable = np.isfinite(np.asarray(upper, float) - np.asarray(lower, float)) | ~(
            np.isfinite(lower) & np.isfinite(upper)
        )
    lo = np.where(np.isfinite(lower) & drawable, lower, X.min(axis=0))
    hi = np.where(np.isfinite(upper) & drawable, upper, X.max(axis=0))
    pad = np.where(hi > lo, 0.0, np.maximum(1.0, 0.1 * np.abs(lo)))
    return lo - pad, hi + pad


def magnitude_trace(net: Network, X: Any) -> list[np.ndarray]:
    """As :meth:`~mipnet.network.Network.forward_trace` (element i for the input of layer i, the last for the
    output; each of shape (N, size)), a bound on the size of the sums the forward pass adds up: the network run
    with every weight, bias, scale and offset by its absolute value on |x| (a monotone activation or a pooling f
    with f(0) = 0 by max(|f(h)|, |f(-h)|); a ReLU unit the forward pass has off at x adds exactly 0, a LeakyReLU
    one alpha of it). Round-off in any order of summation is a small multiple of eps times this, also where large
    terms cancel to a value near 0. (Counting an off unit at -1e12 made an error of 100 look like 1e-10.)"""
    X = np.atleast_2d(np.asarray(X, dtype=np.float64))
    n = X.shape[0]
    h = np.abs(X.reshape(n, -1))
    shape = tuple(net.input_shape)
    trace = net.forward_trace(X)
    out = [h]
    for i, layer in enumerate(net.layers):
        if layer.affine:  # |A| |h| + |c| with the layer's own matrix
            A, c = layer.linear_map(shape)
            h = np.asarray(abs(A) @ h.T).T + np.abs(c)
        elif layer.gated and layer.piece_kind in ("relu", "leaky"):  # the units' own states at x
            on = trace[i].reshape(n, -1) > 0
            h = np.where(on, h, abs(float(layer.negative_slope or 0.0)) * h)
        else:
            hs = h.reshape((n,) + shape)
            h = np.maximum(np.abs(layer.forward(hs)), np.abs(layer.forward(-hs))).reshape(n, -1)
        shape = tuple(layer.output_shape(shape))
        out.append(h)
    return out


def _require_finite_pre_activations(net: Network, X: np.ndarray, pieces: Sequence[PieceLayer]) -> None:
    """A unit switched off at -inf still gives a finite output (and an exactness of "inf"): refuse it, in chunks of
    rows (the whole trace of a conv net on many rows would not fit in memory)."""
    step = 4096
    for start in range(0, X.shape[0], step):
        with np.errstate(over="ignore", invalid="ignore"):
            trace = net.forward_trace(X[start : start + step])
        for p in pieces:
            pre = trace[p.layer].reshape(trace[p.layer].shape[0], -1)
            bad = np.flatnonzero(~np.all(np.isfinite(pre), axis=1))
            if bad.size:
                raise DataError(
                    f"a pre-activation of layer {p.layer} is not finite at row {start + int(bad[0])}: the weights or "
                    "the inputs overflow float64, so no local classifier can be exact"
                )


def interpret(net: Network, X: Any, box: tuple[np.ndarray, np.ndarray] | None = None) -> Interpretation:
    """Group the rows of X by configuration and compute each configuration's local linear classifier.

    ``box`` (lower, upper) bounds the input for the redundancy LPs; default :func:`input_box`.
    """
    pieces = piece_layers(net)
    X = net._check_input(X)
    if X.shape[0] == 0:
        raise DataError("interpret needs at least one row of X (it explains the configurations the rows reach)")
    with np.errstate(over="ignore", invalid="ignore"):
        codes, out = configurations(net, X, pieces)
    bad = np.flatnonzero(~np.all(np.isfinite(out), axis=1))
    if bad.size:
        raise DataError(
            f"the network's output is not finite at row {int(bad[0])} ({bad.size} rows): its weights or the inputs "
            "overflow float64, so no local classifier can be exact"
        )
    _require_finite_pre_activations(net, X, pieces)
    if codes.shape[1]:
        packed = np.ascontiguousarray(codes).view(np.dtype((np.void, codes.dtype.itemsize * codes.shape[1])))[:, 0]
        _, first, inverse, counts = np.unique(packed, return_index=True, return_inverse=True, return_counts=True)
    else:
        first, inverse, counts = np.zeros(1, int), np.zeros(X.shape[0], int), np.array([X.shape[0]])
    order = np.lexsort((first, -counts))  # most populated first, ties by first appearance
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    uniq = codes[first[order]]
    with np.errstate(over="ignore", invalid="ignore"):
        maps = affine_maps(net, uniq, pieces)
    if not all(np.all(np.isfinite(a)) for a in [maps.weight, maps.bias, *maps.pre_weight, *maps.pre_bias]):
        raise DataError("a local classifier's coefficients overflow float64 (weights too large): none can be exact")
    lo, hi = input_box(net, X) if box is None else (np.asarray(box[0], float), np.asarray(box[1], float))
    return Interpretation(net, pieces, uniq, rank[inverse.ravel()], counts[order], maps, out, lo, hi)
