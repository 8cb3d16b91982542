"""Trusted side: the checks of the optimizer parts. Each raises CheckFailure with a student-facing message.

Every check sends plain inputs (drawn by hypothesis, through properties.run_property) to the sandboxed
submission and judges the plain outputs against the reference (and torch.optim), so nothing the
submission does can reach a verdict. A first fixed example runs before hypothesis, so a blank or
crashing part fails at once. The invariants check is in invariants.py, the trajectory's checks in trajectory.py.
"""

import torch

from grader.explain.diagnosis import diagnose_sequence, diagnose_step
from grader.i18n import N_, _
from reference.torch_check import ParameterSet

from . import closeness, compare, strategies
from .properties import CheckFailure, answer, expected, require, run_property
from .step_verdicts import sequence_failure, single_step_failure
from .torch_oracle import torch_steps


def _call_per_key(ctx, rule, case, **how):
    """The per-key method's answer (how: report_arguments; see operations.per_key)."""
    what = f"{rule.class_name}.{rule.method}"
    got = ctx.call(
        rule.part,
        what,
        "per_key",
        class_name=rule.class_name,
        method=rule.method,
        hyper=list(case["hyper"]),
        init_lr=case["init_lr"],
        arguments=[case["x"], case["gradient_x"], *case["state"]],
        device=case["device"],
        **how,
    )
    return answer(got, what, "result", *(("arguments",) if how.get("report_arguments") else ()))


def check_single_step(ctx, rule):
    """The per-key method, one call at a time, against the reference's update."""
    require(ctx, rule.class_name, rule.title)

    def body(case):
        got = _call_per_key(ctx, rule, case)
        wanted = expected(
            case,
            "reference",
            lambda: rule.reference_update(case["x"], case["gradient_x"], case["state"], case["init_lr"], case["hyper"]),
        )
        problem = _single_step_problem(rule, case, got["result"], wanted)
        if problem:
            result = got["result"]
            inputs = [
                ("x", case["x"]),
                ("gradient_x", case["gradient_x"]),
                *zip(rule.state, case["state"]),
                ("init_lr", case["init_lr"]),
                *zip(rule.hyper, case["hyper"]),
            ]
            raise CheckFailure(
                single_step_failure(
                    rule.title,
                    rule.method,
                    problem,
                    [(name, compare.received(value)) for name, value in inputs],
                    case["device"],
                    compare.received(tuple(wanted)),
                    compare.received(result),
                ),
                pending=lambda: _diagnose_step(ctx, rule, case, result),
            )

    run_property(
        ctx, rule.part, "single_step", strategies.single_steps(rule, ctx.devices), body, first=_first_example(rule)
    )


def _first_example(rule):
    hyper = {"epsilon": 1e-7, "beta": 0.9, "beta1": 0.9, "beta2": 0.99, "rho": 0.9}
    state = [1 if name == "t" else 0 for name in rule.state]
    return {
        "x": torch.tensor([3.0, 4.0]),
        "gradient_x": torch.tensor([1.2, 16.0]),
        "state": state,
        "init_lr": 0.1,
        "hyper": tuple(hyper[name] for name in rule.hyper),
        "dtype": "float32",
        "device": "cpu",
    }


def _single_step_problem(rule, case, got, expected, bands=None):
    """closeness.returned_problem; a call found off is judged again with what rounded hyperparameters
    allow (only then: the allowance costs reference runs)."""
    problem = closeness.returned_problem(
        rule.method,
        ("x", *rule.state),
        compare.received(got),
        compare.received(tuple(expected)),
        compare.as_array(case["x"]),
        bands=None if bands is None else [None if band is None else band.numpy() for band in bands],
    )
    if problem and bands is None:
        return _single_step_problem(rule, case, got, expected, _single_step_bands(rule, case))
    return problem


def _single_step_bands(rule, case):
    """compare.rounding_band of the reference's per-key update, for each returned value (None for t)."""
    method = getattr(rule.reference_class, rule.method)
    as64 = lambda value: value.to(torch.float64) if isinstance(value, torch.Tensor) else value  # noqa: E731
    arguments = [as64(case["x"]), as64(case["gradient_x"]), *(as64(value) for value in case["state"])]
    hyper = dict(zip(rule.hyper, case["hyper"]))

    def compute(reads, init_lr):
        return [value for value in method(reads, *arguments, init_lr) if isinstance(value, torch.Tensor)]

    uses = compare.uses_per_call(method, hyper, *arguments, case["init_lr"])
    tensors = iter(compare.rounding_band(compute, hyper, case["init_lr"], case["x"].dtype, uses))
    return [None if name == "t" else next(tensors) for name in ("x", *rule.state)]


#: What a sequence check compares with, besides torch.optim (also the key its expected values are kept under).
THE_REFERENCE = N_("the reference")
# Translators: a name, as written; in a Chinese sentence, with a space on each side (" torch.optim ").
TORCH_OPTIM = N_("torch.optim")

#: The probe calls of one diagnosis travel in one batch; it may take this long in all before it is given up.
PROBE_SECONDS = 10.0


def _probe_runner(ctx, rule):
    """run_probes for grader.explain.diagnosis: the probe calls in one round trip to the student's sandbox."""

    def run_probes(calls):
        if rule.part in ctx.fatal:  # the part already timed out or killed its worker: probes would too
            raise RuntimeError(str(ctx.fatal[rule.part].message).split("\n")[0])
        return ctx.sandbox.call_many(ctx.sandbox.prepare(calls), total_seconds=PROBE_SECONDS)

    return run_probes


def _diagnose_step(ctx, rule, case, got):
    if not isinstance(got, tuple):
        return None
    received = tuple(item.tensor if hasattr(item, "tensor") else item for item in got)
    inputs = {
        "x": case["x"],
        "gradient_x": case["gradient_x"],
        **dict(zip(rule.state, case["state"])),
        "init_lr": case["init_lr"],
    }
    return diagnose_step(rule.part, inputs, dict(zip(rule.hyper, case["hyper"])), received, _probe_runner(ctx, rule))


def _run_steps(ctx, rule, case, **how):
    """The student's parameters after each step() (how: gradients_in_place, report_gradients; see operations)."""
    return ctx.call(
        rule.part,
        f"{rule.class_name}.step()",
        "run_steps",
        class_name=rule.class_name,
        hyper=list(case["hyper"]),
        init_lr=case["init_lr"],
        params=case["params"],
        gradients=case["gradients"],
        device=case["device"],
        **how,
    )


def reference_steps(rule, case, reads=None):
    """The reference optimizer's parameters after each step, through the same gradients.

    reads: a compare.HyperparameterReads that serves the optimizer's hyperparameters (see rounding_band)."""
    model = ParameterSet(case["params"])
    optimizer = rule.reference_class(case["init_lr"], model, *case["hyper"])
    if reads is not None:
        for name in rule.hyper:
            del optimizer.__dict__[name]
        optimizer.__class__ = type(
            "Served", (rule.reference_class,), {"__getattr__": lambda _, name: getattr(reads, name)}
        )
    return stepped(model, optimizer, case["gradients"])


def stepped(model, optimizer, gradients):
    """The parameters of `model` after each optimizer.step(), the gradients new tensors at every step."""
    trajectory = []
    for step_gradients in gradients:
        model.grads = {key: value.clone() for key, value in step_gradients.items()}
        optimizer.step()
        trajectory.append({key: value.detach().clone() for key, value in model.params.items()})
    return trajectory


def _sequence_problem(steps, expected, bands=None, rule=None, case=None):
    """(step number, sentence) for the first step whose parameters are off, or None (closeness.steps_problem).

    With `rule` and `case`, a step found off is judged again with what rounded hyperparameters allow."""
    if not isinstance(steps, list) or len(steps) != len(expected):
        return 1, _("step() did not report its parameters")
    found = closeness.steps_problem(
        [compare.received(step.get("params") if isinstance(step, dict) else None) for step in steps],
        compare.received(list(expected)),
        bands=None if bands is None else [{key: band.numpy() for key, band in step.items()} for step in bands],
    )
    if found and bands is None and rule is not None:
        return _sequence_problem(steps, expected, _sequence_bands(rule, case))
    return found


def _sequence_bands(rule, case):
    """compare.rounding_band of the reference's parameters after each step: [{key: band}, ...]."""
    as64 = lambda tensors: {key: value.to(torch.float64) for key, value in tensors.items()}  # noqa: E731
    moved = dict(case, params=as64(case["params"]), gradients=[as64(step) for step in case["gradients"]])
    hyper, keys = dict(zip(rule.hyper, case["hyper"])), sorted(case["params"])

    def compute(reads, init_lr):
        steps = reference_steps(rule, dict(moved, init_lr=init_lr), reads)
        return [step[key] for step in steps for key in keys]

    first = next(iter(moved["params"]))
    state = [1 if name == "t" else 0 for name in rule.state]
    uses = compare.uses_per_call(
        getattr(rule.reference_class, rule.method),
        hyper,
        moved["params"][first],
        moved["gradients"][0][first],
        *state,
        case["init_lr"],
    )
    flat = compare.rounding_band(compute, hyper, case["init_lr"], case["params"][first].dtype, uses)
    return [
        dict(zip(keys, flat[index * len(keys) : (index + 1) * len(keys)])) for index in range(len(case["gradients"]))
    ]


def _sequence_check(ctx, rule, test, oracle, oracle_name, zero_epsilon):
    require(ctx, rule.class_name, rule.title)

    def body(case):
        steps = _run_steps(ctx, rule, case)
        found = _sequence_problem(steps, expected(case, oracle_name, lambda: oracle(rule, case)), rule=rule, case=case)
        if found:
            shown = dict(
                case,
                params=compare.received(case["params"]),
                gradients=compare.received(case["gradients"]),
                hyper=list(zip(rule.hyper, case["hyper"])),
            )
            oracle_text = _(THE_REFERENCE) if oracle_name == THE_REFERENCE else _(TORCH_OPTIM)
            raise CheckFailure(
                sequence_failure(rule.title, shown, oracle_text, found),
                pending=lambda: _diagnose_sequence(ctx, rule, case, steps),
            )

    run_property(ctx, rule.part, test, strategies.sequences(rule, ctx.devices, zero_epsilon=zero_epsilon), body)


def _diagnose_sequence(ctx, rule, case, steps):
    try:
        got = [{key: value.tensor for key, value in step["params"].items()} for step in steps]
    except (AttributeError, KeyError, TypeError):
        return None
    return diagnose_sequence(
        rule.part,
        case["params"],
        case["gradients"],
        dict(zip(rule.hyper, case["hyper"])),
        got,
        _probe_runner(ctx, rule),
        init_lr=case["init_lr"],
    )


def check_sequence(ctx, rule):
    """step() over k steps on several keys, against the reference optimizer."""
    _sequence_check(ctx, rule, "sequence", reference_steps, THE_REFERENCE, zero_epsilon=False)


def check_torch_optim(ctx, rule):
    """step() over k steps on several keys, against torch.optim (eps = 0 where torch puts it elsewhere)."""
    zero_epsilon = rule.part in ("rmsprop", "adam")
    _sequence_check(ctx, rule, "torch_optim", torch_steps, TORCH_OPTIM, zero_epsilon=zero_epsilon)
