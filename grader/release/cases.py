"""The self-check's oracle as data: cases drawn with the release seed, the reference's outputs on them,
and each known mistake's outputs on the same cases (so the student's copy can name a mistake by its
outputs alone), and the table of the rule's edits beyond them (edit_table.py). Runs on the instructor's
side, at release time; nothing here is shipped as code.

Hyperparameters and learning rates are dyadic fractions (0.875, 3/64, 2^-13...), exact in float32 and
float64: a correct student's result then depends only on its order of operations, never on where a
hyperparameter was rounded, so one rounding tolerance (8·k·u, as the grader's) is enough.
"""

import math

import numpy as np
import torch

from grader import i18n
from grader.explain.mistakes import mistakes_for
from grader.judge.checks import reference_steps, stepped
from grader.judge.parts import PARTS, RULES
from grader.judge.torch_oracle import torch_steps
from reference import OptimizedFunction, SimpleBatchGD, train_f
from reference.torch_check import ParameterSet

from .edit_table import part_table

#: The release's seed: not grading's (grader.defaults.SEED), so public cases are not the graded ones.
RELEASE_SEED = 20261130

# The first example (typical settings) and the probe settings (away from 0, 0.5, 1 and from the usual
# defaults, so that swapped or hard-coded hyperparameters show), all exact in float32.
TYPICAL = {"epsilon": 2.0**-23, "beta": 0.875, "beta1": 0.875, "beta2": 0.9921875, "rho": 0.875}
TYPICAL_LR = 0.125
PROBE = {"epsilon": 2.0**-13, "beta": 0.8125, "beta1": 0.8125, "beta2": 0.9453125, "rho": 0.6875}
PROBE_LR = 0.046875
_PROBE_X = ((0.5, -1.25, 0.75), (-0.3, 1.0, 2.0))
_PROBE_GRADIENTS = (
    ((1.5, 0.3, 0.01), (0.02, 2.0, 0.005)),
    ((-0.4, 0.25, 0.012), (0.03, -0.6, 0.004)),
    ((0.9, -0.05, 0.008), (0.015, 1.1, 0.006)),
    ((-0.2, 0.35, 0.011), (0.025, -0.3, 0.005)),
)
_PROBE_B = ((1.1, -0.4, 0.05), (0.7, -2.0, 0.3))
_PROBE_B_GRADIENTS = (
    ((0.8, 0.02, 1.3), (0.4, 0.09, 0.007)),
    ((0.6, 0.03, -0.5), (-0.1, 0.05, 0.009)),
    ((-0.3, 0.01, 0.9), (0.3, 0.08, 0.006)),
    ((0.5, 0.02, -0.2), (0.2, 0.07, 0.008)),
)
_LEARNING_RATES = (0.015625, 0.046875, 0.125, 0.25, 0.5)
_EPSILONS = (0.0, 2.0**-26, 2.0**-20, 2.0**-13, 2.0**-7, 1.0)
_BETAS = (0.0, 0.25, 0.6875, 0.875, 0.9921875, 1 - 2.0**-12)


def encode(value):
    """A value as the self-check's JSON: tensors as dtype, shape and numbers (see selfcheck/wire.py)."""
    if isinstance(value, torch.Tensor):
        return {
            "tensor": {
                "type": "Tensor",
                "dtype": str(value.dtype).removeprefix("torch."),
                "shape": list(value.shape),
                "device": "cpu",
                "data": value.detach().cpu().reshape(-1).tolist(),
            }
        }
    if isinstance(value, (tuple, list)):
        return {"seq": [encode(item) for item in value], "kind": type(value).__name__}
    if isinstance(value, dict):
        return {"dict": {key: encode(item) for key, item in value.items()}}
    return value


def _hyper(rule, values):
    return [values[name] for name in rule.hyper]


def _t(values, dtype):
    return torch.tensor(values, dtype=dtype)


class _Draw:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)

    def pick(self, options):
        return options[int(self.rng.integers(len(options)))]

    def shape(self, max_dims=3):
        return tuple(int(self.rng.integers(1, 4)) for _ in range(int(self.rng.integers(0, max_dims + 1))))

    def values(self, shape, dtype, low=-3.0, high=3.0):
        return torch.from_numpy(np.asarray(self.rng.uniform(low, high, size=shape))).to(dtype)

    def gradients(self, shape, dtype):
        """Magnitudes from 1e-5 to 1e3 (so g² meets epsilon), random signs, never 0."""
        size = 10.0 ** self.rng.uniform(-5, 3, size=shape)
        return torch.from_numpy(np.asarray(size * self.rng.choice([-1.0, 1.0], size=shape))).to(dtype)

    def hyper(self, rule, zero_epsilon=False):
        values = {
            "epsilon": 0.0 if zero_epsilon else self.pick(_EPSILONS),
            "beta": self.pick(_BETAS),
            "beta1": self.pick(_BETAS),
            "beta2": self.pick(_BETAS),
            "rho": self.pick(_BETAS),
        }
        return _hyper(rule, values)


def _state_value(name, draw, shape, dtype, t):
    if name == "t":
        return t
    if name == "G":  # a sum or average of squares: never negative, sometimes of the size of epsilon
        return (10.0 ** torch.from_numpy(np.asarray(draw.rng.uniform(-8, 1, size=shape)))).to(dtype)
    return draw.values(shape, dtype, -0.5, 0.5)


def single_step_inputs(rule, draw, count):
    """[(x, gradient_x, state, init_lr, hyper)]: the first example, the probe chain, a 0-d probe, random."""
    f32 = torch.float32
    zero = [1 if name == "t" else 0 for name in rule.state]
    cases = [(_t([3.0, 4.0], f32), _t([1.25, 16.0], f32), zero, TYPICAL_LR, _hyper(rule, TYPICAL))]
    x, state = _t(_PROBE_X, f32), list(zero)
    for gradient in _PROBE_GRADIENTS:  # along the correct trajectory, state 0 then tensor state, t > 1
        cases.append((x, _t(gradient, f32), state, PROBE_LR, _hyper(rule, PROBE)))
        x, *state = rule.reference_update(
            x.clone(), _t(gradient, f32), [_copy(v) for v in state], PROBE_LR, _hyper(rule, PROBE)
        )
    scalar = {"G": 2e-7, "M": 0.01, "delta_x": -0.02, "t": 7}
    cases.append(
        (
            _t(0.7, f32),
            _t(4e-4, f32),
            [scalar[n] if n == "t" else _t(scalar[n], f32) for n in rule.state],
            PROBE_LR,
            _hyper(rule, PROBE),
        )
    )
    for _ in range(count):
        dtype, shape = draw.pick((torch.float32, torch.float64)), draw.shape()
        fresh = draw.rng.random() < 0.3
        t = 1 if fresh else int(draw.pick((1, 2, 3, 10, 100, 1000)))
        state = [
            (1 if name == "t" else 0) if fresh else _state_value(name, draw, shape, dtype, t) for name in rule.state
        ]
        cases.append(
            (
                draw.values(shape, dtype),
                draw.gradients(shape, dtype),
                state,
                draw.pick(_LEARNING_RATES),
                draw.hyper(rule),
            )
        )
    return cases


def sequence_inputs(rule, draw, count, zero_epsilon=False, with_probe=True):
    """[{params, gradients, init_lr, hyper}]: the probe sequence (two keys of one shape), then random."""
    f32 = torch.float32
    cases = []
    if with_probe:
        cases.append(
            {
                "params": {"W": _t(_PROBE_X, f32), "b": _t(_PROBE_B, f32)},
                "gradients": [{"W": _t(w, f32), "b": _t(b, f32)} for w, b in zip(_PROBE_GRADIENTS, _PROBE_B_GRADIENTS)],
                "init_lr": PROBE_LR,
                "hyper": _hyper(rule, dict(PROBE, epsilon=0.0) if zero_epsilon else PROBE),
            }
        )
    for _ in range(count):
        dtype = draw.pick((torch.float32, torch.float64))
        shapes = {key: draw.shape(2) for key in ("W", "b", "c")[: int(draw.rng.integers(1, 4))]}
        steps = int(draw.rng.integers(2, 7))
        cases.append(
            {
                "params": {key: draw.values(shape, dtype) for key, shape in shapes.items()},
                "gradients": [
                    {key: draw.gradients(shape, dtype) for key, shape in shapes.items()} for _ in range(steps)
                ],
                "init_lr": draw.pick(_LEARNING_RATES),
                "hyper": draw.hyper(rule, zero_epsilon),
            }
        )
    return cases


def invariants_inputs(rule, draw):
    """Two keys over three steps with typical settings (state tied to a gradient and t per key show), then
    one in float64 (its dtype must be kept)."""
    gradients = [[0.5, -1.5, 2.0, 0.25], [-2.0, 0.75, 1.0, -0.5], [1.25, 0.5, -0.75, 3.0]]
    first = {
        "params": {"W": torch.tensor([[1.0, -2.0], [0.5, 3.0]]), "b": torch.tensor([0.25, -1.0])},
        "gradients": [{"W": torch.tensor(g).reshape(2, 2), "b": torch.tensor(g[1:3]) * -0.5} for g in gradients],
        "init_lr": TYPICAL_LR,
        "hyper": _hyper(rule, TYPICAL),
    }
    double = {
        "params": {key: value.double() for key, value in first["params"].items()},
        "gradients": [{key: value.double() * 0.75 for key, value in step.items()} for step in first["gradients"]],
        "init_lr": PROBE_LR,
        "hyper": _hyper(rule, PROBE),
    }
    return [first, double] + sequence_inputs(rule, draw, 1, with_probe=False)


def _copy(value):
    return value.clone() if isinstance(value, torch.Tensor) else value


def _outcome(compute):
    """encode(compute()), or {"error": ...} where it raises (a mistake's own failure is part of its record)."""
    try:
        with np.errstate(all="ignore"):
            return encode(compute())
    except Exception as error:  # noqa: BLE001 - any failure of a mistake is recorded, not raised
        return {"error": type(error).__name__}


def _steps(optimizer_class, case):
    """The parameters after each step() of optimizer_class, gradients new tensors each step."""
    model = ParameterSet(case["params"])
    return stepped(model, optimizer_class(case["init_lr"], model, *case["hyper"]), case["gradients"])


def _single_step_case(rule, inputs):
    x, gradient, state, init_lr, hyper = inputs
    expected = rule.reference_update(x.clone(), gradient.clone(), [_copy(v) for v in state], init_lr, hyper)
    return {
        "x": encode(x),
        "gradient_x": encode(gradient),
        "state": [encode(v) for v in state],
        "init_lr": init_lr,
        "hyper": hyper,
        "expected": encode(tuple(expected)),
    }


def _sequence_case(case, expected):
    return {
        "params": encode(case["params"]),
        "gradients": encode(case["gradients"]),
        "init_lr": case["init_lr"],
        "hyper": case["hyper"],
        "expected": encode(expected),
    }


def _invariants_case(rule, case):
    """A sequence case, with the single per-key call on its first key and first gradient (state 0)."""
    key = next(iter(case["params"]))
    single = (
        case["params"][key],
        case["gradients"][0][key],
        [1 if name == "t" else 0 for name in rule.state],
        case["init_lr"],
        case["hyper"],
    )
    record = _single_step_case(rule, single)
    return dict(
        _sequence_case(case, reference_steps(rule, case)), per_key_case=record, per_key_expected=record.pop("expected")
    )


def optimizer_part(rule, draw):
    """Cases of one optimizer part, with the reference's (and torch.optim's) outputs and each mistake's."""
    singles = single_step_inputs(rule, draw, 10)
    sequences = sequence_inputs(rule, draw, 3)
    torch_cases = sequence_inputs(rule, draw, 3, zero_epsilon=rule.part in ("rmsprop", "adam"), with_probe=False)
    invariants = invariants_inputs(rule, draw)
    part = {
        "class_name": rule.class_name,
        "method": rule.method,
        "hyper": list(rule.hyper),
        "state": list(rule.state),
        "single_step": [_single_step_case(rule, inputs) for inputs in singles],
        "sequence": [_sequence_case(case, reference_steps(rule, case)) for case in sequences],
        "torch_optim": [_sequence_case(case, torch_steps(rule, case)) for case in torch_cases],
        "invariants": [_invariants_case(rule, case) for case in invariants],
        "mistakes": [],
    }
    for mistake in mistakes_for(rule.part):

        def update(x, gradient, state, init_lr, hyper, mistake=mistake):
            if not mistake.per_key:
                return rule.reference_update(x, gradient, state, init_lr, hyper)
            return mistake.update(x, gradient, *state, init_lr=init_lr, **dict(zip(rule.hyper, hyper)))

        # The title and hint as students read them, in the release's language (the bank's catalog, "mistakes"):
        # the bundle holds them translated, and needs no catalog for them. The slug never changes.
        record = {
            "slug": mistake.slug,
            "title": i18n._(mistake.title),
            "hint": i18n._(mistake.hint),
            "per_key": mistake.per_key,
        }
        record["single_step"] = [
            _outcome(lambda i=i: tuple(update(i[0].clone(), i[1].clone(), [_copy(v) for v in i[2]], i[3], i[4])))
            for i in singles
        ]
        for test, cases in (("sequence", sequences), ("torch_optim", torch_cases), ("invariants", invariants)):
            record[test] = [_outcome(lambda case=case: _steps(mistake.optimizer_class(), case)) for case in cases]  # noqa: B023 -- called at once, in this iteration
        part["mistakes"].append(record)
    # The edits of the rule beyond the bank, keyed and encrypted by what they return on the single_step cases.
    part["edits"] = part_table(rule.part, part)
    return part


def trajectory_part(draw):
    """train_f's cases: the 2D bowl's typical run, then random spheres; expected points and losses from the
    reference."""
    cases = [{"w": [0.25, 2.0], "x_init": [3.0, 4.0], "init_lr": TYPICAL_LR, "epoch": 20}]
    for _ in range(2):
        size = int(draw.rng.integers(1, 4))
        cases.append(
            {
                "w": [draw.pick((0.25, 0.5, 1.0, 2.0)) for _ in range(size)],
                "x_init": [
                    float(np.float32(v)) for v in draw.rng.uniform(0.2, 5, size) * draw.rng.choice([-1, 1], size)
                ],
                "init_lr": draw.pick((0.046875, 0.125, 0.1875)),
                "epoch": int(draw.rng.integers(2, 26)),
            }
        )
    for case in cases:
        model = OptimizedFunction(torch.tensor(case["w"]))
        points, losses = train_f(
            model, SimpleBatchGD(case["init_lr"], model), torch.tensor(case["x_init"]), case["epoch"]
        )
        case["expected"] = points.to(torch.float64).tolist()
        case["expected_losses"] = losses.to(torch.float64).tolist()
    return {"cases": cases}


def build_cases(seed=RELEASE_SEED):
    """Everything the self-check judges by: {part tag: its cases and records}."""
    draw = _Draw(seed)
    parts = {tag: optimizer_part(rule, draw) for tag, rule in RULES.items()}
    parts["trajectory"] = trajectory_part(draw)
    return {tag: parts[tag] for tag in PARTS}


def finite(value):
    return isinstance(value, float) and math.isfinite(value)
