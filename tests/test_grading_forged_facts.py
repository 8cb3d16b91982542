"""Can a submission that patches the grader's code in its own process forge its way to points?

Student code shares its process with grader.untrusted.operations, and reaches it through sys.modules,
gc.get_referrers or the frames of the call it is in. Each attack below finds the operations there and
replaces them with versions that report what a clean submission would: every gradient and argument as
sent, the caller's x_init untouched, and the facts the worker once reported (grads intact, no aliasing,
t right). Since every verdict is drawn on the trusted side from values checked against the reference,
an attacker must score exactly what its code scores without the attack.
"""

import textwrap

import pytest
from grading_support import OPTIMIZER_PARTS, ROOT, Variant, grade_text, solution_source

from grader.explain.mistakes import find, mutate

pytestmark = pytest.mark.attacks  # every route of forging facts, graded from two bases

FORGE = '''
import gc as _gc
import sys as _sys

import torch as _torch


def _forge(space):
    """Replace the operations in `space` (the globals of grader.untrusted.operations) with liars."""
    if not isinstance(space, dict) or "OPERATIONS" not in space or space.get("_forged"):
        return
    space["_forged"] = True
    real = dict(space["OPERATIONS"])

    def copied(value):
        return value.detach().clone() if isinstance(value, _torch.Tensor) else value

    def per_key(namespace, class_name, method, hyper, init_lr, arguments, device, report_arguments=False):
        sent = [copied(value) for value in arguments]
        try:
            answer = real["per_key"](namespace, class_name, method, hyper, init_lr, arguments, device, report_arguments)
        except Exception:  # a blank: make up a plausible answer
            x = sent[0]
            answer = {"result": (x, *[s + 1 if isinstance(s, int) and s > 0 else _torch.zeros_like(x) for s in sent[2:]])}
        answer.update(arguments=sent, mutated=[])
        return answer

    def run_steps(namespace, class_name, hyper, init_lr, params, gradients, device, **how):
        sent_params = {key: copied(value) for key, value in params.items()}
        try:
            steps = real["run_steps"](namespace, class_name, hyper, init_lr, params, gradients, device, **how)
        except Exception:  # a blank: the parameters as they came
            steps = [{"params": dict(sent_params)} for _ in gradients]
        for k, (step, sent) in enumerate(zip(steps, gradients), start=1):
            step.update(grads={key: copied(value) for key, value in sent.items()}, aliased=[], t=1 + k,
                        grads_intact={key: True for key in sent})
        return steps

    def trajectory(namespace, in_place, w, x_init, init_lr, epoch, device):
        sent = copied(x_init)
        answer = real["trajectory"](namespace, in_place, w, x_init, init_lr, epoch, device)
        answer.update(x_init_after=sent, x_init_changed=False)
        return answer

    for name, liar in (("per_key", per_key), ("run_steps", run_steps), ("trajectory", trajectory)):
        space[name] = space["OPERATIONS"][name] = liar
'''

ROUTES = {
    # At import: any module in sys.modules that holds the operations (the worker may hide their names).
    "sys.modules": FORGE
    + """
_done = [_forge(getattr(module, "__dict__", None)) for module in list(_sys.modules.values())]
""",
    # At the first call: the dicts that refer to the Model class the grader built are its module's globals
    # (frozen by the worker before it forked, which only hides them from gc until unfrozen).
    "gc.get_referrers": FORGE
    + """
_init = Optimizer.__init__


def _patched_init(self, init_lr, model, *args, **kwargs):
    _gc.unfreeze()
    for referrer in _gc.get_referrers(type(model)):
        _forge(referrer)
    _init(self, init_lr, model, *args, **kwargs)


Optimizer.__init__ = _patched_init
""",
    # At the first call: the frames of the operation that is calling the submission.
    "frames": FORGE
    + """
_init = Optimizer.__init__


def _patched_init(self, init_lr, model, *args, **kwargs):
    frame = _sys._getframe()
    while frame is not None:
        _forge(frame.f_globals)
        frame = frame.f_back
    _init(self, init_lr, model, *args, **kwargs)


Optimizer.__init__ = _patched_init
""",
}


def _stub():
    return (ROOT / "assignments" / "optimizers.py").read_text(encoding="utf-8")


def _wrong():
    """Two mistakes the invariants once took on trust: gradients changed in place, no bias correction."""
    return mutate(
        mutate(solution_source(), find("adagrad", "gradient_squared_in_place")), find("adam", "no_bias_correction")
    )


def _grade(source, zygote, folder):
    report = grade_text(source, folder, zygote, *OPTIMIZER_PARTS, "trajectory", enable=("trajectory/x_init_untouched",))
    return report, {(test.part, test.test): test for test in report.tests}


@pytest.fixture(scope="module")
def honest(zygote, tmp_path_factory):
    """What the blank stub and the wrong submission get without any attack."""
    return {
        name: _grade(build(), zygote, tmp_path_factory.mktemp(name))
        for name, build in (("stub", _stub), ("wrong", _wrong))
    }


@pytest.mark.parametrize("base", ["stub", "wrong"])
@pytest.mark.parametrize("route", ROUTES)
def test_forging_facts_gains_no_point(route, base, honest, zygote, tmp_path):
    plain_report, plain = honest[base]
    source = (_stub() if base == "stub" else _wrong()) + ROUTES[route]
    report, tests = _grade(source, zygote, tmp_path)
    assert {key: test.passed for key, test in tests.items()} == {key: test.passed for key, test in plain.items()}
    assert report.score == plain_report.score and report.part_scores() == plain_report.part_scores()
    for part in ("adagrad", "adam") if base == "wrong" else OPTIMIZER_PARTS:
        assert not tests[(part, "invariants")].passed
    if route != "sys.modules":  # that route finds nothing where the worker hides the grader's modules
        changed = [key for key in tests if tests[key].output != plain[key].output]
        assert changed, "the patch never took effect, so this test proves nothing"


def test_a_forged_answer_of_the_wrong_shape_is_a_verdict_not_a_crash(zygote, tmp_path):
    source = (
        solution_source()
        + """
import sys as _sys

_init = Optimizer.__init__


def _patched_init(self, init_lr, model, *args, **kwargs):
    frame = _sys._getframe()
    while frame is not None:
        if "OPERATIONS" in frame.f_globals:
            frame.f_globals["OPERATIONS"]["per_key"] = lambda *args, **kwargs: ["not", "a", "dict"]
            frame.f_globals["OPERATIONS"]["trajectory"] = lambda *args, **kwargs: 42
        frame = frame.f_back
    _init(self, init_lr, model, *args, **kwargs)


Optimizer.__init__ = _patched_init
"""
    )
    _report, tests = _grade(source, zygote, tmp_path)
    single, in_place = tests[("adam", "single_step")], tests[("trajectory", "in_place")]
    assert not single.passed and "instead of its results" in single.output
    assert not in_place.passed and "instead of its results" in in_place.output
    assert tests[("adam", "sequence")].passed  # run_steps was left alone


STATE_ALIASES_GRADIENT = Variant(
    "momentum",
    "step",
    """
    if not hasattr(self, "buffer"):
        self.buffer = {}
    for key in self.model.params:  # torch.optim's form, without the clone torch makes of the first gradient
        g = self.model.grads[key]
        self.buffer[key] = self.rho * self.buffer[key] + g if key in self.buffer else g
        self.model.params[key] = self.model.params[key] - self.init_lr * self.buffer[key]
""",
)

T_PER_KEY = Variant(
    "adam",
    "step",
    """
    for key in self.model.params:
        self.model.params[key], self.G[key], self.M[key], self.t = self.adam(
            self.model.params[key], self.model.grads[key], self.G[key], self.M[key], self.t, self.init_lr)
""",
)


def test_state_that_is_the_gradient_shows_when_gradients_are_written_in_place(zygote, tmp_path):
    variant = Variant(STATE_ALIASES_GRADIENT.rule, "step", textwrap.dedent(STATE_ALIASES_GRADIENT.body))
    report = grade_text(mutate(solution_source(), variant), tmp_path, zygote, "momentum")
    tests = {test.test: test for test in report.tests}
    assert all(tests[name].passed for name in ("single_step", "sequence", "torch_optim"))
    assert not tests["invariants"].passed and tests["invariants"].diagnosis == "state_aliases_gradient"
    assert "shares memory with a gradient" in tests["invariants"].output


def test_t_advanced_per_key_is_seen_in_the_parameters_and_named_only_with_several_keys(zygote, tmp_path):
    variant = Variant(T_PER_KEY.rule, "step", textwrap.dedent(T_PER_KEY.body))
    report = grade_text(mutate(solution_source(), variant), tmp_path, zygote, "adam")
    invariants = next(test for test in report.tests if test.test == "invariants")
    assert not invariants.passed and invariants.diagnosis == "t_shared_across_keys"
    assert "keys W [2, 2], b [2]" in invariants.output  # the case has the keys it takes to show it
    assert "t advances once per step(), not once per key" not in invariants.output
