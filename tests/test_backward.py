"""Does every analytic backward of the framework equal what autograd computes?"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from reference import Linear, NarrowBowl, OptimizedFunction, Saddle, TiltedCubic

# float64 and O(1) values: the two gradients differ only by rounding, a few ulps of 1e-16.
RTOL, ATOL = 1e-12, 1e-12

coordinates = st.floats(-10, 10, allow_nan=False)

OBJECTIVES = {
    "OptimizedFunction": lambda: OptimizedFunction([0.2, 2.0]),
    "TiltedCubic": TiltedCubic,
    "NarrowBowl": NarrowBowl,
    "Saddle": Saddle,
}


@pytest.mark.parametrize("name", OBJECTIVES)
@given(x1=coordinates, x2=coordinates)
def test_objective_backward_equals_autograd(name, x1, x2):
    objective = OBJECTIVES[name]()
    x = torch.tensor([x1, x2], dtype=torch.float64, requires_grad=True)
    value = objective(x)
    (expected,) = torch.autograd.grad(value, x)
    objective.backward()
    assert objective.grads["x"].shape == x.shape
    torch.testing.assert_close(objective.grads["x"], expected, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("name", OBJECTIVES)
def test_objective_works_on_each_device(name, device):
    """Is the gradient computed on the point's device, in its dtype?"""
    objective = OBJECTIVES[name]()
    x = torch.tensor([0.5, -1.5], device=device)
    objective(x)
    objective.backward()
    assert objective.grads["x"].device.type == device
    assert objective.grads["x"].dtype == torch.float32


@given(seed=st.integers(0, 2**31 - 1), rows=st.integers(1, 70), features=st.integers(1, 4))
def test_linear_backward_is_the_gradient_of_half_the_mse(seed, rows, features):
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn([rows, features], generator=generator, dtype=torch.float64)
    labels = torch.randn([rows, 1], generator=generator, dtype=torch.float64)
    model = Linear(features, dtype=torch.float64)
    W = model.params["W"].clone().requires_grad_(True)
    b = model.params["b"].clone().requires_grad_(True)
    loss = 0.5 * torch.mean((inputs @ W + b - labels) ** 2)
    expected_W, expected_b = torch.autograd.grad(loss, [W, b])

    model(inputs)
    model.backward(labels)
    torch.testing.assert_close(model.grads["W"], expected_W, rtol=RTOL, atol=ATOL)
    torch.testing.assert_close(model.grads["b"], expected_b, rtol=RTOL, atol=ATOL)


def test_linear_keeps_its_parameters_on_the_device(device):
    model = Linear(3, device=device)
    inputs = torch.randn([5, 3], device=device)
    model(inputs)
    model.backward(torch.zeros([5, 1], device=device))
    for tensors in (model.params, model.grads):
        assert {tensor.device.type for tensor in tensors.values()} == {device}
