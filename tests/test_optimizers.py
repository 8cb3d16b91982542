"""Does every optimizer take the steps of its torch.optim counterpart, and keep the framework's rules?"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

from reference import Adagrad, Adam, Momentum, Nesterov, RMSprop, SimpleBatchGD, rules
from reference.torch_check import ParameterSet, run_side_by_side, torch_counterpart, worst_disagreement

# Hyperparameters across their ranges: betas near 0 and near 1, epsilon from 0 to large.
learning_rates = st.sampled_from([1e-3, 0.01, 0.1, 0.5, 1.0])
decays = st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 0.999])
adagrad_epsilons = st.sampled_from([0.0, 1e-10, 1e-7, 1e-3, 1.0])

OPTIMIZERS = {
    "SimpleBatchGD": st.builds(lambda lr: lambda m: SimpleBatchGD(lr, m), learning_rates),
    "Adagrad": st.builds(lambda lr, eps: lambda m: Adagrad(lr, m, eps), learning_rates, adagrad_epsilons),
    # torch.optim adds epsilon outside the square root: the two agree at epsilon = 0 only.
    "RMSprop": st.builds(lambda lr, beta: lambda m: RMSprop(lr, m, beta, 0.0), learning_rates, decays),
    "Momentum": st.builds(lambda lr, rho: lambda m: Momentum(lr, m, rho), learning_rates, decays),
    "Nesterov": st.builds(lambda lr, rho: lambda m: Nesterov(lr, m, rho), learning_rates, decays),
    "Adam": st.builds(lambda lr, b1, b2: lambda m: Adam(lr, m, b1, b2, 0.0), learning_rates, decays, decays),
}


@st.composite
def problems(draw, dtype):
    """Several keys of different shapes (0-d to 3-d), and k steps of nonzero gradients of mixed scales."""
    shapes = draw(st.lists(array_shapes(min_dims=0, max_dims=3, max_side=4), min_size=1, max_size=3))
    steps = draw(st.integers(1, 40))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    gradient_scale = draw(st.sampled_from([1e-4, 1e-2, 1.0, 1e2]))

    def nonzero(shape, scale):
        # |g| in [scale / 2, 2 * scale] with a random sign: with epsilon 0, g = 0 would be 0/0.
        magnitude = scale * rng.uniform(0.5, 2.0, size=shape)
        return torch.from_numpy(np.where(rng.random(shape) < 0.5, -magnitude, magnitude)).to(dtype)

    keys = [f"p{index}" for index in range(len(shapes))]
    params = {key: torch.from_numpy(rng.normal(size=shape)).to(dtype) for key, shape in zip(keys, shapes)}
    gradients = [{key: nonzero(shape, gradient_scale) for key, shape in zip(keys, shapes)} for _ in range(steps)]
    return params, gradients


def _to(problem, device):
    params, gradients = problem
    move = lambda tensors: {key: value.to(device) for key, value in tensors.items()}  # noqa: E731
    return move(params), [move(step) for step in gradients]


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_matches_torch_optim_step_for_step(name, dtype, device):
    @given(make_optimizer=OPTIMIZERS[name], problem=problems(dtype))
    def check(make_optimizer, problem):
        ours, theirs = run_side_by_side(make_optimizer, *_to(problem, device))
        assert worst_disagreement(ours, theirs) <= 1

    check()


class _AdamWithoutBiasCorrection(Adam):
    def adam(self, x, gradient_x, G, M, t, init_lr):
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x**2
        return x - init_lr / torch.sqrt(G + self.epsilon) * M, G, M, t + 1


class _AdagradEpsilonOutside(Adagrad):
    def adagrad(self, x, gradient_x, G, init_lr):
        G = G + gradient_x**2
        return x - init_lr / (torch.sqrt(G) + self.epsilon) * gradient_x, G


@pytest.mark.parametrize(
    "make_optimizer",
    [
        pytest.param(lambda m: _AdamWithoutBiasCorrection(0.1, m, 0.9, 0.99, 0.0), id="adam-no-bias-correction"),
        pytest.param(lambda m: _AdagradEpsilonOutside(0.1, m, 1e-7), id="adagrad-eps-outside-sqrt"),
    ],
)
def test_the_comparison_catches_a_wrong_rule(make_optimizer):
    """Is the tolerance tight enough that a classic mistake fails it? (|g| = 1e-4 makes g² ~ eps.)"""
    params = {"W": torch.ones(3, 2), "b": torch.ones(2)}
    gradients = [{"W": torch.full((3, 2), 1e-4), "b": torch.full((2,), -1e-4)} for _ in range(5)]
    ours, theirs = run_side_by_side(make_optimizer, params, gradients)
    assert worst_disagreement(ours, theirs) > 100


def test_adam_advances_t_once_per_step_with_several_keys():
    """The book advanced t once per key, so W and b saw different t; here every key sees the same t."""
    model = ParameterSet({"W": torch.ones(2, 1), "b": torch.ones(1)})
    model.grads = {"W": torch.full((2, 1), 0.5), "b": torch.full((1,), 0.5)}
    optimizer = Adam(0.1, model, 0.9, 0.99, 1e-7)
    for _ in range(3):
        optimizer.step()
    assert optimizer.t == 4
    # Equal gradients and starts, the same t: the two keys must take identical steps.
    assert torch.equal(model.params["W"][0], model.params["b"])


@pytest.mark.parametrize(
    "make",
    [
        lambda m: SimpleBatchGD(0.1, m),
        lambda m: Adagrad(0.1, m, 1e-7),
        lambda m: RMSprop(0.1, m, 0.9, 1e-7),
        lambda m: Momentum(0.1, m, 0.9),
        lambda m: Nesterov(0.1, m, 0.9),
        lambda m: Adam(0.1, m, 0.9, 0.99, 1e-7),
    ],
    ids=["SimpleBatchGD", "Adagrad", "RMSprop", "Momentum", "Nesterov", "Adam"],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_step_keeps_grads_dtype_and_device(make, dtype, device):
    """Does step() leave model.grads untouched, keep dtype and device, and share no memory with grads?"""
    model = ParameterSet(
        {"W": torch.ones(3, 2, dtype=dtype, device=device), "b": torch.ones(2, dtype=dtype, device=device)}
    )
    model.grads = {key: torch.full_like(value, 0.25) for key, value in model.params.items()}
    before = {key: value.clone() for key, value in model.grads.items()}
    optimizer = make(model)
    for _ in range(2):
        optimizer.step()
    for key, value in model.params.items():
        assert torch.equal(model.grads[key], before[key])
        assert (value.dtype, value.device.type) == (dtype, device)
        assert value.data_ptr() != model.grads[key].data_ptr()
    for state in vars(optimizer).values():
        if isinstance(state, dict):
            for key, value in state.items():
                assert not isinstance(value, torch.Tensor) or value.data_ptr() != model.grads[key].data_ptr()


def test_pure_rules_mutate_nothing():
    x, g, G, M = torch.ones(3), torch.full((3,), 0.5), torch.full((3,), 2.0), torch.full((3,), 0.1)
    copies = [x.clone(), g.clone(), G.clone(), M.clone()]
    outputs = [
        rules.sgd(x, g, 0.1),
        rules.adagrad(x, g, G, 0.1, epsilon=1e-7),
        rules.rmsprop(x, g, G, 0.1, beta=0.9, epsilon=1e-7),
        rules.momentum(x, g, M, 0.1, rho=0.9),
        rules.nesterov(x, g, M, 0.1, rho=0.9),
        rules.adam(x, g, G, M, 1, 0.1, beta1=0.9, beta2=0.99, epsilon=1e-7),
    ]
    for original, copy in zip([x, g, G, M], copies):
        assert torch.equal(original, copy)
    assert outputs[-1][3] == 2
    assert all(not torch.equal(output if isinstance(output, torch.Tensor) else output[0], x) for output in outputs)


def test_pure_rules_equal_the_methods():
    model = ParameterSet({"x": torch.tensor([1.0, -2.0])})
    model.grads = {"x": torch.tensor([0.3, 0.7])}
    optimizer = Adam(0.1, model, 0.9, 0.99, 1e-7)
    optimizer.step()
    x, _, _, t = rules.adam(
        torch.tensor([1.0, -2.0]), torch.tensor([0.3, 0.7]), 0, 0, 1, 0.1, beta1=0.9, beta2=0.99, epsilon=1e-7
    )
    assert torch.equal(model.params["x"], x) and optimizer.t == t


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda m: SimpleBatchGD(-0.1, m), "init_lr"),
        (lambda m: Adagrad(0.1, m, -1e-7), "epsilon"),
        (lambda m: RMSprop(0.1, m, 1.0, 1e-7), "beta"),
        (lambda m: Momentum(0.1, m, -0.5), "rho"),
        (lambda m: Nesterov(0.1, m, float("nan")), "rho"),
        (lambda m: Adam(0.1, m, 0.9, 1.5, 1e-7), "beta2"),
    ],
    ids=["negative-lr", "negative-eps", "beta-1", "negative-rho", "nan-rho", "beta2-above-1"],
)
def test_invalid_hyperparameters_are_named(build, message):
    with pytest.raises(ValueError, match=f"Invalid {message}: "):
        build(ParameterSet({"x": torch.zeros(2)}))


def test_hyperparameter_must_be_a_number():
    with pytest.raises(TypeError, match="init_lr must be a Python number"):
        SimpleBatchGD(torch.tensor(0.1), ParameterSet({"x": torch.zeros(2)}))


def test_no_counterpart_for_epsilon_outside_the_root():
    with pytest.raises(ValueError, match="epsilon=1e-07"):
        torch_counterpart(Adam(0.1, ParameterSet({"x": torch.zeros(2)}), 0.9, 0.99, 1e-7), [])
