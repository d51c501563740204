"""The plain torch networks: shapes, gradients, causality, receptive field, shortcuts."""

import copy
import math
import pickle

import pytest
import torch
from torch import nn

from skresnet.modules import (
    TCN,
    CausalConv1d,
    Dropout,
    OutputAverage,
    ProbabilityAverage,
    ResidualMLP,
    ResidualMLPBlock,
    ResNet1D,
    ResNet2D,
    TCNForecastNet,
    drawing_from,
    get_model,
    levels_for_lookback,
    list_models,
    receptive_field,
)

CASES = [
    ("mlp", lambda s: ResidualMLP(6, 3, width=16, skip_connections=s), (5, 6), (5, 3)),
    ("resnet1d", lambda s: ResNet1D(2, 4, width=8, skip_connections=s), (5, 2, 30), (5, 4)),
    (
        "resnet2d",
        lambda s: ResNet2D(1, 10, n_blocks=1, width=4, skip_connections=s),
        (5, 1, 8, 8),
        (5, 10),
    ),
    (
        "resnet2d-bottleneck",
        lambda s: ResNet2D(3, 2, n_blocks=1, width=4, block="bottleneck", skip_connections=s),
        (5, 3, 12, 12),
        (5, 2),
    ),
    ("tcn", lambda s: TCN(3, channels=8, n_levels=3, skip_connections=s), (5, 3, 20), (5, 8, 20)),
    (
        "tcn-forecast",
        lambda s: TCNForecastNet(2, 6, channels=8, n_levels=3, skip_connections=s),
        (5, 20, 2),
        (5, 6),
    ),
]


def _first_parameter(net: nn.Module) -> torch.Tensor:
    return next(p for p in net.parameters() if p.ndim > 1)


@pytest.mark.parametrize("name,build,in_shape,out_shape", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("skip", [True, False])
def test_output_shape_finite_and_gradients_reach_first_layer(
    name, build, in_shape, out_shape, skip
):
    """Each network maps its input to the documented shape, without NaN, and trains end to end."""
    net = build(skip)
    out = net(torch.randn(*in_shape))
    assert out.shape == out_shape
    assert torch.isfinite(out).all()
    out.square().mean().backward()
    grad = _first_parameter(net).grad
    assert grad is not None and grad.abs().sum() > 0


@pytest.mark.parametrize("kernel_size,n_levels", [(2, 3), (3, 4), (5, 2)])
def test_tcn_is_causal(kernel_size, n_levels):
    """Changing the input at step t never changes TCN outputs before t."""
    tcn = TCN(2, channels=6, n_levels=n_levels, kernel_size=kernel_size).eval()
    x = torch.randn(3, 2, 40)
    t = 25
    x2 = x.clone()
    x2[:, :, t:] = torch.randn_like(x2[:, :, t:]) * 10
    with torch.no_grad():
        y, y2 = tcn(x), tcn(x2)
    assert torch.equal(y[:, :, :t], y2[:, :, :t])
    assert not torch.allclose(y[:, :, t:], y2[:, :, t:])


@pytest.mark.parametrize("kernel_size,n_levels", [(2, 3), (3, 2), (3, 4), (4, 3)])
def test_receptive_field_matches_formula(kernel_size, n_levels):
    """The last output depends on exactly receptive_field(...) past steps."""
    # tanh has no flat regions, so no input gets a zero gradient by chance
    tcn = TCN(1, channels=4, n_levels=n_levels, kernel_size=kernel_size, activation="tanh")
    length = receptive_field(n_levels, kernel_size) + 10
    x = torch.randn(1, 1, length, requires_grad=True)
    tcn(x)[0, :, -1].sum().backward()
    seen = (x.grad[0, 0] != 0).nonzero().flatten()
    assert length - seen.min().item() == receptive_field(n_levels, kernel_size)
    assert tcn.receptive_field == 1 + 2 * (kernel_size - 1) * (2**n_levels - 1)


@pytest.mark.parametrize("kernel_size,n_levels", [(2, 1), (3, 3), (3, 5), (5, 2)])
@pytest.mark.parametrize("length", [1, 6, 31, 64])
@pytest.mark.parametrize("skip", [True, False])
def test_forward_last_equals_last_step_of_forward(kernel_size, n_levels, length, skip):
    """forward_last gives forward's last step, values and gradients, for any window length."""
    torch.manual_seed(0)
    tcn = TCN(2, channels=5, n_levels=n_levels, kernel_size=kernel_size, skip_connections=skip)
    x = torch.randn(3, 2, length)
    full = tcn(x)[..., -1]
    last = tcn.forward_last(x)
    torch.testing.assert_close(last, full, rtol=1e-5, atol=1e-6)
    grad_full = torch.autograd.grad(full.square().sum(), tcn.blocks[0].conv1.weight)[0]
    grad_last = torch.autograd.grad(last.square().sum(), tcn.blocks[0].conv1.weight)[0]
    torch.testing.assert_close(grad_last, grad_full, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dilation", [1, 4])
def test_causal_conv_as_rows_equals_conv1d(dilation):
    """The channels-last rows path computes conv1d on the left-padded input: values and
    gradients of input and weights, at full resolution and gathered with a stride."""
    import torch.nn.functional as F

    from skresnet.modules._tcn import CausalConv1d

    torch.manual_seed(0)
    conv = CausalConv1d(3, 5, 3, dilation=dilation)
    x = torch.randn(4, 3, 17, requires_grad=True)
    ours = conv(x)
    ref = F.conv1d(
        F.pad(x, (2 * dilation, 0)), conv.effective_weight(), conv.bias, dilation=dilation
    )
    torch.testing.assert_close(ours, ref, rtol=1e-5, atol=1e-6)
    wrt = (x, conv.weight, conv.weight_g, conv.bias)
    for a, b in zip(
        torch.autograd.grad(ours.square().sum(), wrt),
        torch.autograd.grad(ref.square().sum(), wrt),
        strict=True,
    ):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    gathered = conv.forward_gathered(x, stride=2)
    dense = F.conv1d(F.pad(x, (2, 0)), conv.effective_weight(), conv.bias)[..., ::2]
    torch.testing.assert_close(gathered, dense, rtol=1e-5, atol=1e-6)


def test_steps_of_keeps_the_gradient_channels_last():
    """steps_of slices like x[..., start::step]; its gradient is the slice's, laid out
    channels-last as x is, so the elementwise backward passes upstream see one layout."""
    from skresnet.modules._tcn import as_rows, steps_of

    base = torch.randn(2, 3, 11, requires_grad=True)
    x = as_rows(base)
    out = steps_of(x, 1, 2)
    torch.testing.assert_close(out, x[..., 1::2])
    grad = torch.autograd.grad(out.square().sum(), x, retain_graph=True)[0]
    assert grad.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(grad, torch.autograd.grad((x[..., 1::2] ** 2).sum(), x)[0])
    with torch.no_grad():  # not training: a plain view
        assert steps_of(x, 1, 2)._base is not None


def test_levels_for_lookback_covers_lookback_minimally():
    """levels_for_lookback gives the fewest levels whose receptive field covers the window."""
    for lookback in [1, 5, 13, 29, 30, 200]:
        n = levels_for_lookback(lookback, 3)
        assert receptive_field(n, 3) >= lookback
        assert n == 1 or receptive_field(n - 1, 3) < lookback


def test_zeroed_residual_branch_is_identity_only_with_shortcut():
    """With its branch zeroed, a block returns x with shortcuts and 0 without."""
    x = torch.randn(4, 8)
    for skip, expected in [(True, x), (False, torch.zeros_like(x))]:
        block = ResidualMLPBlock(8, 16, skip_connection=skip)
        nn.init.zeros_(block.linear2.weight)
        nn.init.zeros_(block.linear2.bias)
        assert torch.equal(block(x), expected)


def test_plain_networks_have_no_projection_shortcuts():
    """skip_connections=False removes every shortcut module, weights otherwise alike."""
    for build in (
        lambda s: ResNet2D(1, 3, n_blocks=2, width=4, skip_connections=s),
        lambda s: ResNet1D(1, 3, width=4, skip_connections=s),
        lambda s: TCN(1, channels=4, n_levels=2, skip_connections=s),
    ):
        residual, plain = build(True), build(False)
        n_res = sum(p.numel() for p in residual.parameters())
        n_plain = sum(p.numel() for p in plain.parameters())
        assert n_plain < n_res
        assert all(getattr(m, "downsample", None) is None for m in plain.modules())


def test_zero_init_residual_starts_blocks_as_identity():
    """zero_init_residual sets the last batch norm scale of each block to zero."""
    net = ResNet2D(1, 2, n_blocks=2, width=4)
    assert all(torch.all(b.last_norm().weight == 0) for stage in net.stages for b in stage)
    plain = ResNet2D(1, 2, n_blocks=2, width=4, skip_connections=False)
    assert all(torch.all(b.last_norm().weight == 1) for stage in plain.stages for b in stage)


def test_weight_norm_conv_keeps_initial_weight_and_pickles():
    """The weight-normalized convolution starts at the plain kernel and survives pickling."""
    conv = CausalConv1d(2, 3, 3, dilation=2)
    assert torch.allclose(conv.effective_weight(), conv.weight)
    x = torch.randn(1, 2, 10)
    clone = pickle.loads(pickle.dumps(conv))
    assert torch.equal(clone(x), conv(x))
    assert torch.equal(copy.deepcopy(conv)(x), conv(x))


def test_forecast_net_window_normalization_is_scale_equivariant():
    """With normalize='window', scaling a window by c > 0 scales the forecast by c."""
    net = TCNForecastNet(1, 4, channels=8, n_levels=3).eval()
    x = torch.randn(2, 20, 1) + 5
    with torch.no_grad():
        base = net(x)
        for c in (3.0, 1e-3, 1e4):
            torch.testing.assert_close(net(x * c), base * c, rtol=1e-4, atol=1e-4 * c)


def test_forecast_net_reads_the_level_of_a_window_against_its_spread():
    """The TCN reads mean / sqrt(mean^2 + spread^2) as one more channel: two windows of the same
    shape, one near zero and one far above it, get different normalized forecasts (a
    count at its floor behaves unlike a level far above its noise); without the channel
    (networks pickled before it) the forecast only shifts with the window."""
    torch.manual_seed(0)
    net = TCNForecastNet(1, 4, channels=8, n_levels=3).eval()
    assert net.tcn.blocks[0].conv1.in_channels == 2
    x = torch.randn(1, 20, 1)
    near, far = x - x.min(), x - x.min() + 50
    with torch.no_grad():
        gap = net(far) - net(near) - 50  # the shift alone would leave 0
        assert gap.abs().max() > 1e-3
        net.level_feature = False
        net.tcn = TCN(1, channels=8, n_levels=3)
        gap = net(far) - net(near) - 50
    torch.testing.assert_close(gap, torch.zeros_like(gap), rtol=0, atol=1e-4)


def test_registry_builds_models_by_name():
    """get_model builds every listed name and rejects unknown ones with the list."""
    assert {"resnet20", "resnet1d", "residual_mlp", "tcn"} <= set(list_models())
    net = get_model("resnet20", 3, 10)
    assert sum(p.numel() for p in net.parameters()) == pytest.approx(0.27e6, rel=0.02)
    with pytest.raises(ValueError, match="Unknown model name 'nope'"):
        get_model("nope")


def test_fit_linear_skip_starts_the_net_at_the_least_squares_forecast():
    """After fit_linear_skip the net forecasts an exactly linear process exactly, head at zero."""
    torch.manual_seed(0)
    x = torch.randn(300, 12, 2).cumsum(dim=1)
    loc = x[:, :, 0].mean(dim=1, keepdim=True)
    scale = x[:, :, 0].std(dim=1, keepdim=True, unbiased=False)
    normed = torch.stack([(x[:, :, 0] - loc) / scale, x[:, :, 1]], dim=-1)  # what the skip reads
    y = loc + scale * (normed.flatten(1) @ torch.randn(24, 3) * 0.1)  # linear, no intercept
    net = TCNForecastNet(2, 3, channels=4, n_levels=2, lookback=12, linear_skip=True).eval()
    net.fit_linear_skip(x, y, alpha=1e-9)
    assert torch.count_nonzero(net.head.weight) == 0
    with torch.no_grad():
        torch.testing.assert_close(net(x), y, rtol=1e-3, atol=1e-3)
        # sample weights of zero leave rows out of the fit
        wrong = y.clone()
        wrong[:100] += 5
        weight = torch.cat([torch.zeros(100), torch.ones(200)])
        net.fit_linear_skip(x, wrong, weight, alpha=1e-9)
        torch.testing.assert_close(net(x[100:]), y[100:], rtol=1e-3, atol=1e-3)


def test_forecast_net_linear_skip_is_shift_equivariant():
    """The linear skip (the start, its head at zero) shifts the forecast with the window;
    the TCN's correction, reading the window's level, need not."""
    net = TCNForecastNet(1, 4, channels=8, n_levels=3, lookback=20, linear_skip=True).eval()
    x = torch.randn(2, 20, 1)
    with torch.no_grad():
        nn.init.zeros_(net.head.weight)
        nn.init.zeros_(net.head.bias)
        torch.testing.assert_close(net(x + 100), net(x) + 100, rtol=1e-4, atol=1e-3)


def test_ridge_leverage_gives_leave_one_out_residuals():
    """r_i / (1 - h_i) equals the residual of the fit without sample i (weighted, no penalty)."""
    from skresnet.modules import ridge_leverage, weighted_ridge

    gen = torch.Generator().manual_seed(0)
    F = torch.randn(30, 4, generator=gen, dtype=torch.float64)
    t = F @ torch.randn(4, 2, generator=gen, dtype=torch.float64)
    t = t + 0.3 * torch.randn(30, 2, generator=gen, dtype=torch.float64)
    w = torch.rand(30, generator=gen, dtype=torch.float64) + 0.5
    coef, intercept = weighted_ridge(F, t, w, alpha=0.0)
    loo = (t - F @ coef - intercept) / (1 - ridge_leverage(F, w, alpha=0.0)).unsqueeze(1)
    for i in range(30):
        keep = torch.arange(30) != i
        c, b = weighted_ridge(F[keep], t[keep], w[keep], alpha=0.0)
        torch.testing.assert_close(loo[i], t[i] - F[i] @ c - b)


def test_choose_ridge_alpha_sums_the_errors_of_contiguous_blocks():
    """The chosen penalty is the one whose fits on all blocks but one (weighted_ridge's
    solution) have the lowest weighted squared error on the left-out blocks, summed;
    with or without an intercept, and the error returned is that sum."""
    from skresnet.modules._ridge import choose_ridge_alpha, weighted_ridge

    gen = torch.Generator().manual_seed(0)
    F = torch.randn(103, 12, generator=gen, dtype=torch.float64)
    t = F[:, :2] @ torch.tensor([[1.0, 0.2], [-0.5, 1.0]], dtype=torch.float64) + 3.0
    t = t + 2 * torch.randn(103, 2, generator=gen, dtype=torch.float64)
    w = torch.rand(103, generator=gen, dtype=torch.float64) + 0.5
    alphas = [1e-3, 1e-1, 1.0, 10.0, 1e3]
    bounds = [0, 21, 41, 62, 82, 103]  # five blocks of 103 rows, as round(n * i / 5)
    for intercept in (True, False):
        errors = []
        for alpha in alphas:
            total = 0.0
            for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
                keep = torch.ones(103, dtype=torch.bool)
                keep[lo:hi] = False
                coef, b = weighted_ridge(
                    F[keep], t[keep], w[keep], alpha=alpha, intercept=intercept
                )
                residual = t[lo:hi] - F[lo:hi] @ coef - b
                total += float((w[lo:hi] * residual.pow(2).sum(1)).sum())
            errors.append(total)
        chosen, error = choose_ridge_alpha(
            F, t, w, alphas=alphas, intercept=intercept, return_error=True
        )
        assert chosen == alphas[errors.index(min(errors))]
        assert error == pytest.approx(min(errors), rel=1e-9)
    # folds=None: a fit on the first 80% scored on the last 20%
    errors = []
    for alpha in alphas:
        coef, b = weighted_ridge(F[:82], t[:82], w[:82], alpha=alpha)
        errors.append(float((w[82:] * (t[82:] - F[82:] @ coef - b).pow(2).sum(1)).sum()))
    assert (
        choose_ridge_alpha(F, t, w, alphas=alphas, folds=None) == alphas[errors.index(min(errors))]
    )
    # noise only, as many features as fitted rows: not the smallest penalty, which
    # interpolates the noise; an exact linear relation: the smallest
    many = torch.randn(60, 48, generator=gen, dtype=torch.float64)
    noise = torch.randn(60, 1, generator=gen, dtype=torch.float64)
    assert choose_ridge_alpha(many, noise, alphas=alphas) > 1e-3
    assert choose_ridge_alpha(F, F @ torch.ones(12, 1, dtype=torch.float64), alphas=alphas) == 1e-3
    # fewer rows than blocks: one row a block, still a choice among the candidates
    assert choose_ridge_alpha(F[:3], t[:3], alphas=alphas) in alphas


def test_choose_ridge_alpha_is_not_chosen_by_the_last_rows_alone():
    """A stretch at the end that a heavy penalty suits (the rows' relation breaks
    there) does not choose alone: every block is scored."""
    from skresnet.modules._ridge import choose_ridge_alpha, weighted_ridge

    gen = torch.Generator().manual_seed(1)
    F = torch.randn(500, 8, generator=gen, dtype=torch.float64)
    t = F @ torch.ones(8, 1, dtype=torch.float64) + 0.3 * torch.randn(500, 1, generator=gen)
    t[400:] = 0.3 * torch.randn(100, 1, generator=gen, dtype=torch.float64)  # a break
    alphas = [1e-3, 1e-1, 1.0, 10.0, 1e3]
    assert choose_ridge_alpha(F, t, alphas=alphas, intercept=False) <= 1e-1
    # the last fifth alone, forecast by a fit on the first 400 rows, takes the largest
    last = []
    for alpha in alphas:
        coef, _ = weighted_ridge(F[:400], t[:400], alpha=alpha, intercept=False)
        last.append(float((t[400:] - F[400:] @ coef).pow(2).sum()))
    assert last.index(min(last)) == len(alphas) - 1


def test_choose_ridge_alpha_with_weightless_blocks():
    """Blocks of weight 0 (sample_weight 0 on a stretch) add no error, and a fit on
    blocks of weight 0 forecasts zeros: a finite choice among the candidates."""
    from skresnet.modules._ridge import choose_ridge_alpha

    gen = torch.Generator().manual_seed(2)
    F = torch.randn(50, 6, generator=gen, dtype=torch.float64)
    t = F @ torch.ones(6, 2, dtype=torch.float64)
    alphas = [1e-3, 1.0, 1e3]
    w = torch.zeros(50, dtype=torch.float64)
    w[30:] = 1.0  # the last two blocks only
    alpha, error = choose_ridge_alpha(F, t, w, alphas=alphas, return_error=True)
    assert alpha == 1e-3 and math.isfinite(error)
    w = torch.zeros(50, dtype=torch.float64)
    w[:10] = 1.0  # the first block alone: its fit has nothing to fit on
    alpha, error = choose_ridge_alpha(F, t, w, alphas=alphas, return_error=True)
    assert alpha in alphas and error == pytest.approx(float(t[:10].pow(2).sum()))


def test_member_ensemble_trains_members_and_averages_them_in_eval():
    """TabM-style members: each member's output in training, their average in eval."""
    torch.manual_seed(0)
    x = torch.randn(5, 6)
    clf = ResidualMLP(6, 3, width=8, dropout=0.0, n_members=4, member_average="probabilities")
    members = clf.train()(x)
    assert members.shape == (5, 4, 3)
    assert not torch.allclose(members[:, 0], members[:, 1])  # the adapters' random signs
    torch.testing.assert_close(clf.eval()(x).softmax(-1), members.softmax(-1).mean(1))
    reg = ResidualMLP(6, 2, width=8, dropout=0.0, n_members=3)
    torch.testing.assert_close(reg.eval()(x), reg.train()(x).mean(1))
    # a linear start is every member's start (their heads zeroed)
    start = ResidualMLP(6, 2, width=8, n_members=3, linear_skip=True)
    coef, intercept = torch.randn(6, 2), torch.randn(2)
    start.start_linear(coef, intercept)
    linear = x @ coef + intercept
    torch.testing.assert_close(start.train()(x), linear[:, None].expand(5, 3, 2))
    torch.testing.assert_close(start.eval()(x), linear)
    with pytest.raises(ValueError, match="member_average"):
        ResidualMLP(6, 2, member_average="median")


def test_seasonal_prior_is_chosen_on_evenly_spaced_rows(monkeypatch):
    """Beyond PRIOR_ROWS windows the seasonal naive candidates are compared on that many
    rows spread evenly over the set: rows of a 7-step season there, of a 3-step season
    everywhere else (12 times as many), and the 7-step season is chosen."""
    import skresnet.modules._forecast_net as forecast_net

    def windows(period, seed):
        t = torch.arange(700, dtype=torch.float64)
        noise = torch.randn(700, generator=torch.Generator().manual_seed(seed))
        series = 10 + torch.sin(2 * torch.pi * t / period) + 0.1 * noise
        x = torch.stack([series[i : i + 21] for i in range(670)]).unsqueeze(-1)
        return x, torch.stack([series[i + 21 : i + 28] for i in range(670)])

    monkeypatch.setattr(forecast_net, "PRIOR_ROWS", 50)
    rows = torch.linspace(0, 669, 50).round().long()
    (x, y), (x7, y7) = windows(3, 0), windows(7, 1)
    x[rows], y[rows] = x7[rows], y7[rows]
    net = TCNForecastNet(1, 7, channels=4, n_levels=2, lookback=21, linear_skip=True)
    net.fit_linear_skip(x.float(), y.float(), alpha=1.0)
    assert net.start_season == 7


def test_seasonal_prior_search_matches_the_coefficient_matrices(monkeypatch):
    """The candidates' errors, read off the windows, are those of the windows times
    seasonal_naive_coef (with and without drift, a covariate channel beside the
    target); beyond PRIOR_ELEMENTS the search reads fewer rows, at least 1000."""
    import skresnet.modules._forecast_net as forecast_net
    from skresnet.modules._forecast_net import seasonal_naive_coef

    g = torch.Generator().manual_seed(0)
    lookback, horizon, n = 16, 5, 300
    t = torch.arange(n + lookback + horizon, dtype=torch.float64)
    series = 0.05 * t + torch.sin(2 * torch.pi * t / 4) + 0.3 * torch.randn(len(t), generator=g)
    target_rows = torch.stack([series[i : i + lookback] for i in range(n)])
    covariate = torch.randn(n, lookback, generator=g, dtype=torch.float64)
    features = torch.stack([covariate, target_rows], dim=-1).flatten(1)  # target channel 1
    target = torch.stack([series[i + lookback : i + lookback + horizon] for i in range(n)])
    weight = torch.rand(n, generator=g, dtype=torch.float64) + 0.5
    net = TCNForecastNet(2, horizon, channels=4, n_levels=2, lookback=lookback, target_channel=1)
    expected = {}
    for m in range(1, lookback):
        for drift in (False, True):
            coef = seasonal_naive_coef(lookback, 2, 1, horizon, m, drift)
            residual = target - features @ coef
            expected[m, drift] = float((weight * residual.pow(2).sum(1)).sum())
    best = min(expected.values())
    near = sorted(
        (m, d)
        for (m, d), e in expected.items()
        if e <= 1.1 * best
        and e <= expected.get((m - 1, d), math.inf)
        and e <= expected.get((m + 1, d), math.inf)
    )
    assert near and near[0] == (4, True)
    assert net._best_priors(features, target, weight, 3) == near[:3]
    # a bound of 1000 rows' errors: the search reads 1000 rows of the 300 (all of them)
    monkeypatch.setattr(forecast_net, "PRIOR_ELEMENTS", 1.0)
    assert net._best_priors(features, target, weight, 3) == near[:3]


def test_probability_average_is_the_mean_of_the_softmaxes():
    torch.manual_seed(0)
    nets = [nn.Linear(4, 3), nn.Linear(4, 3)]
    x = torch.randn(6, 4) * 3
    out = ProbabilityAverage(nets)(x)
    expected = (nets[0](x).softmax(-1) + nets[1](x).softmax(-1)) / 2
    torch.testing.assert_close(out.exp(), expected)
    torch.testing.assert_close(out.softmax(-1), expected)  # a softmax reads the average
    torch.testing.assert_close(ProbabilityAverage(nets[:1])(x), nets[0](x).log_softmax(-1))
    with pytest.raises(ValueError, match="at least one"):
        ProbabilityAverage([])


def test_output_average_is_the_mean_of_the_outputs():
    torch.manual_seed(0)
    nets = [nn.Linear(4, 2), nn.Linear(4, 2), nn.Linear(4, 2)]
    x = torch.randn(6, 4)
    torch.testing.assert_close(OutputAverage(nets)(x), sum(net(x) for net in nets) / 3)
    torch.testing.assert_close(OutputAverage(nets[:1])(x), nets[0](x))
    with pytest.raises(ValueError, match="at least one"):
        OutputAverage([])


@pytest.mark.parametrize("p", [0.1, 0.5, 0.03])
def test_dropout_from_a_generator_keeps_1_minus_p_and_the_mean(p):
    """Masks drawn from a generator: rate 1 - p, kept elements scaled to keep E[out] = x,
    the same masks from the same seed, and none in eval mode."""
    layer = Dropout(p).train()
    x = torch.ones(999, 1001)  # an odd number of elements: draws are shared by four
    with drawing_from(layer, torch.Generator().manual_seed(0)):
        out = layer(x)
    kept = out != 0
    assert abs(kept.float().mean().item() - (1 - p)) < 3e-3
    assert torch.allclose(out[kept], torch.full_like(out[kept], out[kept][0].item()))
    assert abs(out[kept][0].item() - 1 / (1 - p)) < 1e-4
    assert abs(out.mean().item() - 1) < 5e-3
    with drawing_from(layer, torch.Generator().manual_seed(0)):
        assert torch.equal(layer(x), out)
    with drawing_from(layer, torch.Generator().manual_seed(1)):
        assert not torch.equal(layer(x), out)
    assert torch.equal(layer.eval()(x), x)


def test_dropout_from_a_generator_keeps_a_channels_last_layout():
    """A channels-last input (the TCN's rows) gets a channels-last output, its mask drawn
    in memory order: the same mask the NHWC tensor itself would get, permuted."""
    x = torch.randn(3, 5, 1, 7).contiguous(memory_format=torch.channels_last)
    layer = Dropout(0.3).train()
    with drawing_from(layer, torch.Generator().manual_seed(0)):
        out = layer(x)
    assert out.is_contiguous(memory_format=torch.channels_last)
    with drawing_from(layer, torch.Generator().manual_seed(0)):
        nhwc = layer(x.permute(0, 2, 3, 1).contiguous())
    assert torch.equal(out, nhwc.permute(0, 3, 1, 2))


def test_dropout_from_a_generator_edges():
    """p=1 zeros everything (with a gradient), half precision keeps its dtype and rate."""
    x = torch.ones(64, 33, requires_grad=True)
    layer = Dropout(1.0).train()
    with drawing_from(layer, torch.Generator().manual_seed(0)):
        out = layer(x)
    assert torch.equal(out, torch.zeros_like(out))
    out.sum().backward()
    assert torch.equal(x.grad, torch.zeros_like(x))
    half = Dropout(0.25).train()
    with drawing_from(half, torch.Generator().manual_seed(0)):
        out = half(torch.ones(300, 301, dtype=torch.bfloat16))
    assert out.dtype == torch.bfloat16
    assert abs((out != 0).float().mean().item() - 0.75) < 5e-3
