import torch

from sklearn_aae.networks import Encoder, Float32Linear, mlp, reset_parameters


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


def test_float32_output_layer_is_exact_under_bfloat16_autocast():
    torch.manual_seed(0)
    net = mlp(16, (64,), 3, float32_output=True)
    x = torch.randn(50, 16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = net(x)
        hidden = net[:-1](x)
    assert out.dtype == torch.float32 and hidden.dtype == torch.bfloat16
    # The output layer sees the bfloat16 hidden units but computes in float32 from them.
    expected = torch.nn.functional.linear(hidden.float(), net[-1].weight, net[-1].bias)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert mlp(16, (64,), 3)(x).dtype == torch.bfloat16


def test_float32_flags_choose_which_layers_stay_exact():
    def exact(net):
        return [isinstance(layer, Float32Linear) for layer in net if isinstance(layer, torch.nn.Linear)]

    assert exact(mlp(4, (8, 8), 2)) == [False, False, False]
    assert exact(mlp(4, (8, 8), 2, float32_input=True)) == [True, False, False]
    assert exact(mlp(4, (8, 8), 2, float32_output=True)) == [False, False, True]
    assert exact(mlp(4, (8, 8), 2, float32=True)) == [True, True, True]
    assert exact(mlp(4, (), 2, float32_input=True)) == [True]
