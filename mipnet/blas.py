"""One thread cap for numpy's BLAS, matching the solver's threads (a robustness query, the vertex-pair bound).

The bound stages (CROWN, alpha-CROWN) are small dense matrix products, e.g. (2n x n) @ (n x 784) for the layer
bounds of an MNIST MLP. A multithreaded BLAS splits even these over its threads; on a loaded machine a thread
that is not scheduled makes the others wait, and such a product was measured 30-60x slower with two BLAS threads
than with one (0.4 ms against 13-31 ms, 2 cores shared with other work). ``threads=n`` given to
:func:`mipnet.verify.robustness.verify_sample` therefore caps BLAS at n threads as well while the query runs
(threadpoolctl, which scikit-learn installs; without it, or without a BLAS it knows, nothing is capped); so does
the vertex enumeration of :mod:`mipnet.train.dual_bound.pair_vertices` (large products, but one process per core).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

_CONTROLLER: list[Any] = []  # the threadpoolctl controller, made once (inspecting the loaded libraries costs ms)


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Cap numpy's BLAS at ``n`` threads inside the block (``None``: no cap)."""
    if n is None or n < 1:
        yield
        return
    try:
        if not _CONTROLLER:
            from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

            _CONTROLLER.append(ThreadpoolController())
        limit = _CONTROLLER[0].limit(limits=int(n), user_api="blas")
    except Exception:  # threadpoolctl missing or unable to inspect the BLAS: run uncapped
        yield
        return
    with limit:
        yield
