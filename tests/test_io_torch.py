"""torch nn.Sequential <-> Network: forward passes agree with torch to 1e-6 (float64)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from mipnet.domain import Domain
from mipnet.errors import ModelFormatError, UnsupportedError
from mipnet.io.torch_io import from_torch, load_torch_file, to_torch
from mipnet.layers import AvgPool2D, Conv2D, Dense, Flatten, MaxPool2D, Normalize

torch.manual_seed(0)


def _conv_model() -> nn.Sequential:
    return (
        nn.Sequential(
            nn.Conv2d(2, 4, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
            nn.ReLU(),
            nn.MaxPool2d(2, stride=2, padding=1),
            nn.AvgPool2d(2, stride=1, padding=1, count_include_pad=False),
            nn.Conv2d(4, 3, 3, stride=1, padding=1),
            nn.LeakyReLU(0.05),
            nn.AvgPool2d(3, stride=2, padding=1),  # count_include_pad=True (torch default)
            nn.Flatten(),
            nn.Linear(3 * 3 * 3, 5),
            nn.ReLU(),
            nn.Linear(5, 3),
        )
        .double()
        .eval()
    )


def _compare(model: nn.Module, net, X: torch.Tensor) -> float:
    with torch.no_grad():
        want = model(X).numpy()
    got = net.forward(X.numpy().reshape(X.shape[0], -1))
    assert got.shape == want.shape
    return float(np.abs(got - want).max())


def test_conv_net_matches_torch():
    model = _conv_model()
    net = from_torch(model, (2, 11, 10))
    kinds = [type(l) for l in net.layers]
    assert kinds[:4] == [Conv2D, type(net.layers[1]), MaxPool2D, AvgPool2D] and Flatten in kinds
    assert net.layers[0].stride == (2, 1) and net.layers[0].padding == (1, 0)
    assert net.layers[3].count_include_pad is False and net.layers[6].count_include_pad is True
    X = torch.randn(32, 2, 11, 10, dtype=torch.float64)
    assert _compare(model, net, X) < 1e-6


@pytest.mark.parametrize(
    "act",
    [nn.ReLU(), nn.LeakyReLU(0.2), nn.GELU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()],
    ids=lambda m: type(m).__name__,
)
def test_each_activation_matches_torch(act):
    model = nn.Sequential(nn.Linear(4, 7), act, nn.Dropout(0.5), nn.Sequential(nn.Linear(7, 6), act), nn.Linear(6, 2))
    model = model.double().eval()
    net = from_torch(model, (4,))
    assert len([l for l in net.layers if isinstance(l, Dense)]) == 3  # nested Sequential flattened, Dropout gone
    X = torch.randn(64, 4, dtype=torch.float64) * 3
    assert _compare(model, net, X) < 1e-6


def test_batchnorm_folds_into_normalize():
    model = nn.Sequential(
        nn.Conv2d(1, 2, 3),
        nn.BatchNorm2d(2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(18, 4),
        nn.BatchNorm1d(4),
        nn.Linear(4, 1),
    ).double()
    with torch.no_grad():
        for bn in (model[1], model[5]):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.2, 3)
            bn.weight.uniform_(-2, 2)
            bn.bias.uniform_(-1, 1)
    model.eval()
    net = from_torch(model, (1, 5, 5))
    assert isinstance(net.layers[1], Normalize) and net.layers[1].scale.shape == (2, 1, 1)  # broadcast per channel
    assert net.layers[1].n_params() == 4  # (`mipnet info` counted 36: scale and offset per pixel)
    assert _compare(model, net, torch.randn(16, 1, 5, 5, dtype=torch.float64)) < 1e-6


def test_to_torch_round_trip(conv_net, rng):
    model = to_torch(conv_net, dtype=torch.float64)
    X = rng.uniform(0, 1, size=(20, 36))
    with torch.no_grad():
        out = model(torch.as_tensor(X.reshape(20, 1, 6, 6))).numpy()
    np.testing.assert_allclose(out, conv_net.forward(X), atol=1e-12)
    back = from_torch(model, conv_net.input_shape)
    np.testing.assert_array_equal(back.forward(X), conv_net.forward(X))
    assert to_torch(conv_net)[0].weight.dtype == torch.float32


def test_to_torch_every_layer_type(rng):
    from mipnet.layers import GELU, Identity, LeakyReLU, ReLU, Sigmoid, Tanh
    from mipnet.network import Network

    layers = [
        Normalize(rng.uniform(0.5, 2, (2, 4, 4)), rng.normal(size=(2, 4, 4))),
        Conv2D(rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3), padding=1),
        LeakyReLU(0.1),
        AvgPool2D(2, 2, padding=1, count_include_pad=False),
        MaxPool2D(2, 1),
        Flatten(),
        Dense(rng.normal(size=(5, 12)), rng.normal(size=5)),
        GELU(),
        Dense(rng.normal(size=(5, 5)), np.zeros(5)),
        Tanh(),
        Identity(),
        Sigmoid(),
        Dense(rng.normal(size=(3, 5)), rng.normal(size=3)),
        ReLU(),
    ]
    net = Network(layers, input_shape=(2, 4, 4))
    X = rng.normal(size=(10, 32))
    model = to_torch(net, torch.float64)
    assert _compare(model, net, torch.as_tensor(X.reshape(10, 2, 4, 4))) < 1e-12
    assert from_torch(model, (2, 4, 4)).fingerprint() == net.fingerprint()


def test_load_torch_file(tmp_path):
    mlp = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2)).double().eval()
    torch.save(mlp, tmp_path / "mlp.pt")
    net = load_torch_file(tmp_path / "mlp.pt")
    assert net.input_shape == (3,)
    assert _compare(mlp, net, torch.randn(8, 3, dtype=torch.float64)) < 1e-6

    conv = _conv_model()
    torch.save(conv, tmp_path / "conv.pt")
    with pytest.raises(ModelFormatError, match=r"cannot infer the input shape.*Conv2d.*input_shape = \(C, H, W\)"):
        load_torch_file(tmp_path / "conv.pt")
    bn = nn.Sequential(nn.BatchNorm1d(3).eval(), nn.Linear(3, 1))  # its hint was (C, H, W) for a flat input
    torch.save(bn, tmp_path / "bn.pt")
    with pytest.raises(ModelFormatError, match=r"BatchNorm1d; set model.input_shape = \(C,\) or \(C, L\)"):
        load_torch_file(tmp_path / "bn.pt")
    conv.input_shape = (2, 11, 10)
    torch.save(conv, tmp_path / "conv.pt")
    assert _compare(conv, load_torch_file(tmp_path / "conv.pt"), torch.randn(4, 2, 11, 10, dtype=torch.float64)) < 1e-6

    torch.save(mlp.state_dict(), tmp_path / "sd.pt")
    with pytest.raises(ModelFormatError, match="state_dict"):
        load_torch_file(tmp_path / "sd.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ModelFormatError, match="not a loadable torch model"):
        load_torch_file(tmp_path / "junk.pt")


def test_saved_to_torch_keeps_domain_and_classes(tmp_path, multiclass_net):
    net = multiclass_net.with_domain(Domain.box(["a", "b", "c"], [0, -1, 2], [1, 1, 5]))
    net.class_names = ["x", "y", "z"]
    torch.save(to_torch(net, torch.float64), tmp_path / "m.pth")
    back = load_torch_file(tmp_path / "m.pth")
    assert back.class_names == ["x", "y", "z"] and back.feature_names == ["a", "b", "c"]
    assert back.domain.upper.tolist() == [1, 1, 5]
    assert back.fingerprint() == net.fingerprint()


class _Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    "module, message",
    [
        (nn.Conv2d(1, 2, 3, dilation=2), "dilation"),
        (nn.Conv2d(2, 2, 3, groups=2), "groups=2"),
        (nn.Softmax(dim=1), "'Softmax'"),
        (_Custom(), "'_Custom'"),
        (nn.GELU(approximate="tanh"), "approximate='tanh'"),
        (nn.MaxPool2d(2, ceil_mode=True), "ceil_mode"),
        (nn.Flatten(start_dim=2), "start_dim=2"),
    ],
)
def test_unsupported_modules_are_named(module, message):
    with pytest.raises(UnsupportedError, match=message):
        from_torch(nn.Sequential(module), (2, 6, 6))


def test_shape_mismatch_names_the_module():
    with pytest.raises(ModelFormatError, match=r"module 2 \(Linear\)"):
        from_torch(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(5, 1)), (3,))


def test_a_subclass_with_its_own_forward_is_refused_not_read_as_its_parts():
    """A Sequential subclass computing x + f(x) was flattened as plain f (max difference 2.3 from torch)."""
    from torch import nn

    from mipnet.errors import UnsupportedError
    from mipnet.io.torch_io import from_torch

    class Residual(nn.Sequential):
        def forward(self, x):
            return x + super().forward(x)

    class Clipped(nn.Linear):
        def forward(self, x):
            return super().forward(x).clamp(-1, 1)

    class Named(nn.Sequential):  # no forward of its own: read as its parts
        pass

    for model in (Residual(nn.Linear(3, 3), nn.ReLU()), nn.Sequential(Clipped(3, 2))):
        with pytest.raises(UnsupportedError, match="with its own forward"):
            from_torch(model, (3,))
    assert len(from_torch(Named(nn.Linear(3, 2), nn.ReLU()), (3,)).layers) == 2


def test_forward_hooks_and_look_alike_classes_are_refused():
    """weight_norm recomputes the weight in a pre-hook (the cached weight is stale after a training step: a false
    "holds"); a registered hook clamps the output; a user class named LeakyReLU is not torch's."""
    import warnings

    lin = nn.Linear(2, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # weight_norm's deprecation in favour of parametrizations
        normed = nn.utils.weight_norm(nn.Linear(2, 1))
    with pytest.raises(UnsupportedError, match="forward hooks"):
        from_torch(nn.Sequential(normed, nn.ReLU()), (2,))
    hooked = nn.Sequential(nn.Linear(2, 1))
    hooked.register_forward_hook(lambda m, i, o: o.clamp(max=1.0))
    with pytest.raises(UnsupportedError, match="forward hooks"):
        from_torch(hooked, (2,))

    class LeakyReLU(nn.Module):  # noqa: N801 - a look-alike of torch's class
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * x

    with pytest.raises(UnsupportedError, match="unsupported torch module 'LeakyReLU'"):
        from_torch(nn.Sequential(lin, LeakyReLU()), (2,))
    assert from_torch(nn.Sequential(lin, nn.LeakyReLU(0.1)), (2,)).layers[-1].kind == "LeakyReLU"


def test_a_final_sigmoid_of_a_one_output_classifier_is_dropped_and_names_are_lists():
    """Linear + Sigmoid was kept and thresholded at 0: every input was class 1 and robustness always held. The
    logit decides the same classes (sigmoid(z) > 0.5 iff z > 0); the Network refuses a sigmoid-ended classifier."""
    import numpy as np
    import pytest
    import torch
    from torch import nn

    from mipnet.domain import Domain
    from mipnet.errors import ModelFormatError
    from mipnet.io.torch_io import from_torch
    from mipnet.layers import Dense, Sigmoid
    from mipnet.network import Network

    m = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())
    with torch.no_grad():
        m[0].weight[:] = torch.tensor([[1.0, -1.0]])
        m[0].bias[:] = 0.0
    net = from_torch(m.eval(), input_shape=(2,), class_names=["neg", "pos"])
    X = np.array([[0.1, 0.0], [0.0, 0.1], [-3.0, 3.0]])
    with torch.no_grad():
        p = m(torch.tensor(X, dtype=torch.float32)).numpy()[:, 0]
    assert net.predict(X).tolist() == np.where(p > 0.5, "pos", "neg").tolist() == ["pos", "neg", "neg"]
    assert net.metadata["torch_dropped_output"] == "Sigmoid"
    dom = Domain(["a", "b"], [0, 0], [1, 1])
    with pytest.raises(ModelFormatError, match="ending in Sigmoid"):
        Network([Dense(np.ones((1, 2)), np.zeros(1)), Sigmoid()], domain=dom)
    with pytest.raises(ModelFormatError, match="must be a list"):
        Network([Dense(np.ones((2, 2)), np.zeros(2))], domain=dom, class_names="ab")
    with pytest.raises(ModelFormatError, match="repeat a name"):
        Network([Dense(np.ones((2, 2)), np.zeros(2))], domain=dom, class_names=["cat", "cat"])


def test_a_sigmoid_before_a_trailing_identity_or_flatten_is_the_output_probability(tmp_path) -> None:
    """p = sigmoid(x0 - x1) followed by nn.Identity(), nn.Flatten(), or an activation that is the identity on
    probabilities (ReLU, a clamp to [0, 1], ReLU6): the Sigmoid was kept (only a last Sigmoid was
    dropped), so every input was class 1 and robustness "held" around a row whose ball crosses p = 0.5. The logit is
    now what the network returns, and a VNN-LIB property about the probability is refused (it was decided on the
    logit: a reachable 0.62 "held")."""
    import torch
    from torch import nn

    from mipnet.errors import UnsupportedError
    from mipnet.verify.vnnlib import check_property, parse_vnnlib

    for tail in (nn.Identity(), nn.Flatten(), nn.ReLU(), nn.Hardtanh(0.0, 1.0), nn.ReLU6()):
        lin = nn.Linear(2, 1)
        with torch.no_grad():
            lin.weight[:] = torch.tensor([[1.0, -1.0]])
            lin.bias[:] = 0.0
        module = nn.Sequential(lin, nn.Sigmoid(), tail).eval()
        net = from_torch(module, input_shape=(2,), domain=Domain.box(2, 0.0, 1.0))
        X = np.array([[0.1, 0.0], [0.0, 0.1]])
        p = module(torch.tensor(X, dtype=torch.float32)).detach().numpy().ravel()
        assert (net.predict_index(net.forward(X)) == (p > 0.5)).all() and net.metadata["torch_dropped_output"]
        prop = parse_vnnlib("(declare-const X_0 Real)(declare-const X_1 Real)(declare-const Y_0 Real)"
                            "(assert (>= X_0 0.0))(assert (<= X_0 1.0))(assert (>= X_1 0.0))(assert (<= X_1 1.0))"
                            "(assert (>= Y_0 0.6))")  # fmt: skip
        with pytest.raises(UnsupportedError, match="ends in Sigmoid"):
            check_property(net, prop, time_limit=10)


@pytest.mark.parametrize("module", [nn.BatchNorm1d(3), nn.Dropout(0.5)])
def test_a_module_in_training_mode_is_refused(module) -> None:
    """A model saved without .eval() was read with its running statistics and without dropout: torch as saved
    computed another function. The ONNX reader already refused training-mode nodes."""
    model = nn.Sequential(nn.Linear(2, 3), module, nn.ReLU(), nn.Linear(3, 1))
    with pytest.raises(UnsupportedError, match="training mode"):
        from_torch(model, input_shape=(2,))
    assert from_torch(model.eval(), input_shape=(2,)).n_inputs == 2


def test_a_batch_norm_with_zero_variance_is_one_error(capfd) -> None:
    """running_var + eps == 0: four numpy RuntimeWarning lines on stderr, then "Normalize scale contains NaN"."""
    bn = nn.BatchNorm1d(3, eps=0.0)
    bn.running_var.zero_()
    with pytest.raises(ModelFormatError, match=r"variance \+ epsilon 0.0 \(must be > 0\)"):
        from_torch(nn.Sequential(nn.Linear(2, 3), bn, nn.ReLU(), nn.Linear(3, 1)).eval(), input_shape=(2,))
    assert "RuntimeWarning" not in capfd.readouterr().err
