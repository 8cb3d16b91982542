"""Verdicts from data: each rubric test of a part (single_step, sequence, torch_optim, invariants, and
train_f's trajectory) judged from the student's answers (as the worker sent them) against cases.json,
with the grader's own comparisons (closeness.py, trajectory_verdict.py) and the diagnosis of values.py.
"""

import numpy as np

from . import step_verdicts, trajectory_verdict, wire
from .i18n import _
from .values import TITLES, Fail, diagnosis, error_text, step_problem, steps_problem

# ------------------------------------------------------------------------------------------ the tests


def single_step(part, spec, answers):
    title = TITLES[part]
    for case, answer in zip(spec["single_step"], answers["single_step"]):
        if "error" in answer:
            raise Fail(error_text(spec, answer, f"{spec['class_name']}.{spec['method']}()"))
        got, wanted = answer["ok"]["result"], wire.decode(case["expected"])
        problem = step_problem(spec, case, got, wanted)
        if problem:
            inputs = [
                ("x", case["x"]),
                ("gradient_x", case["gradient_x"]),
                *zip(spec["state"], case["state"]),
                ("init_lr", case["init_lr"]),
                *zip(spec["hyper"], case["hyper"]),
            ]
            shown = [(name, wire.decode(value)) for name, value in inputs]
            raise Fail(
                step_verdicts.single_step_failure(title, spec["method"], problem, shown, "cpu", wanted, got)
                + "\n"
                + diagnosis(part, spec, answers)
            )


def sequence(part, spec, answers, test):
    title, oracle = TITLES[part], "torch.optim" if test == "torch_optim" else _("the reference")
    for index, (case, answer) in enumerate(zip(spec[test], answers[test])):
        if "error" in answer:
            raise Fail(error_text(spec, answer, f"{spec['class_name']}.step()"))
        found = steps_problem(answer["ok"], wire.decode(case["expected"]))
        if found:
            params = wire.decode(case["params"])
            shown = {
                "params": params,
                "gradients": wire.decode(case["gradients"]),
                "dtype": next(iter(params.values())).dtype,
                "device": "cpu",
                "init_lr": case["init_lr"],
                "hyper": list(zip(spec["hyper"], case["hyper"])),
            }
            raise Fail(
                step_verdicts.sequence_failure(title, shown, oracle, found)
                + "\n"
                + diagnosis(part, spec, answers, test, index, answer)
            )


def invariants(part, spec, answers):
    """The grader's invariants test (step_verdicts.py) on the release's cases."""
    title, class_name = TITLES[part], spec["class_name"]
    for index, (case, answer) in enumerate(zip(spec["invariants"], answers["invariants"])):
        per_key = answer["per_key"]
        if "error" in per_key:
            raise Fail(error_text(spec, per_key, f"{class_name}.{spec['method']}()"))
        after = per_key["ok"]["gradient_after"]
        if not step_verdicts.unchanged(after, per_key["ok"]["gradient_sent"]):
            raise Fail(step_verdicts.gradient_changed(part, class_name, spec["method"]))
        problem = step_problem(
            spec, case["per_key_case"], per_key["ok"]["result"], wire.decode(case["per_key_expected"])
        )
        if problem:
            raise Fail(
                step_verdicts.single_values_too(title, spec["method"], problem) + "\n" + diagnosis(part, spec, answers)
            )
        in_place = answer["in_place"]
        if "error" in in_place:
            raise Fail(error_text(spec, in_place, f"{class_name}.step()"))
        params, sent = wire.decode(case["params"]), wire.decode(case["gradients"])
        dtypes = {key: value.dtype for key, value in params.items()}
        for k, step in enumerate(in_place["ok"], start=1):
            found = step_verdicts.step_kind_problem(
                class_name, k, step, sent[k - 1] if k <= len(sent) else {}, dtypes, "cpu"
            )
            if found:
                raise Fail(found[0])
        wanted = wire.decode(case["expected"])
        found = steps_problem([step.get("params") for step in in_place["ok"]], wanted)
        if found:
            k, problem = found
            run = step_verdicts.where(
                len(sent), {key: value.shape for key, value in params.items()}, next(iter(dtypes.values())), "cpu"
            )
            fresh = answer["fresh"]
            if k > 1 and "ok" in fresh and steps_problem(fresh["ok"], wanted) is None:
                raise Fail(step_verdicts.state_aliases_gradient(title, run, problem, class_name))
            raise Fail(
                step_verdicts.sequence_values_too(title, run, problem)
                + "\n"
                + diagnosis(part, spec, answers, "invariants", index, fresh)
            )
    if "cuda" in answers:
        cuda = answers["cuda"]
        if "error" in cuda:
            raise Fail(error_text(spec, cuda, _("{name}.step() on the GPU").format(name=spec["class_name"])))
        params = wire.decode(spec["invariants"][0]["params"])
        dtypes = {key: value.dtype for key, value in params.items()}
        for k, step in enumerate(cuda["ok"], start=1):
            found = step_verdicts.step_kind_problem(class_name, k, {"params": step}, {}, dtypes, "cuda")
            if found:
                raise Fail(found[0])
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
