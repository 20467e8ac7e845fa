"""mipnet.train.torch_adam: the Adam update of torch.optim.Adam (+ CosineAnnealingLR), without importing
torch._dynamo (2-4 s of a short --time-limit on every command that trains a small torch net)."""

import subprocess
import sys
import textwrap

import pytest

torch = pytest.importorskip("torch")

from mipnet.train.torch_adam import PlainAdam  # noqa: E402


@pytest.mark.parametrize("weight_decay, steps", [(0.0, None), (1e-3, 40)])
def test_the_update_is_torch_s_adam_with_its_cosine_schedule(weight_decay, steps):
    torch.manual_seed(0)
    a, b = torch.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    b.load_state_dict(a.state_dict())
    start = a.weight.detach().clone()
    ref = torch.optim.Adam(a.parameters(), lr=0.02, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(ref, steps, eta_min=4e-4) if steps else None
    ours = PlainAdam(
        b.parameters(), lr=0.02, weight_decay=weight_decay, total_steps=steps, eta_min=4e-4 if steps else 0
    )
    X, Y = torch.randn(30, 4), torch.randn(30, 3)
    for _ in range(steps or 40):
        for model, opt in ((a, ref), (b, ours)):
            opt.zero_grad()
            ((model(X) - Y) ** 2).mean().backward()
            opt.step()
        if sched is not None:
            sched.step()
            assert ours.rate() == pytest.approx(sched.get_last_lr()[0], rel=1e-9, abs=1e-12)
    apart = max((p - q).abs().max().item() for p, q in zip(a.parameters(), b.parameters()))
    assert apart < 1e-6 and (a.weight - start).abs().max().item() > 1e-2  # equal, and trained (not both idle)


def test_the_gradient_monotone_trainer_does_not_import_torch_dynamo():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from mipnet.domain import Domain
        from mipnet.train.monotone_training import fit_torch
        X = np.random.default_rng(0).uniform(0, 1, (30, 2))
        y = (X[:, 0] > 0.5).astype(int)
        net, _ = fit_torch(X, y, domain=Domain(["a", "b"], [0, 0], [1, 1]), hidden=(2,), monotone=[(0, 1)],
                           penalty=1.0, epochs=2)
        assert net.n_outputs == 1
        print("dynamo" if any(m.startswith("torch._dynamo") for m in sys.modules) else "clean")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "clean"
