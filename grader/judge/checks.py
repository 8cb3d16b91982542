"""Trusted side: the checks of the optimizer parts. Each raises CheckFailure with a student-facing message.

Every check sends plain inputs (drawn by hypothesis, through properties.run_property) to the sandboxed
submission and judges the plain outputs against the reference (and torch.optim), so nothing the
submission does can reach a verdict. A first fixed example runs before hypothesis, so a blank or
crashing part fails at once. The trajectory's checks are in trajectory.py.
"""

import torch

from grader.explain.diagnosis import diagnose_sequence, diagnose_step
from grader.i18n import N_, _, ngettext
from reference.torch_check import ParameterSet

from . import compare, labels, strategies
from .compare import describe
from .properties import CheckFailure, answer, expected, require, run_property
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


def _inputs_text(rule, case):
    named = [
        ("x", case["x"]),
        ("gradient_x", case["gradient_x"]),
        *zip(rule.state, case["state"]),
        ("init_lr", case["init_lr"]),
        *zip(rule.hyper, case["hyper"]),
    ]
    lines = [f"  {name} = {describe(value)}" for name, value in named]
    return "\n".join([*lines, "  " + _(labels.ON_DEVICE).format(device=case["device"])])


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
            raise CheckFailure(
                _("{title}, one call of {method}(): {problem}").format(
                    title=rule.title, method=rule.method, problem=problem
                )
                + f"\n{_(labels.INPUTS)}\n{_inputs_text(rule, case)}\n"
                + labels.expected_and_got(describe(tuple(wanted)), describe(result)),
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
    names = ("x", *rule.state)
    if not isinstance(got, tuple) or len(got) != len(names):
        return _("{method}() should return a tuple ({names}), got {value}").format(
            method=rule.method, names=", ".join(names), value=describe(got)
        )
    scale = max(case["x"].abs().max().item(), expected[0].abs().max().item())
    for index, name in enumerate(names):
        if name == "t":
            problem = compare.problem_with_int(got[index], expected[index], _("the returned {name}").format(name="t"))
        else:
            problem = compare.problem_with_tensor(
                got[index],
                expected[index],
                _("the returned {name}").format(name=name),
                scale=scale if name == "x" else None,
                exact_dtype=name == "x",
                band=None if bands is None else bands[index],
            )
        if problem:
            if bands is None:  # judged again with what rounded hyperparameters allow (only now: it costs)
                return _single_step_problem(rule, case, got, expected, _single_step_bands(rule, case))
            return problem
    return None


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
    """(step number, sentence) for the first step whose parameters are off, or None.

    With `rule` and `case`, a step found off is judged again with what rounded hyperparameters allow."""
    if not isinstance(steps, list) or len(steps) != len(expected):
        return 1, _("step() did not report its parameters")
    scale = 0.0
    for k, (observed, wanted) in enumerate(zip(steps, expected), start=1):
        scale = max([scale] + [value.abs().max().item() for value in wanted.values() if value.numel()])
        params = observed.get("params") if isinstance(observed, dict) else None
        if not isinstance(params, dict) or set(params) != set(wanted):
            return k, _("after step {k}, model.params should have the keys {keys}, got {value}").format(
                k=k, keys=sorted(wanted), value=describe(params)
            )
        for key in sorted(wanted):
            problem = compare.problem_with_tensor(
                params[key],
                wanted[key],
                f"model.params[{key!r}]",
                k=k,
                scale=scale,
                band=None if bands is None else bands[k - 1][key],
            )
            if problem:
                if bands is None and rule is not None:
                    return _sequence_problem(steps, expected, _sequence_bands(rule, case))
                return k, _("after step {k}: {problem}").format(k=k, problem=problem)
    return None


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
            k, problem = found
            hyper = ", ".join(f"{name}={value!r}" for name, value in zip(rule.hyper, case["hyper"]))
            keys = ", ".join(f"{key} {list(value.shape)}" for key, value in case["params"].items())
            raise CheckFailure(
                _(
                    "{title}, {calls} of step() on a model with keys {keys} ({dtype}, {device}, init_lr={init_lr}, "
                    "{hyper}), against {oracle}: {problem}"
                ).format(
                    title=rule.title,
                    calls=_calls(len(case["gradients"])),
                    keys=keys,
                    dtype=case["dtype"],
                    device=case["device"],
                    init_lr=repr(case["init_lr"]),
                    hyper=hyper,
                    oracle=_(THE_REFERENCE) if oracle_name == THE_REFERENCE else _(TORCH_OPTIM),
                    problem=problem,
                )
                + "\n"
                + labels.labelled(_(labels.START), describe(case["params"]))
                + "\n"
                + labels.labelled(_(labels.GRADIENTS_OF_STEP).format(k=k), describe(case["gradients"][k - 1])),
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


def check_invariants(ctx, rule):
    """step() leaves model.grads alone, keeps no state tied to them, keeps dtype and device, advances t once
    per step(): each judged here from values, with the parameters required to match the reference.

    Only values cross from the submission, never a conclusion drawn there (its code can patch the code
    that would draw it). Gradients are written into the same tensors every step, as autograd does, so
    state that shares memory with a gradient shows as wrong parameters; gradients changed in place show
    as values that differ from those sent; t's advance shows in the parameters of several keys.
    """
    require(ctx, rule.class_name, rule.title)

    def body(case):
        single = _as_single_step(rule, case)
        got = _call_per_key(ctx, rule, single, report_arguments=True)
        after = got["arguments"]
        if not isinstance(after, list) or len(after) < 2 or not _unchanged(after[1], single["gradient_x"]):
            raise CheckFailure(
                _("{qualname}() changes gradient_x in place; it must only read it ({hint})").format(
                    qualname=f"{rule.class_name}.{rule.method}",
                    hint=_(_READ_ONLY_HINT.get(rule.part, _READ_ONLY_HINT["adagrad"])),
                ),
                diagnosis="gradient_mutated",
            )
        wanted = expected(
            case,
            "the reference's single step",
            lambda: rule.reference_update(
                single["x"], single["gradient_x"], single["state"], single["init_lr"], single["hyper"]
            ),
        )
        problem = _single_step_problem(rule, single, got["result"], wanted)
        if problem:
            raise CheckFailure(
                _(
                    "{title}, one call of {method}(): {problem}. This test requires right values too (see the "
                    "single_step test)."
                ).format(title=rule.title, method=rule.method, problem=problem)
            )
        steps = _run_steps(ctx, rule, case, gradients_in_place=True, report_gradients=True)
        for k, observed in enumerate(steps if isinstance(steps, list) else [], start=1):
            _require_grads_and_kind(rule, case, k, observed)
        found = _sequence_problem(
            steps, expected(case, "the reference", lambda: reference_steps(rule, case)), rule=rule, case=case
        )
        if found:
            raise _invariants_failure(ctx, rule, case, steps, found)

    run_property(
        ctx,
        rule.part,
        "invariants",
        strategies.sequences(rule, ctx.devices, max_steps=3),
        body,
        first=_invariants_example(rule),
    )


# How to leave gradient_x alone, in each rule's own terms (it is model.grads[key]).
_READ_ONLY_HINT = {
    "adagrad": N_("use G = G + gradient_x * gradient_x, not gradient_x *= ... or gradient_x **= 2"),
    "rmsprop": N_("use G = beta * G + (1 - beta) * gradient_x * gradient_x, not gradient_x *= ... or gradient_x **= 2"),
    "adam": N_("use new names (M = ..., G = ...) built from gradient_x, never gradient_x *= ... or gradient_x **= 2"),
    "momentum": N_(
        "compute delta_x = rho * delta_x - init_lr * gradient_x out of place, never gradient_x *= init_lr "
        "or gradient_x -= ..."
    ),
    "nesterov": N_(
        "compute delta_x = rho * delta_x - init_lr * gradient_x out of place, never gradient_x *= init_lr "
        "or gradient_x -= ..."
    ),
}


def _require_grads_and_kind(rule, case, k, observed):
    """Step k left every gradient as sent, and every parameter in its dtype and on its device."""
    observed = observed if isinstance(observed, dict) else {}
    grads, params = observed.get("grads"), observed.get("params")
    sent = case["gradients"][k - 1] if k <= len(case["gradients"]) else {}
    broken = sorted(key for key in sent if not isinstance(grads, dict) or not _unchanged(grads.get(key), sent[key]))
    if broken:
        raise CheckFailure(
            _("{qualname} changed {grad} at step {k}: the optimizer must not modify gradients").format(
                qualname=f"{rule.class_name}.step()", grad=f"model.grads[{broken[0]!r}]", k=k
            ),
            diagnosis="gradient_mutated",
        )
    for key, value in params.items() if isinstance(params, dict) else ():
        if isinstance(value, compare.WireTensor) and key in case["params"]:
            if value.tensor.dtype != case["params"][key].dtype:
                raise CheckFailure(
                    _("step() turned {param} from {dtype} into {got}; keep the parameter's dtype").format(
                        param=f"model.params[{key!r}]",
                        dtype=case["dtype"],
                        got=str(value.tensor.dtype).replace("torch.", ""),
                    )
                )
            if value.device.split(":")[0] != case["device"]:
                raise CheckFailure(
                    _("step() moved {param} from {device} to {got}").format(
                        param=f"model.params[{key!r}]", device=case["device"], got=value.device
                    )
                )


def _unchanged(got, sent):
    """Whether `got` (as received) holds exactly the values of the tensor `sent`, in its dtype and shape."""
    return (
        isinstance(got, compare.WireTensor)
        and got.tensor.dtype == sent.dtype
        and tuple(got.tensor.shape) == tuple(sent.shape)
        and bool(torch.equal(got.tensor, sent.cpu()))
    )


def _invariants_failure(ctx, rule, case, steps, found):
    """The failure for parameters off the reference when gradients are rewritten in place, with the cause
    only where this case shows it: right when each gradient is a new tensor (state shares memory with a
    gradient), or a known mistake that the parameters match (e.g. t advanced once per key)."""
    k, problem = found
    keys = ", ".join(f"{key} {list(value.shape)}" for key, value in case["params"].items())
    where = _("{calls} of step() on a model with keys {keys} ({dtype}, {device})").format(
        calls=_calls(len(case["gradients"])), keys=keys, dtype=case["dtype"], device=case["device"]
    )
    reference = expected(case, "the reference", lambda: reference_steps(rule, case))
    # From step 2 on, parameters off only when gradients are written in place: state that the write changed.
    if k > 1 and _sequence_problem(_run_steps(ctx, rule, case), reference, rule=rule, case=case) is None:
        return CheckFailure(
            _(
                "{title}, {where}, each gradient written into the same tensor as autograd does: {problem}. With a "
                "new gradient tensor every step the parameters are right, so {class_name} keeps state that shares "
                "memory with a gradient, and the next gradient written into it changes that state: start the state "
                "from a copy (or from 0) rather than from gradient_x itself"
            ).format(title=rule.title, where=where, problem=problem, class_name=rule.class_name),
            diagnosis="state_aliases_gradient",
        )
    return CheckFailure(
        _("{title}, {where}: {problem}. This test requires right values too (see the sequence test).").format(
            title=rule.title, where=where, problem=problem
        ),
        pending=lambda: _diagnose_sequence(ctx, rule, case, steps),
    )


def _as_single_step(rule, case):
    key = next(iter(case["params"]))
    state = [1 if name == "t" else 0 for name in rule.state]
    return {
        "x": case["params"][key],
        "gradient_x": case["gradients"][0][key],
        "state": state,
        "init_lr": case["init_lr"],
        "hyper": case["hyper"],
        "device": case["device"],
    }


def _invariants_example(rule):
    """Two keys, three steps, typical hyperparameters: t's advance and state tied to a gradient both show."""
    hyper = {"epsilon": 1e-7, "beta": 0.9, "beta1": 0.9, "beta2": 0.99, "rho": 0.9}
    gradients = [[0.5, -1.5, 2.0, 0.25], [-2.0, 0.75, 1.0, -0.5], [1.25, 0.5, -0.75, 3.0]]
    return {
        "params": {"W": torch.tensor([[1.0, -2.0], [0.5, 3.0]]), "b": torch.tensor([0.25, -1.0])},
        "gradients": [{"W": torch.tensor(g).reshape(2, 2), "b": torch.tensor(g[1:3]) * -0.5} for g in gradients],
        "init_lr": 0.1,
        "hyper": tuple(hyper[name] for name in rule.hyper),
        "dtype": "float32",
        "device": "cpu",
    }


#: Each test's title (what the student reads as its name), marked here and translated where it is shown
#: (rubric.RubricTest.title).
OPTIMIZER_CHECKS = {
    "single_step": (check_single_step, N_("single calls of {method}() match the reference")),
    "sequence": (check_sequence, N_("step() over several steps and keys matches the reference")),
    "torch_optim": (check_torch_optim, N_("step() matches torch.optim")),
    # Translators: {t_note} is empty, or ", advances t once per step()" (translated too).
    "invariants": (check_invariants, N_("step() keeps grads, dtype and device intact{t_note}")),
}
#: The invariants test's title adds this for an optimizer that counts its steps (Adam's t).
T_NOTE = N_(", advances t once per step()")


def _calls(count):
    return ngettext("{count} call", "{count} calls", count).format(count=count)
