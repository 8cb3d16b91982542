"""closeness.py, the comparison the grader and the self-check share: its tolerance is the reference's, and
it reads numbers as the tensors hold them."""

import numpy as np
import pytest
import torch

from grader.judge import closeness, compare, trajectory_verdict
from reference.torch_check import tolerance

DTYPES = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_the_tolerance_is_the_references(dtype):
    name = str(dtype).replace("torch.", "")
    for k in (1, 3, 40):
        assert closeness.tolerance(k, name) == tolerance(k, dtype)
        assert closeness.tolerance(k, name, "float64") == tolerance(k, dtype)  # the coarser of the two


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
def test_a_tensor_becomes_float64_without_losing_a_bit(dtype):
    tensor = (torch.randn(64, generator=torch.Generator().manual_seed(3)) * 1e3).to(dtype)
    array = compare.as_array(tensor)
    assert array.dtype == str(dtype).replace("torch.", "") and array.shape == (64,)
    assert torch.equal(torch.from_numpy(array.array).to(dtype), tensor)


def test_one_ulp_passes_and_a_wrong_step_is_named_with_digits_that_differ():
    expected = closeness.array([0.45, -1.5], "float32")
    ulp = float(np.spacing(np.float32(0.45)))
    close = closeness.array([0.45 + ulp, -1.5], "float32")
    assert closeness.tensor_problem(close, expected, "x") is None
    wrong = closeness.array([float(np.float32(0.45)) * (1 + 1e-5), -1.5], "float32")
    message = closeness.tensor_problem(wrong, expected, "x")
    assert message.startswith("x[0] should be ") and "relative error" in message
    shown = message.split(" should be ")[1].split(" (")[0].split(", got ")
    assert shown[0] != shown[1]


def test_a_tensor_is_described_by_its_own_dtypes_shortest_digits():
    text = closeness.describe(compare.received(torch.tensor([0.1, 2.5])))
    assert text.startswith("[0.1, 2.5] (float32, shape [2])")
    assert "tensor of shape [4, 4]" in closeness.describe(compare.received(torch.zeros(4, 4)))


def test_an_empty_tensor_of_many_rows_is_described_by_its_shape_at_once():
    """A reply of shape [2**31 - 1, 0] holds no number: describing it row by row would take an hour."""
    empty = closeness.Array("Tensor", "float32", (2**31 - 1, 0), "cpu", np.empty((2**31 - 1, 0)))
    assert "tensor of shape [2147483647, 0]" in closeness.describe(empty)
    assert "should have shape" in closeness.tensor_problem(empty, closeness.array([1.0]), "x")


def test_a_boolean_is_no_step_count():
    assert closeness.int_problem(compare.received(torch.tensor(True)), 1, "t") is not None
    assert closeness.int_problem(compare.received(torch.tensor(2)), 2, "t") is None
    assert closeness.int_problem(2, 2, "t") is None and closeness.int_problem(True, 1, "t") is not None


def test_train_f_judged_on_its_numbers_whatever_tensor_class_it_returns():
    """operations.py turns any trajectory into one float64 tensor: a subclass's name decides nothing."""
    expected = np.array([[3.0, 4.0], [2.0, 1.0]])
    got = {
        "points": closeness.Array("MyTensor", "float64", (2, 2), "cpu", expected.copy()),
        "losses": closeness.Array("MyTensor", "float64", (2,), "cpu", np.array([5.0, 2.0])),
        "returned_type": "tuple",
    }
    assert trajectory_verdict.trajectory_problem(got, expected, [5.0, 2.0], in_place=True) == (None, None)


def test_the_caller_x_init_must_keep_its_shape_as_well_as_its_values():
    assert trajectory_verdict.x_init_problem(closeness.array([3.0, 4.0]), [3.0, 4.0]) is None
    assert trajectory_verdict.x_init_problem(closeness.array([[3.0, 4.0]]), [3.0, 4.0]) is not None
    assert trajectory_verdict.x_init_problem(closeness.array([3.0, 4.5]), [3.0, 4.0]) is not None
