r"""Adam with an optional cosine-annealed step size, in plain torch tensor operations.

``torch.optim`` imports ``torch._dynamo`` the first time an optimizer is built or stepped: 2-4 s on this project's
machines, more than a short ``--time-limit`` of the commands that train a small torch net (certified monotonic
learning's gradient method, the convolutional warm start). The update is the textbook one (Kingma & Ba), with
torch.optim.Adam's defaults: for each parameter p with gradient g, at step t = 1, 2, ...

    g <- g + wd p                                  (L2 weight decay, as torch.optim.Adam's weight_decay)
    m <- b1 m + (1 - b1) g,    v <- b2 v + (1 - b2) g^2
    p <- p - lr_t / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)

with b1 = 0.9, b2 = 0.999, eps = 1e-8, and lr_t = lr, or with ``total_steps`` = T the cosine annealing
lr_t = eta_min + (lr - eta_min) (1 + cos(pi min(t - 1, T) / T)) / 2 (step t uses the schedule's value after
t - 1 steps, as ``CosineAnnealingLR`` stepped after each update).
"""

from __future__ import annotations

import math
from typing import Any, Iterable

__all__ = ["PlainAdam"]


class PlainAdam:
    """The Adam update of the module docstring over ``params`` (torch tensors with ``requires_grad``)."""

    def __init__(
        self,
        params: Iterable[Any],
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        total_steps: int | None = None,
        eta_min: float = 0.0,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
    ) -> None:
        import torch

        self.params = [p for p in params if p.requires_grad]
        self.lr, self.weight_decay, self.eps = float(lr), float(weight_decay), float(eps)
        self.total_steps, self.eta_min = total_steps, float(eta_min)
        self.b1, self.b2 = betas
        self.t = 0
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]

    def rate(self) -> float:
        """The step size of the next update."""
        if not self.total_steps:
            return self.lr
        k = min(self.t, self.total_steps)
        return self.eta_min + (self.lr - self.eta_min) * (1.0 + math.cos(math.pi * k / self.total_steps)) / 2.0

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def step(self) -> None:
        import torch

        lr = self.rate()
        self.t += 1
        c1, c2 = 1.0 - self.b1**self.t, 1.0 - self.b2**self.t
        with torch.no_grad():
            for p, m, v in zip(self.params, self.m, self.v):
                if p.grad is None:
                    continue
                g = p.grad if not self.weight_decay else p.grad + self.weight_decay * p
                m.mul_(self.b1).add_(g, alpha=1.0 - self.b1)
                v.mul_(self.b2).addcmul_(g, g, value=1.0 - self.b2)
                denom = (v.sqrt() / math.sqrt(c2)).add_(self.eps)
                p.addcdiv_(m, denom, value=-lr / c1)
