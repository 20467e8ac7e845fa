"""The robustness query's thread cap: :func:`mipnet.blas.blas_threads` (its home; kept importable from here)."""

from __future__ import annotations

from ...blas import blas_threads

__all__ = ["blas_threads"]
