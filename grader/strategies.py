"""Hypothesis strategies for the inputs the trusted side sends to a submission.

They must reach the regimes where real mistakes show: |g| near sqrt(eps) (eps placement), betas near 0
and 1 (swapped betas, missing bias correction), t > 1, state of 0 (the first step) and non-zero,
several keys of different shapes (0-d to 3-d), float32 and float64. Values stay well inside float32's
range (|g| <= 1e3, so g² cannot overflow) and are normal numbers, not subnormals. Gradients are never
zero: with eps = 0 a zero gradient is 0/0 in the book and in torch.
"""

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

DTYPES = {"float32": torch.float32, "float64": torch.float64}


# Each tensor draws a regime (a range of magnitudes) and a seed from hypothesis, and its values from
# numpy: generating elements one by one through hypothesis costs 10-40 ms an example, this well under 1.
# Shrinking still works on what matters for a readable counterexample: shape, regime, step count.
# "mixed" draws every element's magnitude from all the regimes at once.
MAGNITUDES = ((1e-5, 1e-3), (1e-2, 10.0), (10.0, 1e3))  # ~1e-4 makes g² comparable with eps ~1e-7
REGIMES = {
    "x": ((-1.0, 1.0), (-100.0, 100.0)),
    "M": ((-1.0, 1.0), (-10.0, 10.0)),
    "delta_x": ((-1.0, 1.0), (-10.0, 10.0)),
}


def _values(name, dtype, shape, regime, seed):
    rng = np.random.default_rng(seed)
    if name in REGIMES:
        low, high = REGIMES[name][regime]
        values = rng.uniform(low, high, size=shape)
    else:  # gradient_x (nonzero, signed) and G (a sum of squares, >= 0): log-uniform magnitudes
        bands = np.array(MAGNITUDES)
        band = rng.integers(len(bands), size=shape) if regime == len(bands) else np.full(shape, regime)
        low, high = np.log10(bands[band, 0]), np.log10(bands[band, 1])
        values = 10 ** rng.uniform(low, high)
        if name == "gradient_x":
            values = np.where(rng.random(shape) < 0.5, -values, values)
    return torch.from_numpy(np.asarray(values, dtype=np.float32 if dtype == "float32" else np.float64))


def tensors(name, dtype, shape):
    regimes = len(REGIMES[name]) if name in REGIMES else len(MAGNITUDES) + 1
    return st.tuples(st.integers(0, regimes - 1), st.integers(0, 2**32 - 1)).map(
        lambda drawn: _values(name, dtype, shape, *drawn)
    )


shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)
learning_rates = st.one_of(st.sampled_from([0.1, 1e-3, 0.01, 0.5, 1.0]), st.floats(1e-4, 2.0))
decays = st.one_of(st.sampled_from([0.0, 0.1, 0.5, 0.9, 0.99, 0.999]), st.floats(0.0, 0.9999))
epsilons = st.sampled_from([0.0, 1e-8, 1e-7, 1e-6, 1e-4, 1e-2, 1.0])
HYPER = {"epsilon": epsilons, "beta": decays, "beta1": decays, "beta2": decays, "rho": decays}


def hyperparameters(rule, zero_epsilon=False):
    """A tuple in the order of the rule's constructor; `zero_epsilon` for the torch.optim comparisons."""
    return st.tuples(*(st.just(0.0) if name == "epsilon" and zero_epsilon else HYPER[name] for name in rule.hyper))


@st.composite
def single_steps(draw, rule, devices):
    """One per-key call: dict(x, gradient_x, state, init_lr, hyper, dtype, device)."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    shape = draw(shapes)
    state = []
    for name in rule.state:
        if name == "t":
            state.append(draw(st.one_of(st.just(1), st.integers(1, 1000))))
        else:
            # The int 0 is the state before the first step, as the book starts it.
            state.append(draw(st.one_of(st.just(0), tensors(name, dtype, shape))))
    return {
        "x": draw(tensors("x", dtype, shape)),
        "gradient_x": draw(tensors("gradient_x", dtype, shape)),
        "state": state,
        "init_lr": draw(learning_rates),
        "hyper": draw(hyperparameters(rule)),
        "dtype": dtype,
        "device": draw(st.sampled_from(devices)),
    }


@st.composite
def sequences(draw, rule, devices, max_steps=12, zero_epsilon=False):
    """k calls of step() on a model with 1-3 keys: dict(params, gradients, init_lr, hyper, dtype, device)."""
    dtype = draw(st.sampled_from(sorted(DTYPES)))
    key_shapes = draw(st.lists(shapes, min_size=1, max_size=3))
    keys = ["W", "b", "s"][: len(key_shapes)]
    steps = draw(st.integers(1, max_steps))
    return {
        "params": {key: draw(tensors("x", dtype, shape)) for key, shape in zip(keys, key_shapes)},
        "gradients": [
            {key: draw(tensors("gradient_x", dtype, shape)) for key, shape in zip(keys, key_shapes)}
            for _ in range(steps)
        ],
        "init_lr": draw(learning_rates),
        "hyper": draw(hyperparameters(rule, zero_epsilon=zero_epsilon)),
        "dtype": dtype,
        "device": draw(st.sampled_from(devices)),
    }
