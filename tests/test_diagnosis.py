"""Does diagnosis name each known mistake from its output and the probes, and never name a wrong one?

Inputs are chosen where every mistake shows (see `step_inputs` and `problem`): gradients from 1e-4 to 1
with epsilon 1e-6, so g² ~ epsilon for some entries (epsilon placement); nonzero state and t = 3 (no
accumulation, betas swapped, bias correction); betas 0.85 / 0.98, away from 0.5 and from the defaults a
student might hard-code; two keys of one shape
and several steps (shared t, shared or dropped state). The probes are answered in this process by the
class under test (tests/diagnosis_support.py), as the sandbox answers them for a submission.
"""

import math

import pytest
import torch
from diagnosis_support import FirstKeyOnly, failing_runner, runner
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.explain.diagnosis import (
    PROBE_HYPER,
    PROBE_LR,
    STEP_TOLERANCE_FACTOR,
    Diagnosis,
    diagnose_sequence,
    diagnose_step,
    fingerprint_distance,
    probe_calls,
    probe_fingerprint,
)
from grader.explain.mistakes import BANK, RULES, find, optimizer_for, state_names
from reference import Adagrad, Adam, Momentum, rules
from reference.torch_check import ParameterSet, tolerance

DTYPES = pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
INIT_LR = 0.1
# Not the usual defaults, where a hard-coded hyperparameter would coincide with the right one.
HYPER = {
    "adagrad": {"epsilon": 1e-6},
    "rmsprop": {"beta": 0.85, "epsilon": 1e-6},
    "momentum": {"rho": 0.8},
    "nesterov": {"rho": 0.8},
    "adam": {"beta1": 0.85, "beta2": 0.98, "epsilon": 1e-6},
}
PER_KEY = [mistake for rule in RULES for mistake in BANK[rule] if mistake.per_key]
ALL = [mistake for rule in RULES for mistake in BANK[rule]]

# x moves exactly as it should for a constant init_lr; only the returned delta_x (one step) shows it.
SEQUENCE_INVISIBLE = {"momentum/lr_on_delta", "momentum/velocity_sign_flipped"}


def _ids(mistakes):
    return [mistake.key for mistake in mistakes]


def mixed(generator, shape, dtype):
    """Entries of size 1e-4 to 1 (log-uniform) with random signs."""
    magnitude = 10.0 ** (-4.0 * torch.rand(shape, generator=generator, dtype=torch.float64))
    sign = torch.where(torch.rand(shape, generator=generator) < 0.5, -1.0, 1.0)
    return (magnitude * sign).to(dtype)


def step_inputs(rule, dtype, seed=0, shape=(3, 4)):
    """One call's arguments in the regime where every per-key mistake of `rule` shows."""
    generator = torch.Generator().manual_seed(seed)
    state = {
        "G": mixed(generator, shape, dtype) ** 2,  # past squares: ~ epsilon for the small entries
        "M": mixed(generator, shape, dtype),
        "t": 3,
        "delta_x": INIT_LR * mixed(generator, shape, dtype),
    }
    x = torch.randn(shape, generator=generator, dtype=torch.float64).to(dtype)
    inputs = {"x": x, "gradient_x": mixed(generator, shape, dtype), "init_lr": INIT_LR}
    return {**inputs, **{name: state[name] for name in state_names(rule)}}


def call(function, rule, inputs):
    """function(x, g, *state, init_lr=...) on copies of the inputs (some mistakes mutate them)."""
    copy = lambda value: value.clone() if isinstance(value, torch.Tensor) else value  # noqa: E731
    state = [copy(inputs[name]) for name in state_names(rule)]
    return function(copy(inputs["x"]), copy(inputs["gradient_x"]), *state, init_lr=inputs["init_lr"])


def output(update, rule, inputs, hyper):
    """update(x, g, *state, init_lr=..., **hyper) on copies of `inputs`: a mistake's or the correct one."""
    return call(lambda *args, init_lr: update(*args, init_lr=init_lr, **hyper), rule, inputs)


def correct_update(rule):
    return lambda *args, init_lr, **hyper: getattr(rules, rule)(*args, init_lr, **hyper)


def problem(dtype, steps=4, seed=0):
    """Two keys of one shape and `steps` steps of gradients from 1e-4 to 1."""
    generator = torch.Generator().manual_seed(seed)
    params = {key: torch.randn(3, 4, generator=generator, dtype=torch.float64).to(dtype) for key in ("W", "b")}
    gradients = [{key: mixed(generator, (3, 4), dtype) for key in params} for _ in range(steps)]
    return params, gradients


def run(optimizer_class, rule, params, gradients):
    """The parameters after each step() (what the grader observes of a student's class)."""
    model = ParameterSet(params)
    optimizer = optimizer_class(INIT_LR, model, **HYPER[rule])
    points = []
    for step_gradients in gradients:
        model.grads = {key: value.clone() for key, value in step_gradients.items()}
        optimizer.step()
        points.append({key: value.clone() for key, value in model.params.items()})
    return points


def close(a, b, rtol):
    """Loosely equal (NaN with NaN), on the scale of the larger tensor: for 'this differs from that'."""
    a, b = torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64)
    scale = max([b[b.isfinite()].abs().max().item()] if b.isfinite().any() else [0.0])
    return a.shape == b.shape and torch.allclose(a, b, rtol=rtol, atol=rtol * scale, equal_nan=True)


def _recognised(diagnosis, mistake):
    """Is `diagnosis` this mistake, and this one only?"""
    return diagnosis is not None and diagnosis.mistake == mistake and diagnosis.also == ()


# --- each mistake is a mistake, and is recognised as itself -------------------------------------------


@DTYPES
@pytest.mark.parametrize("mistake", PER_KEY, ids=_ids(PER_KEY))
def test_a_per_key_mistake_differs_from_correct_in_one_step(mistake, dtype):
    """Is every per-key mistake wrong on this input (by far more than rounding)?"""
    inputs = step_inputs(mistake.rule, dtype)
    hyper = HYPER[mistake.rule]
    ours = output(mistake.update, mistake.rule, inputs, hyper)
    theirs = output(correct_update(mistake.rule), mistake.rule, inputs, hyper)
    assert not all(close(a, b, 1e-4) for a, b in zip(ours, theirs))


@pytest.mark.parametrize("mistake", [m for m in ALL if not m.per_key], ids=_ids([m for m in ALL if not m.per_key]))
def test_a_step_mistake_differs_from_correct_over_a_sequence(mistake):
    params, gradients = problem(torch.float64)
    ours = run(mistake.optimizer_class(), mistake.rule, params, gradients)
    theirs = run(optimizer_for(mistake.rule), mistake.rule, params, gradients)
    assert not all(close(mine[key], other[key], 1e-4) for mine, other in zip(ours, theirs) for key in other)


@DTYPES
@pytest.mark.parametrize("mistake", PER_KEY, ids=_ids(PER_KEY))
def test_a_per_key_mistake_is_recognised_from_one_step(mistake, dtype):
    rule = mistake.rule
    inputs = step_inputs(rule, dtype)
    got = output(mistake.update, rule, inputs, HYPER[rule])
    diagnosis = diagnose_step(rule, inputs, HYPER[rule], got, runner(mistake.optimizer_class()))
    assert _recognised(diagnosis, mistake), diagnosis
    assert diagnosis.distance <= 1 and diagnosis.first_wrong_step is None


@DTYPES
@pytest.mark.parametrize("mistake", ALL, ids=_ids(ALL))
def test_a_mistake_is_recognised_from_its_trajectory(mistake, dtype):
    rule = mistake.rule
    params, gradients = problem(dtype)
    got = run(mistake.optimizer_class(), rule, params, gradients)
    diagnosis = diagnose_sequence(
        rule, params, gradients, HYPER[rule], got, runner(mistake.optimizer_class()), init_lr=INIT_LR
    )
    if mistake.key in SEQUENCE_INVISIBLE:
        assert diagnosis is None
    else:
        assert _recognised(diagnosis, mistake), diagnosis
        assert 1 <= diagnosis.first_wrong_step <= len(gradients)


# --- correct, correct-but-reordered, garbage and near misses are not diagnosed ----------------------------


@DTYPES
@pytest.mark.parametrize("rule", RULES)
def test_correct_output_is_not_a_mistake(rule, dtype):
    inputs = step_inputs(rule, dtype)
    got = output(correct_update(rule), rule, inputs, HYPER[rule])
    assert diagnose_step(rule, inputs, HYPER[rule], got, failing_runner) is None  # no probes needed
    params, gradients = problem(dtype)
    got = run(optimizer_for(rule), rule, params, gradients)
    assert diagnose_sequence(rule, params, gradients, {**HYPER[rule], "init_lr": INIT_LR}, got, failing_runner) is None


class _ReorderedAdagrad(Adagrad):
    """Correct, in another order of operations: g**2, and the division last."""

    def adagrad(self, x, gradient_x, G, init_lr):
        G = gradient_x**2 + G
        return x - init_lr * gradient_x / torch.sqrt(G + self.epsilon), G


class _ReorderedAdam(Adam):
    """Correct, with the bias corrections folded into the step size and the root (as in the paper)."""

    def adam(self, x, gradient_x, G, M, t, init_lr):
        M = (1 - self.beta1) * gradient_x + self.beta1 * M
        G = (1 - self.beta2) * gradient_x**2 + self.beta2 * G
        step_size = init_lr * math.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        return x - step_size * M / torch.sqrt(G + self.epsilon * (1 - self.beta2**t)), G, M, t + 1


class _ReorderedAdamWithoutBiasCorrection(Adam):
    def adam(self, x, gradient_x, G, M, t, init_lr):
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x**2
        return x - init_lr * M / (G + self.epsilon).sqrt(), G, M, t + 1


def _method(cls, rule):
    function = getattr(cls, rule)
    return lambda *args, init_lr: function(type("Hyper", (), HYPER[rule])(), *args, init_lr)


@pytest.mark.parametrize(
    "cls, rule",
    [(_ReorderedAdagrad, "adagrad"), (_ReorderedAdam, "adam")],
    ids=["adagrad", "adam"],
)
def test_a_correct_student_in_another_order_is_within_tolerance(cls, rule):
    """Does the float32 tolerance (16u one step, 8ku over k steps) absorb a different order of operations?"""
    for seed in range(3):
        inputs = step_inputs(rule, torch.float32, seed=seed)
        assert diagnose_step(rule, inputs, HYPER[rule], call(_method(cls, rule), rule, inputs), runner(cls)) is None
        params, gradients = problem(torch.float32, steps=20, seed=seed)
        got = run(cls, rule, params, gradients)
        assert diagnose_sequence(rule, params, gradients, HYPER[rule], got, runner(cls), init_lr=INIT_LR) is None


def test_a_mistake_in_another_order_is_still_recognised():
    mistake = find("adam", "no_bias_correction")
    for seed in range(3):
        inputs = step_inputs("adam", torch.float32, seed=seed)
        student = runner(_ReorderedAdamWithoutBiasCorrection)
        got = call(_method(_ReorderedAdamWithoutBiasCorrection, "adam"), "adam", inputs)
        assert diagnose_step("adam", inputs, HYPER["adam"], got, student).mistake == mistake
        params, gradients = problem(torch.float32, steps=10, seed=seed)
        got = run(_ReorderedAdamWithoutBiasCorrection, "adam", params, gradients)
        assert (
            diagnose_sequence("adam", params, gradients, HYPER["adam"], got, student, init_lr=INIT_LR).mistake
            == mistake
        )


def _garbage(value, generator):
    if isinstance(value, torch.Tensor):
        return torch.randn(value.shape, generator=generator, dtype=torch.float64).to(value.dtype)
    return value


@DTYPES
@pytest.mark.parametrize("rule", RULES)
def test_garbage_and_near_misses_are_not_diagnosed(rule, dtype):
    """Random output, NaN, the wrong shape or arity, and a correct output off by 0.1% match nothing known."""
    generator = torch.Generator().manual_seed(7)
    inputs = step_inputs(rule, dtype)
    correct = output(correct_update(rule), rule, inputs, HYPER[rule])
    near_miss = (correct[0] * 1.001, *correct[1:])
    for got in [
        tuple(_garbage(value, generator) for value in correct),
        tuple(torch.full_like(value, math.nan) if isinstance(value, torch.Tensor) else value for value in correct),
        (correct[0].flatten(), *correct[1:]),
        correct[:-1],
        near_miss,
    ]:
        diagnosis = diagnose_step(rule, inputs, HYPER[rule], got, runner(optimizer_for(rule)))
        assert diagnosis.mistake is None and "none of the known" in diagnosis.message
    params, gradients = problem(dtype)
    correct = run(optimizer_for(rule), rule, params, gradients)
    for got in [
        [{key: _garbage(value, generator) for key, value in step.items()} for step in correct],
        [{key: value * 1.001 for key, value in step.items()} for step in correct],
        [{"W": step["W"]} for step in correct],
    ]:
        diagnosis = diagnose_sequence(
            rule, params, gradients, HYPER[rule], got, runner(optimizer_for(rule)), init_lr=INIT_LR
        )
        assert diagnosis.mistake is None and "none of the known" in diagnosis.message


def test_a_mistake_that_coincides_with_correct_here_is_not_named():
    """eps outside the root equals the book's rule at eps = 0: correct output there is not that mistake."""
    inputs = step_inputs("adagrad", torch.float32)
    hyper = {"epsilon": 0.0}
    student = runner(find("adagrad", "eps_outside_sqrt").optimizer_class())
    got = output(find("adagrad", "eps_outside_sqrt").update, "adagrad", inputs, hyper)
    assert diagnose_step("adagrad", inputs, hyper, got, student) is None
    # With |g| ~ 1 only, eps = 1e-7 changes nothing visible: again no diagnosis.
    inputs = {**inputs, "gradient_x": torch.ones(3, 4), "G": torch.ones(3, 4)}
    got = output(find("adagrad", "eps_outside_sqrt").update, "adagrad", inputs, HYPER["adagrad"])
    assert diagnose_step("adagrad", inputs, HYPER["adagrad"], got, student) is None


def test_nan_where_the_mistake_gives_nan_is_a_match():
    """Accumulating g can make G + eps negative: NaN in x, at the same places as the mistake's."""
    mistake = find("adagrad", "accumulates_g")
    inputs = step_inputs("adagrad", torch.float32)
    got = output(mistake.update, "adagrad", inputs, HYPER["adagrad"])
    assert got[0].isnan().any() and not got[0].isnan().all()
    student = runner(mistake.optimizer_class())
    assert diagnose_step("adagrad", inputs, HYPER["adagrad"], got, student).mistake == mistake
    moved = (torch.where(got[0].isnan(), 0.0, got[0]), got[1])
    assert diagnose_step("adagrad", inputs, HYPER["adagrad"], moved, student).mistake is None


# --- messages, steps and validation ----------------------------------------------------------------


def test_the_message_names_the_optimizer_the_mistake_and_the_fix():
    mistake = find("adam", "no_bias_correction")
    inputs = step_inputs("adam", torch.float32)
    got = output(mistake.update, "adam", inputs, HYPER["adam"])
    diagnosis = diagnose_step("adam", inputs, HYPER["adam"], got, runner(mistake.optimizer_class()))
    assert diagnosis.message == (
        "Adam: your update matches Adam without bias correction. "
        "Fix: Divide M by (1 - beta1**t) and G by (1 - beta2**t) before the update."
    )
    data = diagnosis.to_dict()
    assert data["slug"] == "no_bias_correction" and data["first_wrong_step"] is None and data["also"] == []


@pytest.mark.parametrize(
    "rule, slug, first",
    [
        ("adagrad", "no_accumulation", 2),  # G = 0 before step 1: G = g² is right once
        ("momentum", "rho_ignored", 2),
        ("nesterov", "prev_aliases_state", 2),  # delta_x is still the int 0 on step 1
        ("adam", "t_shared_across_keys", 1),  # the second key already sees t = 2
        ("adam", "t_not_advanced", 2),
    ],
)
def test_the_first_wrong_step_is_reported(rule, slug, first):
    params, gradients = problem(torch.float32)
    got = run(find(rule, slug).optimizer_class(), rule, params, gradients)
    diagnosis = diagnose_sequence(
        rule, params, gradients, HYPER[rule], got, runner(find(rule, slug).optimizer_class()), init_lr=INIT_LR
    )
    assert diagnosis.first_wrong_step == first
    assert diagnosis.message.startswith(f"{optimizer_for(rule).__name__}, from step {first}: your parameters match ")


@pytest.mark.parametrize(
    "slug, other", [("state_not_stored", "no_accumulation"), ("no_accumulation", "state_not_stored")]
)
def test_trajectory_twins_are_told_apart_by_the_probes(slug, other):
    """G restarting at 0 every step is G = g² every step: the same parameters, but not the same per-key
    method. The failing case makes both candidates; the probes name the one the student wrote."""
    mistake = find("adagrad", slug)
    params, gradients = problem(torch.float32)
    got = run(mistake.optimizer_class(), "adagrad", params, gradients)
    twin = run(find("adagrad", other).optimizer_class(), "adagrad", params, gradients)
    assert all(identical(a[key], b[key]) for a, b in zip(got, twin) for key in a)
    diagnosis = diagnose_sequence(
        "adagrad", params, gradients, HYPER["adagrad"], got, runner(mistake.optimizer_class()), init_lr=INIT_LR
    )
    assert _recognised(diagnosis, mistake)


def test_a_step_twin_is_told_apart_by_the_probes():
    """One call with tensor state: Nesterov with delta_prev aliasing delta_x gives what plain momentum gives.
    The probes' step() sequence (delta_x starts as the int 0) tells which the student wrote."""
    inputs = step_inputs("nesterov", torch.float32)
    for slug in ("prev_aliases_state", "plain_momentum"):
        mistake = find("nesterov", slug)
        got = output(mistake.update, "nesterov", inputs, HYPER["nesterov"])
        diagnosis = diagnose_step("nesterov", inputs, HYPER["nesterov"], got, runner(mistake.optimizer_class()))
        assert _recognised(diagnosis, mistake)


def identical(a, b):
    return a.shape == b.shape and torch.allclose(a, b, rtol=0, atol=0, equal_nan=True)


def test_a_partial_sequence_is_diagnosed_on_the_steps_it_has():
    mistake = find("adam", "betas_swapped")
    params, gradients = problem(torch.float32)
    student = runner(mistake.optimizer_class())
    got = run(mistake.optimizer_class(), "adam", params, gradients)[:3]
    assert diagnose_sequence("adam", params, gradients, HYPER["adam"], got, student, init_lr=INIT_LR).mistake == mistake
    assert diagnose_sequence("adam", params, gradients, HYPER["adam"], [], student, init_lr=INIT_LR) is None


def test_bad_calls_name_what_is_wrong():
    inputs = step_inputs("adam", torch.float32)
    with pytest.raises(ValueError, match="adam hyperparameters are beta1, beta2, epsilon"):
        diagnose_step("adam", inputs, {"beta1": 0.9}, (), failing_runner)
    with pytest.raises(ValueError, match="adam inputs must be x, gradient_x, G, M, t, init_lr"):
        diagnose_step("adam", {"x": inputs["x"]}, HYPER["adam"], (), failing_runner)
    with pytest.raises(ValueError, match="unknown rule 'adamw'"):
        diagnose_step("adamw", inputs, HYPER["adam"], (), failing_runner)
    params, gradients = problem(torch.float32, steps=2)
    with pytest.raises(TypeError, match="needs init_lr"):
        diagnose_sequence("adam", params, gradients, HYPER["adam"], [], failing_runner)
    with pytest.raises(ValueError, match="init_lr given twice"):
        diagnose_sequence("adam", params, gradients, {**HYPER["adam"], "init_lr": 0.1}, [], failing_runner, init_lr=0.2)
    with pytest.raises(ValueError, match="3 steps but there are gradients for 2"):
        diagnose_sequence("adam", params, gradients, HYPER["adam"], [params] * 3, failing_runner, init_lr=0.1)


def test_the_step_tolerance_is_sixteen_ulps():
    """16u, u = 2⁻²⁴ in float32: twice the k = 1 bound of two correct implementations (8u)."""
    assert STEP_TOLERANCE_FACTOR * tolerance(1, torch.float32) == 16 * 2.0**-24


def test_a_diagnosis_is_frozen():
    diagnosis = Diagnosis(find("adam", "sign_error"), "message", 0.0)
    with pytest.raises(AttributeError):
        diagnosis.message = "changed"


# --- a property: whatever the hyperparameters, own output is recognised and correct output is not ---------

_hyper = {
    "adagrad": st.fixed_dictionaries({"epsilon": st.sampled_from([0.0, 1e-7, 1e-4, 1e-3, 1.0])}),
    "rmsprop": st.fixed_dictionaries(
        {"beta": st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.999]), "epsilon": st.sampled_from([0.0, 1e-7, 1e-4, 1.0])}
    ),
    "momentum": st.fixed_dictionaries({"rho": st.sampled_from([0.0, 0.5, 0.7, 0.9, 0.99])}),
    "nesterov": st.fixed_dictionaries({"rho": st.sampled_from([0.0, 0.5, 0.7, 0.9, 0.99])}),
    "adam": st.fixed_dictionaries(
        {
            "beta1": st.sampled_from([0.0, 0.5, 0.8, 0.9, 0.99]),
            "beta2": st.sampled_from([0.0, 0.5, 0.9, 0.95, 0.99, 0.999]),
            "epsilon": st.sampled_from([0.0, 1e-7, 1e-4, 1.0]),
        }
    ),
}


@pytest.mark.mutants
@pytest.mark.parametrize("rule", RULES)
def test_property_own_output_is_some_mistake_and_correct_is_none(rule):
    """For any hyperparameters (degenerate ones too: 0, 0.5, equal betas), shape (0-d too), dtype and t:
    correct -> None; a mistake that is wrong on the input -> that mistake, never another one."""

    @settings(max_examples=25)
    @given(
        hyper=_hyper[rule],
        seed=st.integers(0, 2**16),
        shape=st.sampled_from([(), (3,), (2, 3)]),
        dtype=st.sampled_from([torch.float32, torch.float64]),
        t=st.integers(1, 5),
    )
    def check(hyper, seed, shape, dtype, t):
        inputs = step_inputs(rule, dtype, seed=seed, shape=shape)
        if "t" in inputs:
            inputs["t"] = t
        correct = output(correct_update(rule), rule, inputs, hyper)
        assert diagnose_step(rule, inputs, hyper, correct, failing_runner) is None
        for mistake in BANK[rule]:
            if not mistake.per_key:
                continue
            got = output(mistake.update, rule, inputs, hyper)
            diagnosis = diagnose_step(rule, inputs, hyper, got, runner(mistake.optimizer_class()))
            if diagnosis is None:  # then this mistake does not show on this input
                assert all(close(a, b, 1e-5) for a, b in zip(got, correct))
            else:
                assert _recognised(diagnosis, mistake), (mistake.key, hyper, diagnosis.message)

    check()


# --- the probe set: few calls, non-degenerate, and it tells every two mistakes apart ---------------------

MARGIN = 100  # a match is a distance <= 1; every two fingerprints are at least this far apart


@pytest.mark.mutants
@pytest.mark.parametrize("rule", RULES)
def test_the_probe_set_tells_every_two_mistakes_apart(rule):
    """Every two of (the correct rule, each bank mistake) differ on the probes by far more than the match
    tolerance, both ways round: a student matching one cannot match another. Each mistake answers every
    probe (none raises), and not only with NaN or inf (which never count as agreement)."""
    entries = [None, *BANK[rule]]
    fingerprints = {entry: probe_fingerprint(rule, entry) for entry in entries}
    for entry, (outputs, trajectory) in fingerprints.items():
        assert all(output is not None for output in outputs) and trajectory is not None, entry
        for output in outputs:  # every answer has finite entries to compare (t - 1 makes x NaN at t = 1)
            assert any(value.isfinite().any().item() for value in output if isinstance(value, torch.Tensor)), entry
    for index, first in enumerate(entries):
        for second in entries[index + 1 :]:
            for a, b in ((first, second), (second, first)):
                distance = fingerprint_distance(rule, fingerprints[a], fingerprints[b], exact=True)
                assert distance > MARGIN, (rule, a and a.slug, b and b.slug, distance)


@pytest.mark.parametrize("rule", RULES)
def test_the_probes_are_few_and_not_degenerate(rule):
    """At most 6 calls, one round trip; hyperparameters away from 0, 0.5, 1 and the usual defaults; t > 1."""
    calls = probe_calls(rule)
    assert len(calls) <= 6 and {op for op, _ in calls} == {"per_key", "run_steps"}
    for name, value in PROBE_HYPER[rule].items():
        if name != "epsilon":
            assert value not in (0.0, 0.5, 1.0, 0.9, 0.99, 0.999) and 0.05 < value < 0.98
    assert 0 < PROBE_LR < 1
    if rule == "adam":
        assert max(arguments["arguments"][-1] for op, arguments in calls if op == "per_key") > 1
    steps = [arguments for op, arguments in calls if op == "run_steps"]
    assert len(steps) == 1 and len(steps[0]["params"]) >= 2 and len(steps[0]["gradients"]) >= 3


def test_a_candidate_of_the_failing_case_is_not_named_without_the_probes():
    """The student's output equals a mistake's on the failing case, but the student's code is correct on the
    probes: not that mistake. And when the probes cannot run, nothing is named."""
    mistake = find("adam", "no_bias_correction")
    inputs = step_inputs("adam", torch.float32)
    got = output(mistake.update, "adam", inputs, HYPER["adam"])
    diagnosis = diagnose_step("adam", inputs, HYPER["adam"], got, runner(Adam))
    assert diagnosis.mistake is None
    assert "your code agrees with the reference" in diagnosis.message
    diagnosis = diagnose_step("adam", inputs, HYPER["adam"], got, failing_runner)
    assert diagnosis.mistake is None and "could not run its probe inputs" in diagnosis.message


class _AdamCorrectionsSwapped(Adam):
    """Not in the bank: each moment corrected with the other beta (right averages, wrong corrections)."""

    def adam(self, x, gradient_x, G, M, t, init_lr):
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat, G_hat = M / (1 - self.beta2**t), G / (1 - self.beta1**t)
        return x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat, G, M, t + 1


class _AdamTorchStyle(Adam):
    """Not in the bank and more than two edits of the rule: torch.optim's form, epsilon outside the root."""

    def adam(self, x, gradient_x, G, M, t, init_lr):
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        step_size = init_lr * (1 - self.beta2**t) ** 0.5 / (1 - self.beta1**t)
        return x - step_size * M / (G.sqrt() + self.epsilon), G, M, t + 1


class _MomentumStateDoubled(Momentum):
    """Not in the bank: x moves right, but the stored delta_x is twice what it should be from step 2 on."""

    def momentum(self, x, gradient_x, delta_x, init_lr):
        new = self.rho * delta_x - init_lr * gradient_x
        return x + new, new + self.rho * delta_x


def test_an_unknown_mistake_says_what_diverges_first():
    """None of the known mistakes: the message names the returned value, the probe step and the sizes."""
    inputs = step_inputs("adam", torch.float32)
    got = call(_method(_AdamTorchStyle, "adam"), "adam", inputs)
    diagnosis = diagnose_step("adam", inputs, HYPER["adam"], got, runner(_AdamTorchStyle))
    assert diagnosis.mistake is None and diagnosis.to_dict()["slug"] is None
    assert diagnosis.to_dict()["explanation"] is None
    assert diagnosis.message.startswith("Adam: your update matches none of the known Adam mistakes; at step 1 of ")
    assert "(t = 1), the returned x is the first to differ: x[0, 0] should be " in diagnosis.message
    assert "relative error" in diagnosis.message
    inputs = step_inputs("momentum", torch.float32)
    got = call(_method(_MomentumStateDoubled, "momentum"), "momentum", inputs)
    diagnosis = diagnose_step("momentum", inputs, HYPER["momentum"], got, runner(_MomentumStateDoubled))
    assert diagnosis.mistake is None
    assert "at step 2 of" in diagnosis.message and "the returned delta_x is the first to differ" in diagnosis.message


def test_an_unknown_mistake_within_two_edits_is_shown_as_the_edit():
    """Bank first, search second: no name, but the rule's lines next to what the student's code computes."""
    inputs = step_inputs("adam", torch.float32)
    got = call(_method(_AdamCorrectionsSwapped, "adam"), "adam", inputs)
    diagnosis = diagnose_step("adam", inputs, HYPER["adam"], got, runner(_AdamCorrectionsSwapped))
    assert diagnosis.mistake is None and "none of the known Adam mistakes, but an edit of the rule" in diagnosis.message
    lines = diagnosis.to_dict()["explanation"]["readings"][0]["lines"]
    assert lines == [
        {"rule": "M_hat = M / (1 - self.beta1 ** t)", "student": "M_hat = M / (1 - self.beta2 ** t)"},
        {"rule": "G_hat = G / (1 - self.beta2 ** t)", "student": "G_hat = G / (1 - self.beta1 ** t)"},
    ]


def test_nan_on_the_probes_never_agrees():
    """A student whose answers are NaN wherever the mistake's are finite, or NaN everywhere, matches nothing."""

    class NaNAdagrad(Adagrad):
        def adagrad(self, x, gradient_x, G, init_lr):
            x, G = find("adagrad", "missing_sqrt").function()(self, x, gradient_x, G, init_lr)
            return torch.full_like(x, math.nan), torch.full_like(x, math.nan)

    inputs = step_inputs("adagrad", torch.float32)
    got = output(find("adagrad", "missing_sqrt").update, "adagrad", inputs, HYPER["adagrad"])
    diagnosis = diagnose_step("adagrad", inputs, HYPER["adagrad"], got, runner(NaNAdagrad))
    assert diagnosis.mistake is None
    nan = tuple(torch.full_like(value, math.nan) for value in got)
    assert diagnose_step("adagrad", inputs, HYPER["adagrad"], nan, runner(NaNAdagrad)).mistake is None


def test_an_unknown_step_mistake_says_which_key_leaves_first():
    """The per-key method is right; step() updates the first key only: the message says step() and the key."""

    params, gradients = problem(torch.float32)
    got = run(FirstKeyOnly, "adagrad", params, gradients)
    diagnosis = diagnose_sequence(
        "adagrad", params, gradients, HYPER["adagrad"], got, runner(FirstKeyOnly), init_lr=INIT_LR
    )
    assert diagnosis.mistake is None and diagnosis.first_wrong_step == 1
    assert "your adagrad() agrees with the reference on the probe inputs, but step()" in diagnosis.message
    assert "leaves the reference after step 1: model.params['b'][0, 0] should be " in diagnosis.message


def test_t_returned_as_a_float_or_a_tensor_is_still_compared_as_a_number():
    """The check accepts t + 1 as 2.0 or tensor(2); so does diagnosis (and 2.5 or True are no step count)."""

    class FloatT(Adam):
        def adam(self, x, gradient_x, G, M, t, init_lr):
            x, G, M, t = find("adam", "no_bias_correction").function()(self, x, gradient_x, G, M, t, init_lr)
            return x, G, M, float(t)

    mistake = find("adam", "no_bias_correction")
    inputs = step_inputs("adam", torch.float32)
    got = output(mistake.update, "adam", inputs, HYPER["adam"])
    for t in (float(got[3]), torch.tensor(got[3])):
        diagnosis = diagnose_step("adam", inputs, HYPER["adam"], (*got[:3], t), runner(FloatT))
        assert diagnosis.mistake == mistake
    for t in (got[3] + 0.5, True):
        assert diagnose_step("adam", inputs, HYPER["adam"], (*got[:3], t), runner(FloatT)).mistake is None


def test_a_probe_that_raises_is_no_match_and_is_reported():
    """The student's code is the bank's mistake on 2-d tensors but raises on a 0-d one: not named; the
    message says which probe raised what."""

    class NoScalars(Adam):
        def adam(self, x, gradient_x, G, M, t, init_lr):
            if x.dim() == 0:
                raise ValueError("expected a matrix")
            return find("adam", "no_bias_correction").function()(self, x, gradient_x, G, M, t, init_lr)

    mistake = find("adam", "no_bias_correction")
    inputs = step_inputs("adam", torch.float32)
    got = output(mistake.update, "adam", inputs, HYPER["adam"])
    diagnosis = diagnose_step("adam", inputs, HYPER["adam"], got, runner(NoScalars))
    assert diagnosis.mistake is None
    assert "at step 1 of" in diagnosis.message  # no bias correction already differs from the reference there
    assert runner(NoScalars)(probe_calls("adam"))[4]["error"]["kind"] == "ValueError"
