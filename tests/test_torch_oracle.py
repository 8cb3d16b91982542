"""Does the grader's functional torch oracle take exactly the steps of the torch.optim classes?"""

import pytest
import torch
from hypothesis import given, settings

from grader.judge import strategies
from grader.judge.parts import RULES
from grader.judge.torch_oracle import torch_steps
from reference.torch_check import ParameterSet, torch_counterpart


def _class_steps(rule, case):
    params = {key: torch.nn.Parameter(value.clone()) for key, value in case["params"].items()}
    optimizer = torch_counterpart(
        rule.reference_class(case["init_lr"], ParameterSet(case["params"]), *case["hyper"]), list(params.values())
    )
    trajectory = []
    for gradients in case["gradients"]:
        for key, param in params.items():
            param.grad = gradients[key].clone()
        optimizer.step()
        trajectory.append({key: value.detach().clone() for key, value in params.items()})
    return trajectory


@pytest.mark.parametrize("part", sorted(RULES))
def test_functional_oracle_equals_the_optimizer_classes(part):
    rule = RULES[part]

    @settings(max_examples=40)
    @given(case=strategies.sequences(rule, ("cpu",), zero_epsilon=part in ("rmsprop", "adam")))
    def check(case):
        for ours, theirs in zip(torch_steps(rule, case), _class_steps(rule, case)):
            for key in theirs:
                assert torch.equal(ours[key], theirs[key]), (part, key)  # the same code: bit for bit

    check()


def test_no_counterpart_with_epsilon_outside_the_root():
    case = {
        "params": {"W": torch.ones(2)},
        "gradients": [{"W": torch.ones(2)}],
        "init_lr": 0.1,
        "hyper": (0.9, 0.99, 1e-7),
    }
    with pytest.raises(ValueError, match="epsilon > 0"):
        torch_steps(RULES["adam"], case)
