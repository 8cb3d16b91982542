"""Hypothesis strategies for the inputs the trusted side sends to a submission.

They must reach the regimes where real mistakes show: |g| near sqrt(eps) (eps placement), betas near 0
and 1 (swapped betas, missing bias correction), t > 1, state of 0 (the first step) and non-zero,
several keys of different shapes (0-d to 3-d), float32 and float64. Values stay well inside float32's
range (|g| <= 1e3, so g² cannot overflow) and are normal numbers, not subnormals. Gradients are never
zero: with eps = 0 a zero gradient is 0/0 in the book and in torch.

Shrinking goes toward typical settings, not toward 0: hypothesis shrinks an integer toward 0 and a
`sampled_from` toward its first element, so index 0 of every grid and list is the value a student would
recognise (beta1 0.9, beta2 0.99, beta and rho 0.9, epsilon 1e-7, init_lr 0.1, gradients of 1e-2 to 10).
A counterexample then reads like the course's own settings, and a mistake is shown where it is plainly
wrong rather than where several mistakes coincide (beta = 0, rho = 0, a step far below |x|).
"""

from functools import cache

import numpy as np
import torch
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

DTYPES = {"float32": torch.float32, "float64": torch.float64}


# Hypothesis draws the structure of an example (shapes, a regime per tensor or per key, the number of
# steps, hyperparameters, one seed) and numpy the values from that seed: drawing elements one by one
# through hypothesis costs 10-40 ms an example, this well under 1. Shrinking still works on what makes
# a counterexample readable: shape, regime, step count. The last regime of gradients and G, "mixed",
# draws every element's magnitude from all the bands at once.
# Moderate first (what shrinking goes toward); ~1e-4 makes g² comparable with eps ~1e-7.
MAGNITUDES = ((1e-2, 10.0), (1e-5, 1e-3), (10.0, 1e3))
REGIMES = {
    "x": ((-1.0, 1.0), (-100.0, 100.0)),
    "M": ((-1.0, 1.0), (-10.0, 10.0)),
    "delta_x": ((-1.0, 1.0), (-10.0, 10.0)),
}


def _values(rng, name, dtype, shape, regime):
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


# Strategies are built once, here: building one per draw costs hypothesis more than the draw itself.
_SEEDS = st.integers(0, 2**32 - 1)
_REGIMES = {
    name: st.integers(0, len(REGIMES[name]) - 1) if name in REGIMES else st.integers(0, len(MAGNITUDES))
    for name in ("x", "M", "delta_x", "gradient_x", "G")
}
_FIRST_STEP = st.booleans()  # state is the int 0 (before the first step), or a tensor
_T = st.one_of(st.just(1), st.integers(1, 1000))
_DTYPES = st.sampled_from(sorted(DTYPES))
_KEY_COUNTS = st.integers(1, 3)


@cache
def _devices(devices):
    return st.sampled_from(devices)


def _rng(draw):
    """One numpy generator per example, seeded by hypothesis (so the seed shrinks and replays)."""
    return np.random.default_rng(draw(_SEEDS))


def draw_tensor(draw, rng, name, dtype, shape):
    """A tensor of the kind `name` (x, gradient_x, G, M, delta_x): hypothesis picks its regime."""
    return _values(rng, name, dtype, shape, draw(_REGIMES[name]))


shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4)


def _toward(typical, values):
    """A strategy over `values` (a grid) that shrinks toward `typical`: index 0 is the grid value nearest to
    it, and the further an index, the further its value (an integer shrinks toward 0)."""
    ordered = sorted(values, key=lambda value: (abs(value - typical), value))
    return st.integers(0, len(ordered) - 1).map(ordered.__getitem__)


def _decays(typical):
    """Special values first (the typical one at their head), then a fine grid over [0, 1) around it."""
    special = [typical] + [value for value in (0.9, 0.99, 0.999, 0.5, 0.1, 0.0) if value != typical]
    # A continuous range as a fine integer grid: hypothesis draws an integer several times faster than a float.
    return st.one_of(st.sampled_from(special), _toward(typical, [i / 10_000 for i in range(10_000)]))


learning_rates = st.one_of(
    st.sampled_from([0.1, 1e-3, 0.01, 0.5, 1.0]), _toward(0.1, [i / 10_000 for i in range(1, 20_001)])
)
epsilons = st.sampled_from([1e-7, 1e-8, 1e-6, 1e-4, 1e-2, 1.0, 0.0])
HYPER = {"epsilon": epsilons, "beta": _decays(0.9), "beta1": _decays(0.9), "beta2": _decays(0.99), "rho": _decays(0.9)}
_ZERO = st.just(0.0)


def draw_hyperparameters(draw, rule, zero_epsilon=False):
    """A tuple in the order of the rule's constructor; `zero_epsilon` for the torch.optim comparisons."""
    return tuple(draw(_ZERO if name == "epsilon" and zero_epsilon else HYPER[name]) for name in rule.hyper)


@st.composite
def single_steps(draw, rule, devices):
    """One per-key call: dict(x, gradient_x, state, init_lr, hyper, dtype, device)."""
    dtype = draw(_DTYPES)
    shape = draw(shapes)
    rng = _rng(draw)
    state = []
    for name in rule.state:
        if name == "t":
            state.append(draw(_T))
        else:
            state.append(0 if draw(_FIRST_STEP) else draw_tensor(draw, rng, name, dtype, shape))
    return {
        "x": draw_tensor(draw, rng, "x", dtype, shape),
        "gradient_x": draw_tensor(draw, rng, "gradient_x", dtype, shape),
        "state": state,
        "init_lr": draw(learning_rates),
        "hyper": draw_hyperparameters(draw, rule),
        "dtype": dtype,
        "device": draw(_devices(tuple(devices))),
    }


@st.composite
def sequences(draw, rule, devices, max_steps=12, zero_epsilon=False):
    """k calls of step() on a model with 1-3 keys: dict(params, gradients, init_lr, hyper, dtype, device)."""
    dtype = draw(_DTYPES)
    key_shapes = [draw(shapes) for _ in range(draw(_KEY_COUNTS))]
    keys = ["W", "b", "s"][: len(key_shapes)]
    steps = draw(st.integers(1, max_steps))
    rng = _rng(draw)
    # A gradient regime per key, not per step: as many draws whatever the number of steps.
    regimes = [draw(_REGIMES["gradient_x"]) for _ in keys]
    return {
        "params": {key: draw_tensor(draw, rng, "x", dtype, shape) for key, shape in zip(keys, key_shapes)},
        "gradients": [
            {
                key: _values(rng, "gradient_x", dtype, shape, regime)
                for key, shape, regime in zip(keys, key_shapes, regimes)
            }
            for _ in range(steps)
        ],
        "init_lr": draw(learning_rates),
        "hyper": draw_hyperparameters(draw, rule, zero_epsilon=zero_epsilon),
        "dtype": dtype,
        "device": draw(_devices(tuple(devices))),
    }
