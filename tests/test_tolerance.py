"""Does every result a correct formula can give in float32 pass, hyperparameters rounded included, while
a wrong formula still fails?

A correct formula may meet its hyperparameters rounded to float32: `torch.lerp`'s weight, a
hyperparameter made a tensor (`torch.tensor(beta1) ** t`), `1 - beta` computed in float32. At beta =
1e-4 that moves the result far beyond the rounding tolerance of a few units in the last place, so the
grader allows, where a first comparison fails, what moving each hyperparameter by one unit in the last
place changes in the reference's result (compare.rounding_band).
"""

import pytest
import torch
from grading_support import Variant, variant_failures

from grader.judge import compare
from grader.judge.parts import RULES

ROUNDED = {
    "rmsprop-lerp": Variant(
        "rmsprop",
        "rmsprop",
        """
        if not isinstance(G, torch.Tensor):
            G = torch.zeros_like(x)
        G = torch.lerp(G, gradient_x * gradient_x, 1 - self.beta)  # the weight rounds to x's dtype
        return x - init_lr * gradient_x / torch.sqrt(G + self.epsilon), G
    """,
    ),
    "adam-lerp-and-tensor-bias-correction": Variant(
        "adam",
        "adam",
        """
        M = M if isinstance(M, torch.Tensor) else torch.zeros_like(x)
        G = G if isinstance(G, torch.Tensor) else torch.zeros_like(x)
        M = torch.lerp(M, gradient_x, 1 - self.beta1)
        G = torch.lerp(G, gradient_x * gradient_x, 1 - self.beta2)
        beta1, beta2 = torch.tensor(self.beta1, dtype=x.dtype), torch.tensor(self.beta2, dtype=x.dtype)
        M_hat, G_hat = M / (1 - beta1 ** t), G / (1 - beta2 ** t)
        return x - init_lr * M_hat / torch.sqrt(G_hat + self.epsilon), G, M, t + 1
    """,
    ),
    "momentum-tensor-hyperparameters": Variant(
        "momentum",
        "momentum",
        """
        rho, lr = torch.tensor(self.rho, dtype=x.dtype), torch.tensor(init_lr, dtype=x.dtype)
        delta_x = rho * delta_x - lr * gradient_x
        return x + delta_x, delta_x
    """,
    ),
    "adagrad-tensor-epsilon": Variant(
        "adagrad",
        "adagrad",
        """
        G = G + gradient_x * gradient_x
        return x - init_lr * gradient_x / torch.sqrt(G + torch.tensor(self.epsilon, dtype=x.dtype)), G
    """,
    ),
}


@pytest.mark.parametrize("name", ROUNDED)
def test_a_correct_formula_with_rounded_hyperparameters_gets_full_marks(name, zygote, tmp_path):
    assert variant_failures(ROUNDED[name], tmp_path, zygote) == []


def _lerp_rmsprop_case():
    """One RMSprop step at beta = 1e-4 with a large accumulated G: lerp's rounded weight shows."""
    x, g, G = torch.tensor([1.0]), torch.tensor([1e-3]), torch.tensor([50.0])
    beta, epsilon, lr = 1e-4, 1e-7, 0.1
    lerped = torch.lerp(G, g * g, 1 - beta)
    got = (x - lr * g / torch.sqrt(lerped + epsilon), lerped)
    wanted = RULES["rmsprop"].reference_update(x, g, G, lr, (beta, epsilon))
    return x, g, G, lr, {"beta": beta, "epsilon": epsilon}, got, wanted


def _band(x, g, G, lr, hyper):
    method = RULES["rmsprop"].reference_class.rmsprop
    arguments = (x.double(), g.double(), G.double())

    def compute(reads, init_lr):
        return list(method(reads, *arguments, init_lr))

    uses = compare.uses_per_call(method, hyper, *arguments, lr)
    assert uses == {"beta": 2, "epsilon": 1}  # beta * G + (1 - beta) * g²: each use moved on its own
    return compare.rounding_band(compute, hyper, lr, torch.float32, uses)


def test_the_band_is_needed_and_enough_for_a_rounded_weight():
    """Is lerp's G outside the plain tolerance (so the band is not idle), and inside it with the band?"""
    x, g, G, lr, hyper, got, wanted = _lerp_rmsprop_case()
    received = compare.WireTensor(got[1], "cpu", "Tensor")
    assert compare.problem_with_tensor(received, wanted[1], "G") is not None
    band = _band(x, g, G, lr, hyper)
    assert compare.problem_with_tensor(received, wanted[1], "G", band=band[1]) is None


def test_the_band_still_catches_a_wrong_moving_average():
    """Does the same allowance still reject beta and 1 - beta swapped, on the same inputs?"""
    x, g, G, lr, hyper, _, wanted = _lerp_rmsprop_case()
    swapped = (1 - hyper["beta"]) * G + hyper["beta"] * g * g
    band = _band(x, g, G, lr, hyper)
    received = compare.WireTensor(swapped, "cpu", "Tensor")
    assert compare.problem_with_tensor(received, wanted[1], "G", band=band[1]) is not None
