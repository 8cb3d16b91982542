"""Verdicts from data: each rubric test of a part (single_step, sequence, torch_optim, invariants, and
train_f's trajectory) judged from the student's answers (as the worker sent them) against cases.json,
with the grader's own comparisons (closeness.py, trajectory_verdict.py) and the diagnosis of values.py.
"""

import numpy as np

from . import closeness, trajectory_verdict, wire
from .i18n import _
from .values import TITLES, Fail, diagnosis, error_text, step_problem, steps_problem

# ------------------------------------------------------------------------------------------ the tests


def _inputs_text(spec, case):
    named = [
        ("x", case["x"]),
        ("gradient_x", case["gradient_x"]),
        *zip(spec["state"], case["state"]),
        ("init_lr", case["init_lr"]),
        *zip(spec["hyper"], case["hyper"]),
    ]
    return "\n".join(f"  {name} = {wire.describe(wire.decode(value))}" for name, value in named)


def single_step(part, spec, answers):
    title = TITLES[part]
    for case, answer in zip(spec["single_step"], answers["single_step"]):
        if "error" in answer:
            raise Fail(error_text(spec, answer, f"{spec['class_name']}.{spec['method']}()"))
        got, wanted = answer["ok"]["result"], wire.decode(case["expected"])
        problem = step_problem(spec, case, got, wanted)
        if problem:
            raise Fail(
                _("{title}, one call of {method}(): {problem}").format(
                    title=title, method=spec["method"], problem=problem
                )
                + "\n"
                + _("Inputs:")
                + f"\n{_inputs_text(spec, case)}\n"
                # Translators: "Expected:" and "Got:" start two lines whose values are aligned: keep them so.
                + _("Expected: {value}").format(value=wire.describe(wanted))
                + "\n"
                + _("Got:      {value}").format(value=wire.describe(got))
                + "\n"
                + diagnosis(part, spec, answers)
            )


def _sequence_text(case, hyper=""):
    """'N calls of step() on a model with keys ... (dtype, init_lr=..., HYPER)'; hyper: ', beta=0.9...' or ''."""
    params = wire.decode(case["params"])
    keys = ", ".join(f"{key} {list(value.shape)}" for key, value in params.items())
    dtype = next(iter(params.values())).dtype
    return _("{count} calls of step() on a model with keys {keys} ({dtype}, init_lr={init_lr}{hyper})").format(
        count=len(case["gradients"]["seq"]), keys=keys, dtype=dtype, init_lr=repr(case["init_lr"]), hyper=hyper
    )


def sequence(part, spec, answers, test):
    title, oracle = TITLES[part], "torch.optim" if test == "torch_optim" else _("the reference")
    for index, (case, answer) in enumerate(zip(spec[test], answers[test])):
        if "error" in answer:
            raise Fail(error_text(spec, answer, f"{spec['class_name']}.step()"))
        found = steps_problem(answer["ok"], wire.decode(case["expected"]))
        if found:
            k, problem = found
            hyper = "".join(f", {name}={value!r}" for name, value in zip(spec["hyper"], case["hyper"]))
            gradients = wire.decode(case["gradients"])[k - 1]
            raise Fail(
                _("{title}, {calls}, against {oracle}: {problem}").format(
                    title=title, calls=_sequence_text(case, hyper), oracle=oracle, problem=problem
                )
                + "\n"
                + _("Start: {params}").format(params=wire.describe(wire.decode(case["params"])))
                + "\n"
                + _("Gradients of step {k}: {gradients}").format(k=k, gradients=wire.describe(gradients))
                + "\n"
                + diagnosis(part, spec, answers, test, index, answer)
            )


def _exactly(got, sent):
    return (
        isinstance(got, closeness.Array)
        and got.dtype == sent.dtype
        and got.shape == sent.shape
        and got.array is not None
        and np.array_equal(got.array, sent.array, equal_nan=True)
    )


def invariants(part, spec, answers):
    title, name = TITLES[part], f"{spec['class_name']}.{spec['method']}"
    for index, (case, answer) in enumerate(zip(spec["invariants"], answers["invariants"])):
        per_key = answer["per_key"]
        if "error" in per_key:
            raise Fail(error_text(spec, per_key, f"{name}()"))
        if not _exactly(per_key["ok"]["gradient_after"], per_key["ok"]["gradient_sent"]):
            raise Fail(
                _(
                    "{name}() changes gradient_x in place; it must only read it (make new tensors, as in "
                    "`x = x - ...`, never `gradient_x *= ...` or `gradient_x **= 2`)"
                ).format(name=name)
            )
        problem = step_problem(
            spec, case["per_key_case"], per_key["ok"]["result"], wire.decode(case["per_key_expected"])
        )
        if problem:
            raise Fail(
                _(
                    "{title}, one call of {method}(): {problem}. This test requires right values too (see the "
                    "single_step test)."
                ).format(title=title, method=spec["method"], problem=problem)
                + "\n"
                + diagnosis(part, spec, answers)
            )
        in_place = answer["in_place"]
        if "error" in in_place:
            raise Fail(error_text(spec, in_place, f"{spec['class_name']}.step()"))
        params = wire.decode(case["params"])
        sent = wire.decode(case["gradients"])
        for k, step in enumerate(in_place["ok"], start=1):
            for key, value in sent[k - 1].items():
                if not _exactly(step.get("grads", {}).get(key), value):
                    raise Fail(
                        _(
                            "{name}.step() changed model.grads[{key}] at step {k}: the optimizer must not modify "
                            "gradients"
                        ).format(name=spec["class_name"], key=repr(key), k=k)
                    )
            for key, value in step.get("params", {}).items():
                if isinstance(value, closeness.Array) and key in params and value.dtype != params[key].dtype:
                    raise Fail(
                        _(
                            "step() turned model.params[{key}] from {before} into {after}; keep the parameter's dtype"
                        ).format(key=repr(key), before=params[key].dtype, after=value.dtype)
                    )
                if isinstance(value, closeness.Array) and value.device != "cpu":
                    raise Fail(
                        _("step() moved model.params[{key}] from cpu to {device}").format(
                            key=repr(key), device=value.device
                        )
                    )
        wanted = wire.decode(case["expected"])
        found = steps_problem([step.get("params") for step in in_place["ok"]], wanted)
        if found:
            k, problem = found
            fresh = answer["fresh"]
            if k > 1 and "ok" in fresh and steps_problem(fresh["ok"], wanted) is None:
                raise Fail(
                    _(
                        "{title}, {calls}, each gradient written into the same tensor as autograd does: {problem}. "
                        "With a new gradient tensor every step the parameters are right, so {name} keeps state that "
                        "shares memory with a gradient, and the next gradient written into it changes that state: "
                        "start the state from a copy (or from 0) rather than from gradient_x itself"
                    ).format(title=title, calls=_sequence_text(case), problem=problem, name=spec["class_name"])
                )
            raise Fail(
                _("{title}, {calls}: {problem}. This test requires right values too (see the sequence test).").format(
                    title=title, calls=_sequence_text(case), problem=problem
                )
                + "\n"
                + diagnosis(part, spec, answers, "invariants", index, fresh)
            )
    if "cuda" in answers:
        cuda = answers["cuda"]
        if "error" in cuda:
            raise Fail(error_text(spec, cuda, _("{name}.step() on the GPU").format(name=spec["class_name"])))
        for step in cuda["ok"]:
            for key, value in step.items():
                if isinstance(value, closeness.Array) and not value.device.startswith("cuda"):
                    raise Fail(
                        _("step() moved model.params[{key}] from the GPU to {device}").format(
                            key=repr(key), device=value.device
                        )
                    )
        found = steps_problem(cuda["ok"], wire.decode(spec["invariants"][0]["expected"]))
        if found:
            raise Fail(_("{title} on the GPU: {problem}").format(title=title, problem=found[1]))


# ------------------------------------------------------------------------------------------ train_f


def trajectory(spec, answers, test):
    """train_f's verdict, as the grader gives it (trajectory_verdict.py): the points, then the losses."""
    in_place = test in ("in_place", "x_init_untouched")
    for case, answer in zip(spec["cases"], answers["in_place" if in_place else "out_of_place"]):
        if "error" in answer:
            raise Fail(error_text({}, answer, "train_f"))
        expected = np.asarray(case["expected"], dtype=np.float64)
        problem, _slug = trajectory_verdict.trajectory_problem(
            answer["ok"], expected, case["expected_losses"], in_place, answers.get("source", "")
        )
        if test == "x_init_untouched":
            if problem:
                raise Fail(_(trajectory_verdict.NOT_JUDGED))
            changed = trajectory_verdict.x_init_problem(answer["ok"]["x_init_after"], case["x_init"])
            if changed:
                raise Fail(changed)
            return
        if problem:
            raise Fail(trajectory_verdict.failure(in_place, dict(case, device="cpu"), problem))


def judge(part, test, spec, outcome):
    """None when the test passes, else the failure's message."""
    if "error" in outcome:
        return outcome["error"]
    if "decoded" not in outcome:
        outcome["decoded"] = _decode_tree(outcome["answers"])
    answers = outcome["decoded"]
    try:
        if part == "trajectory":
            trajectory(spec, answers, test)
        elif test == "single_step":
            single_step(part, spec, answers)
        elif test == "invariants":
            invariants(part, spec, answers)
        else:
            sequence(part, spec, answers, test)
    except Fail as failure:
        return failure.message
    return None


def _decode_tree(item):
    """The worker's answers with every returned value decoded (done once per part)."""
    if isinstance(item, dict) and "ok" in item:
        return {"ok": wire.decode(item["ok"])}
    if isinstance(item, dict) and "error" in item:
        return item
    if isinstance(item, dict):
        return {key: _decode_tree(value) for key, value in item.items()}
    if isinstance(item, list):
        return [_decode_tree(value) for value in item]
    return item
