"""Mistakes that are not in the bank, written as students write them: never given a wrong name.

Each one is either the same function as a bank mistake written another way (then it must be named as
that one), or a mistake the bank does not hold (then the verdict must say it is none of the known
mistakes). Checked twice: in this process against hypothesis-drawn failing cases, degenerate ones
included (beta = 0, rho = 0, equal betas, the first step), and end to end through the grader, where the
counterexample is hypothesis' shrunk one and the probes run in the sandbox.
"""

import pytest
import torch
from diagnosis_support import runner
from grading_support import grade_text, solution_source, validate
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.explain.diagnosis import diagnose_sequence, diagnose_step
from grader.explain.mistakes import BANK, Mistake, mutate, state_names
from reference.torch_check import ParameterSet


def _unseen(rule, slug, expected, body, method=None):
    """`expected`: the bank slug it must be named as, or None (none of the known mistakes)."""
    mistake = Mistake(rule=rule, slug=slug, title="(unseen)", hint="(unseen).", method=method or rule, body=body)
    return mistake, expected


UNSEEN = [
    # --- the same function as a bank mistake, written another way: named as that mistake
    _unseen(
        "adam",
        "no_bias_correction_reordered",
        "no_bias_correction",
        """
        M = (1 - self.beta1) * gradient_x + self.beta1 * M
        G = (1 - self.beta2) * gradient_x ** 2 + self.beta2 * G
        return x - init_lr * M / (G + self.epsilon).sqrt(), G, M, t + 1
        """,
    ),
    _unseen(
        "rmsprop",
        "old_g_new_name",
        "old_state",
        """
        new_G = self.beta * G + (1 - self.beta) * gradient_x ** 2
        x = x - init_lr * gradient_x / (G + self.epsilon) ** 0.5
        return x, new_G
        """,
    ),
    _unseen(
        "momentum",
        "sign_error_reordered",
        "sign_error",
        """
        velocity = init_lr * gradient_x + self.rho * delta_x
        return velocity + x, velocity
        """,
    ),
    _unseen(
        "nesterov",
        "prev_overwritten",
        "plain_momentum",
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - self.rho * delta_x + (1 + self.rho) * delta_x  # meant the old delta_x in the first term
        return x, delta_x
        """,
    ),
    _unseen(
        "adagrad",
        "abs_method",
        "accumulates_abs",
        """
        G = gradient_x.abs() + G
        return x - init_lr * gradient_x / torch.sqrt(G + self.epsilon), G
        """,
    ),
    _unseen(
        "rmsprop",
        "no_root_division_first",
        "missing_sqrt",
        """
        G = self.beta * G + (1 - self.beta) * gradient_x * gradient_x
        return x - init_lr * (gradient_x / (G + self.epsilon)), G
        """,
    ),
    _unseen(
        "adam",
        "half_swap_g_typed_twice",
        "g_average_with_beta1",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta1 * G + (1 - self.beta1) * torch.square(gradient_x)  # copied the line above
        m_hat = M / (1 - self.beta1 ** t)
        v_hat = G / (1 - self.beta2 ** t)
        return x - init_lr * m_hat / torch.sqrt(v_hat + self.epsilon), G, M, t + 1
        """,
    ),
    _unseen(
        "adam",
        "bias_correction_t_plus_1",
        "t_advanced_early",
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta1 ** (t + 1))
        G_hat = G / (1 - self.beta2 ** (t + 1))
        x = x - init_lr * M_hat / torch.sqrt(G_hat + self.epsilon)
        return x, G, M, t + 1
        """,
    ),
    # --- not in the bank: none of the known mistakes
    _unseen(
        "adam",
        "corrections_swapped",
        None,
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        M_hat = M / (1 - self.beta2 ** t)
        G_hat = G / (1 - self.beta1 ** t)
        return x - init_lr / torch.sqrt(G_hat + self.epsilon) * M_hat, G, M, t + 1
        """,
    ),
    _unseen(
        "adam",
        "torch_style_eps",
        None,
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        step_size = init_lr * (1 - self.beta2 ** t) ** 0.5 / (1 - self.beta1 ** t)
        return x - step_size * M / (G.sqrt() + self.epsilon), G, M, t + 1
        """,
    ),
    _unseen(
        "adam",
        "one_beta_for_both_corrections",
        None,
        """
        M = self.beta1 * M + (1 - self.beta1) * gradient_x
        G = self.beta2 * G + (1 - self.beta2) * gradient_x * gradient_x
        correction = 1 - self.beta1 ** t
        return x - init_lr / torch.sqrt(G / correction + self.epsilon) * (M / correction), G, M, t + 1
        """,
    ),
    _unseen(
        "momentum",
        "rho_on_the_step",
        None,
        """
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x + self.rho * delta_x
        return x, delta_x
        """,
    ),
    _unseen(
        "adagrad",
        "eps_accumulated",
        None,
        """
        G = G + gradient_x * gradient_x + self.epsilon
        x = x - init_lr / torch.sqrt(G) * gradient_x
        return x, G
        """,
    ),
    _unseen(
        "rmsprop",
        "eps_added_to_x",
        None,
        """
        G = self.beta * G + (1 - self.beta) * gradient_x ** 2
        x = x - init_lr * gradient_x / torch.sqrt(G) + self.epsilon
        return x, G
        """,
    ),
    _unseen(
        "nesterov",
        "lookahead_twice",
        None,
        """
        delta_prev = delta_x
        delta_x = self.rho * delta_x - init_lr * gradient_x
        x = x - self.rho * delta_prev + (1 + self.rho) * delta_x + self.rho * delta_x
        return x, delta_x
        """,
    ),
    _unseen(
        "adagrad",
        "returns_inside_the_loop",
        None,
        """
        for key in self.model.params:
            self.model.params[key], self.G[key] = self.adagrad(
                self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
            )
            return  # only the first key is ever updated
        """,
        method="step",
    ),
    _unseen(
        "adam",
        "t_advanced_before_the_loop",
        None,
        """
        self.t = self.t + 1  # the per-key method is right; step() hands it t + 1
        for key in self.model.params:
            self.model.params[key], self.G[key], self.M[key], _ = self.adam(
                self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr
            )
        """,
        method="step",
    ),
]
IDS = [f"{mistake.rule}/{mistake.slug}" for mistake, _ in UNSEEN]


def test_the_unseen_mistakes_are_not_bank_entries():
    """Not copies of a bank body; more than ten of them; some equivalent to a bank mistake, most not."""
    bodies = {known.body.strip() for mistakes in BANK.values() for known in mistakes}
    assert all(mistake.body.strip() not in bodies for mistake, _ in UNSEEN)
    assert len(UNSEEN) >= 10 and sum(expected is None for _, expected in UNSEEN) >= 8
    for mistake, expected in UNSEEN:
        assert expected is None or expected in {known.slug for known in BANK[mistake.rule]}


def _verdict_ok(diagnosis, expected):
    """None (right on this input), none of the known mistakes, or the expected name: never another name.

    Even a mistake equivalent to a bank entry may go unnamed on some inputs: at epsilon = 0 and G = 0 the
    bank's `init_lr / (G + epsilon) ** 0.5` raises ZeroDivisionError where `init_lr * g / ...` gives inf,
    so the two are not the same function there. The end-to-end test below requires the name.
    """
    return diagnosis is None or diagnosis.mistake is None or diagnosis.mistake.slug == expected


_hyper = {
    "adagrad": st.fixed_dictionaries({"epsilon": st.sampled_from([0.0, 1e-7, 1e-4, 1.0])}),
    "rmsprop": st.fixed_dictionaries(
        {"beta": st.sampled_from([0.0, 0.5, 0.9, 0.99]), "epsilon": st.sampled_from([0.0, 1e-7, 1e-4])}
    ),
    "momentum": st.fixed_dictionaries({"rho": st.sampled_from([0.0, 0.5, 0.9])}),
    "nesterov": st.fixed_dictionaries({"rho": st.sampled_from([0.0, 0.5, 0.9])}),
    "adam": st.fixed_dictionaries(
        {
            "beta1": st.sampled_from([0.0, 0.5, 0.9]),
            "beta2": st.sampled_from([0.0, 0.9, 0.999]),
            "epsilon": st.sampled_from([0.0, 1e-7, 1e-4]),
        }
    ),
}


def _inputs(rule, seed, shape, first_step, t):
    generator = torch.Generator().manual_seed(seed)

    def signed(scale):
        magnitude = 10.0 ** (-3.0 * torch.rand(shape, generator=generator, dtype=torch.float64))
        return (scale * magnitude * torch.where(torch.rand(shape, generator=generator) < 0.5, -1.0, 1.0)).float()

    state = {"G": signed(1.0) ** 2, "M": signed(0.5), "delta_x": signed(0.1), "t": t}
    inputs = {"x": signed(2.0), "gradient_x": signed(1.0), "init_lr": 0.1}
    for name in state_names(rule):
        inputs[name] = (1 if name == "t" else 0) if first_step else state[name]
    return inputs


@pytest.mark.mutants
@pytest.mark.parametrize("mistake, expected", UNSEEN, ids=IDS)
def test_an_unseen_mistake_is_named_right_or_not_named(mistake, expected):
    """Over failing cases of every kind, the verdict is the expected name or none of the known mistakes."""
    rule, student = mistake.rule, mistake.optimizer_class()
    probes = runner(student)

    @settings(max_examples=15)
    @given(
        hyper=_hyper[rule],
        seed=st.integers(0, 2**16),
        shape=st.sampled_from([(), (3,), (2, 3)]),
        first_step=st.booleans(),
        t=st.integers(1, 6),
    )
    def check(hyper, seed, shape, first_step, t):
        if mistake.per_key:
            inputs = _inputs(rule, seed, shape, first_step, t)
            names = ("x", "gradient_x", *state_names(rule))
            method = getattr(student, rule)
            got = method(
                student(0.1, ParameterSet({"x": inputs["x"]}), **hyper),
                *[inputs[name].clone() if isinstance(inputs[name], torch.Tensor) else inputs[name] for name in names],
                inputs["init_lr"],
            )
            diagnosis = diagnose_step(rule, inputs, hyper, got, probes)
            assert _verdict_ok(diagnosis, expected), diagnosis.message
        generator = torch.Generator().manual_seed(seed)
        params = {key: torch.randn(2, 3, generator=generator) for key in ("W", "b")}
        gradients = [{key: torch.randn(2, 3, generator=generator) * 0.1 for key in params} for _ in range(3)]
        model = ParameterSet(params)
        optimizer = student(0.1, model, **hyper)
        got = []
        for step in gradients:
            model.grads = {key: value.clone() for key, value in step.items()}
            optimizer.step()
            got.append({key: value.clone() for key, value in model.params.items()})
        diagnosis = diagnose_sequence(rule, params, gradients, hyper, got, probes, init_lr=0.1)
        assert _verdict_ok(diagnosis, expected), diagnosis.message

    check()


@pytest.mark.mutants
@pytest.mark.parametrize("mistake, expected", UNSEEN, ids=IDS)
def test_an_unseen_mistake_costs_its_part_and_is_never_misnamed(mistake, expected, zygote, tmp_path):
    """End to end: its part loses points, another part none; every name given is the expected one, and a
    mistake equivalent to a bank entry is named; one outside the bank is reported as none of the known."""
    source = mutate(solution_source(), mistake)
    other = "trajectory" if mistake.rule != "adam" else "adagrad"
    report = grade_text(source, tmp_path, zygote, mistake.rule, other)
    scores = report.part_scores()
    assert scores[mistake.rule][0] < scores[mistake.rule][1], f"{mistake.slug} got full marks"
    assert scores[other][0] == scores[other][1]
    failed = [
        test for test in report.tests if test.part == mistake.rule and not test.passed and test.test != "invariants"
    ]
    named = {slug for test in failed for slug in (test.diagnosis, *test.alternatives) if slug}
    if expected is None:
        assert not named, named
        assert any("none of the known" in test.output for test in failed), [test.output for test in failed]
    else:
        assert named == {expected}, (named, [test.output for test in failed])
    validate(report)
