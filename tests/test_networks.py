import torch

from sklearn_aae.networks import Encoder, mlp, reset_parameters


def test_mlp_shapes():
    net = mlp(5, (7, 3), 2, "tanh")
    assert net(torch.zeros(4, 5)).shape == (4, 2)
    assert sum(isinstance(m, torch.nn.Linear) for m in net) == 3


def test_reset_parameters_is_seeded_and_bounded():
    a = reset_parameters(mlp(10, (20,), 3), torch.Generator().manual_seed(0))
    b = reset_parameters(mlp(10, (20,), 3), torch.Generator().manual_seed(0))
    c = reset_parameters(mlp(10, (20,), 3), torch.Generator().manual_seed(1))
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert torch.equal(pa, pb)
    assert not torch.equal(a[0].weight, c[0].weight)
    assert a[0].bias.abs().max() <= 1 / 10 ** 0.5  # torch's default bound 1/sqrt(fan_in)


def test_encoder_kinds():
    x = torch.randn(6, 4)
    g = torch.Generator().manual_seed(0)
    for kind, first_in, last_out in [("deterministic", 4, 3), ("gaussian", 4, 6), ("universal", 7, 3)]:
        enc = Encoder(4, (8,), 3, kind=kind)
        assert enc.body[0].in_features == first_in and enc.body[-1].out_features == last_out
        assert enc(x, generator=g).shape == (6, 3)
    soft = Encoder(4, (8,), 3, code_activation="softmax")
    torch.testing.assert_close(soft(x).sum(dim=1), torch.ones(6))
