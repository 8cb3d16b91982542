"""Trusted side: the numbers behind a feedback page's plots, run in the submission's sandbox.

For each optimizer part, the student's class alone on experiment 1's bowl f(x) = w · x² (the `bowl`
operation), beside the reference on the same settings; for the trajectory part, the student's own
`train_f` with an optimizer that updates in place (the `trajectory` operation grading uses), read back
as the student would have seen it. Nothing here is a verdict: the rubric's tests judge; these runs only
draw. What comes back is untrusted: it is checked (a list or tensor of finite 2D points, no more than
asked for) before anything is drawn, and whatever fails the check becomes a sentence on the page.
"""

import functools
import math

import torch

from grader.i18n import _
from grader.judge.parts import RULES
from grader.sandbox.client import WorkerError
from grader.sandbox.protocol import WireTensor
from reference import OptimizedFunction, train_f
from reference.experiments import settings as experiment

#: Experiment 1's runs by rubric part; Nesterov is not in experiment 1 and runs as Momentum does.
_RUNS = {run.setting.slug: run for run in experiment.TRAJECTORIES_2D}
BOWL_RUNS = {
    "adagrad": _RUNS["adagrad"],
    "rmsprop": _RUNS["rmsprop"],
    "momentum": _RUNS["momentum"],
    "adam": _RUNS["adam"],
    "nesterov": experiment.TrajectoryRun(experiment.nesterov(0.01), 50),
}
TRAIN_F_RUN = _RUNS["sgd"]  # train_f is drawn with experiment 1's SGD settings, updating in place
CALL_SECONDS = 2.0  # CPU seconds per run: a correct one takes milliseconds
#: Points beyond this distance from the optimum are not drawn (an optimizer that blew up); the page says so.
FAR = 1e4
#: Where a student's point parts from the reference's: further apart than this, relative to the scale.
PARTING_TOLERANCE = 1e-4


def describe(run):
    # Translators: an optimizer's name (Adam), its hyperparameters (init_lr=0.1, ...), the steps and where they start.
    return _("{optimizer} ({hyperparameters}), {steps} steps from {start}").format(
        optimizer=run.setting.name, hyperparameters=run.setting.describe(), steps=run.steps, start=experiment.BOWL_START
    )


@functools.cache
def reference_points(part):
    """The reference's points on the bowl for `part` (a tuple of (x1, x2)), the same for every student."""
    run = TRAIN_F_RUN if part == "trajectory" else BOWL_RUNS[part]
    bowl = OptimizedFunction(torch.tensor(experiment.BOWL_W))
    points, _losses = train_f(bowl, run.setting.build(bowl), torch.tensor(experiment.BOWL_START), run.steps)
    return tuple((float(x1), float(x2)) for x1, x2 in points.tolist())


def collect(sandbox, parts):
    """{part: run dict} for each of `parts` that can be drawn; never raises for what the student did.

    A run dict: `setting` (text), `reference` (points), `student` (points, possibly fewer than the
    reference's: up to the first that cannot be drawn), `note` (why some or all are missing, or ""),
    `parts_at` (the step at which the student's point first differs from the reference's, or None).
    """
    runs = {}
    for part in parts:
        if part == "trajectory":
            runs[part] = _train_f_run(sandbox)
        elif part in BOWL_RUNS and part in RULES:
            runs[part] = _bowl_run(sandbox, part)
    return runs


def _bowl_run(sandbox, part):
    run, rule = BOWL_RUNS[part], RULES[part]
    hyper = [run.setting.hyper[name] for name in rule.hyper]
    try:
        got = sandbox.call(
            "bowl",
            seconds=CALL_SECONDS,
            class_name=rule.class_name,
            hyper=hyper,
            init_lr=run.setting.hyper["init_lr"],
            w=torch.tensor(experiment.BOWL_W),
            x_init=torch.tensor(experiment.BOWL_START),
            steps=run.steps,
        )
    except WorkerError as error:
        return _result(
            run,
            part,
            [],
            _("your {name} could not run on the bowl: {kind}: {message}").format(
                name=rule.class_name, kind=error.kind, message=error.message[:300]
            ),
        )
    if not isinstance(got, list) or not all(isinstance(point, WireTensor) for point in got):
        return _result(
            run,
            part,
            [],
            _(
                "your {name} left model.params['x'] as something other than a tensor, so there is nothing to draw"
            ).format(name=rule.class_name),
        )
    return _result(run, part, *points_of([point.tensor for point in got], run.steps))


def _train_f_run(sandbox):
    run = TRAIN_F_RUN
    try:
        got = sandbox.call(
            "trajectory",
            seconds=CALL_SECONDS,
            in_place=True,
            w=torch.tensor(experiment.BOWL_W),
            x_init=torch.tensor(experiment.BOWL_START),
            init_lr=run.setting.hyper["init_lr"],
            epoch=run.steps,
            device="cpu",
        )
    except WorkerError as error:
        return _result(
            run,
            "trajectory",
            [],
            _("your train_f could not run: {kind}: {message}").format(kind=error.kind, message=error.message[:300]),
        )
    points = got.get("points") if isinstance(got, dict) else None
    if not isinstance(points, WireTensor):
        return _result(run, "trajectory", [], _("your train_f returned no trajectory that can be drawn"))
    tensor = points.tensor
    if tensor.dim() != 2 or tensor.shape[1] != 2:
        return _result(
            run,
            "trajectory",
            [],
            _("your train_f's trajectory has shape {shape}, not [{steps}, 2], so it is not drawn").format(
                shape=list(tensor.shape), steps=run.steps
            ),
        )
    return _result(run, "trajectory", *points_of(list(tensor), run.steps))


def points_of(values, steps):
    """(points, note): the leading points that can be drawn, each a pair of finite floats near the bowl.

    `values` are tensors from the sandbox; at most `steps` are kept (more is said in the note).
    """
    points, note = [], ""
    for index, value in enumerate(values):
        if index >= steps:
            note = _("it gave {count} points for {steps} steps; the first {steps} are drawn").format(
                count=len(values), steps=steps
            )
            break
        if not isinstance(value, torch.Tensor) or value.numel() != 2 or not value.dtype.is_floating_point:
            note = _("point {index} is not two floating-point numbers, so the plot stops there").format(index=index)
            break
        x1, x2 = (float(item) for item in value.reshape(2).tolist())
        if not (math.isfinite(x1) and math.isfinite(x2)):
            note = _("point {index} is not finite (inf or nan), so the plot stops there").format(index=index)
            break
        if max(abs(x1), abs(x2)) > FAR:
            note = _(
                "point {index} is beyond {far:g} from the optimum (the run blew up), so the plot stops there"
            ).format(index=index, far=FAR)
            break
        points.append((x1, x2))
    else:
        if len(points) < steps:
            note = _("it gave {count} points for {steps} steps").format(count=len(points), steps=steps)
    return points, note


def parting_step(student, reference):
    """The first index at which the two runs' points differ (beyond float32 noise), or None."""
    for index, (mine, right) in enumerate(zip(student, reference)):
        scale = max(1.0, abs(right[0]), abs(right[1]))
        if abs(mine[0] - right[0]) > PARTING_TOLERANCE * scale or abs(mine[1] - right[1]) > PARTING_TOLERANCE * scale:
            return index
    if len(student) < len(reference):
        return len(student)
    return None


def _result(run, part, points, note):
    reference = list(reference_points(part))
    return {
        "setting": describe(run),
        "reference": reference,
        "student": points,
        "note": note,
        "parts_at": parting_step(points, reference) if points else None,
    }


def load_runs(data):
    """Runs read back from a page's saved JSON (written by this module's caller): checked as untrusted
    too, since the file lies in a folder others may write; what fails is dropped."""
    runs = {}
    if not isinstance(data, dict):
        return runs
    for part, run in list(data.items())[:20]:
        if part not in (*BOWL_RUNS, "trajectory") or not isinstance(run, dict):
            continue
        try:
            student = [(float(a), float(b)) for a, b in run.get("student", [])[:1000]]
        except (TypeError, ValueError):
            continue
        if all(math.isfinite(a) and math.isfinite(b) and max(abs(a), abs(b)) <= FAR for a, b in student):
            runs[part] = {
                **_result(TRAIN_F_RUN if part == "trajectory" else BOWL_RUNS[part], part, student, ""),
                "note": str(run.get("note", ""))[:500],
            }
    return runs
