"""Trusted side: grade one submission against the rubric, in a sandbox, into a GradeReport."""

import time
from dataclasses import replace

import torch

from grader import __version__, deadline, defaults
from grader.i18n import _
from grader.inputs import submission as submission_module
from grader.judge import labels
from grader.judge import rubric as rubric_module
from grader.judge.properties import CheckFailure, Context, NotJudged
from grader.outputs.results import GradeReport, TestResult
from grader.sandbox.client import Sandbox, WorkerError
from grader.sandbox.protocol import Limits


def available_devices():
    """Every device the checks run on: the CPU, and CUDA where torch sees a GPU."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def grade(
    path,
    *,
    zygote,
    rubric=None,
    seed=defaults.SEED,
    devices=None,
    limits=Limits(),
    budget=None,
    replay=None,
    recording=None,
    after=None,
    tell=None,
):
    """Grade the submission at `path` (a .py, an .ipynb, or a folder holding one) with a warm `zygote`.

    budget: seconds for the whole submission, from the moment its file is opened; the tests not started by
    then fail as not graded. (`grade_bounded` adds the hard deadline that holds whatever the grader does.)
    replay, recording: see properties.Context (batch grading).
    after: a function called with the sandbox once the tests are done, before it closes (the feedback
    page's plot runs); not called when the submission could not be loaded or ran out of time.
    tell: called with ("submission", name, sha256) once the file is read, then ("test", TestResult) for each
    verdict as it is reached, so that a process that ends this one keeps them (see grade_bounded).
    """
    started = time.monotonic()
    tell = tell or (lambda *event: None)
    rubric = rubric or rubric_module.load()
    devices = tuple(devices or available_devices())

    def report(tests, output, name=str(path), sha256="", status="graded", isolation=None):
        return GradeReport(
            submission=name,
            sha256=sha256,
            tests=with_visibility(tests, rubric),
            output=output,
            grader_version=__version__,
            seed=seed,
            devices=devices,
            execution_time=time.monotonic() - started,
            status=status,
            isolation=isolation or getattr(zygote, "isolation", None),
        )

    def all_failed(message):
        return [TestResult(t.part, t.test, t.title, t.points, False, message) for t in rubric.tests]

    try:
        submission = submission_module.read(path, deadline=None if budget is None else started + budget)
    except submission_module.ReadingTimeout as error:
        message = _("not graded: the submission used up its {budget:g} s while it was being read ({error})").format(
            budget=budget, error=error
        )
        return report(all_failed(message), message, status="timeout")
    except submission_module.SubmissionError as error:
        return report(
            all_failed(_("the submission could not be read: {error}").format(error=error)), str(error), status="error"
        )
    tell("submission", submission.name, submission.sha256)
    try:
        # The budget also bounds every reply: a sandbox that answers slowly cannot overrun it mid-test.
        sandbox = Sandbox(
            zygote, list(submission.chunks), limits=limits, deadline=None if budget is None else started + budget
        )
    except WorkerError as error:
        message = _("{name} could not be loaded: {problem}").format(name=submission.name, problem=error.message)
        return report(all_failed(message), message, submission.name, submission.sha256, status="error")

    with sandbox:
        context = Context(
            sandbox=sandbox, devices=devices, seed=seed, examples=rubric.examples, replay=replay, recording=recording
        )
        results, status = [], "graded"
        for test in rubric.tests:
            if budget is not None and time.monotonic() - started > budget:
                status = "timeout"
                results.append(
                    TestResult(
                        test.part,
                        test.test,
                        test.title,
                        test.points,
                        False,
                        _("not graded: the submission used up its {budget:g} s").format(budget=budget),
                    )
                )
            else:
                results.append(_run(test, context))
            tell("test", results[-1])
        notes = [] if status == "timeout" else advice(rubric.advice, context)
        output = "\n".join([_load_summary(submission, sandbox), *notes])
        if after is not None and status != "timeout":
            after(sandbox)
        return report(results, output, submission.name, submission.sha256, status, sandbox.isolation)


def grade_bounded(path, *, rubric, budget, seed=defaults.SEED, devices=None, after=None, **options):
    """`grade`, in a forked child of this process that is ended `deadline.MARGIN` seconds past `budget`,
    whatever it is doing then: (report, after), `after` as the child left it (its plot runs).

    A child that overruns (or dies) gives a "timeout" report that keeps every verdict reached before, the
    rest failed as not graded. Its sandbox is not this process's child: the zygote's `close` ends it (the
    batch's lanes and the cluster's tasks use a zygote of their own for each such run).
    """
    devices = tuple(devices or available_devices())
    if budget is None:
        return grade(path, rubric=rubric, seed=seed, devices=devices, after=after, **options), after

    def work(send):
        report = grade(
            path,
            rubric=rubric,
            seed=seed,
            devices=devices,
            budget=budget,
            after=after,
            tell=lambda *event: send(event),
            **options,
        )
        return report, after

    started = time.monotonic()
    finished, value, events = deadline.run_bounded(work, budget + deadline.MARGIN)
    if finished:
        return value
    return overrun_report(
        path,
        rubric,
        events,
        value.reason,
        budget=budget,
        seed=seed,
        devices=devices,
        elapsed=time.monotonic() - started,
        timed_out=value.timed_out,
    ), after


def overrun_report(path, rubric, events, reason, *, budget, seed, devices, elapsed, timed_out=True):
    """The report of a submission whose grading was ended by the hard deadline (or whose grading process
    died: `timed_out` false): the verdicts it had reached (`events`, as grade's `tell` gave them), every
    other test failed as not graded; status "timeout" (or "error")."""
    name, sha256 = str(path), ""
    reached = {}
    for event in events:
        if event[0] == "submission":
            name, sha256 = event[1], event[2]
        elif event[0] == "test":
            reached[(event[1].part, event[1].test)] = event[1]
    shown = deadline.shown_reason(reason)
    message = (
        _(
            "not graded: the grader's work on this submission {reason} (its budget of {budget:g} s and "
            "{margin:g} s more) and was stopped"
        ).format(reason=shown, budget=budget, margin=deadline.MARGIN)
        if timed_out
        else _(
            "not graded: the grader's process for this submission {reason}; this is not a verdict on the code"
        ).format(reason=shown)
    )
    tests = [
        reached.get((test.part, test.test)) or TestResult(test.part, test.test, test.title, test.points, False, message)
        for test in rubric.tests
    ]
    output = _(
        "Graded {name} (sha256 {sha256}): stopped by the grader's hard deadline after {reached} of {total} tests: "
        "the grader's work on it {reason}."
    ).format(name=name, sha256=sha256[:12], reached=len(reached), total=len(rubric.tests), reason=shown)
    return GradeReport(
        submission=name,
        sha256=sha256,
        tests=with_visibility(tests, rubric),
        output=output,
        grader_version=__version__,
        seed=seed,
        devices=tuple(devices),
        execution_time=elapsed,
        status="timeout" if timed_out else "error",
        stopped={"reason": reason, "times": 1},
    )


def with_visibility(tests, rubric):
    """The results with each rubric test's visibility (Gradescope's: "hidden" shows name and points only)."""
    shown = {(test.part, test.test): getattr(test, "visibility", "visible") for test in rubric.tests}
    return tuple(replace(test, visibility=shown.get((test.part, test.test), "visible")) for test in tests)


def advice(tests, context):
    """What the rubric's ungraded tests (rubric.advice) find, as notes for the feedback: no points."""
    notes = []
    for test in tests:
        try:
            test.check(context, test.rule)
        except NotJudged:
            continue  # the graded tests already say what is wrong
        except CheckFailure as failure:
            notes.append(_("Advice, not graded ({title}): {message}").format(title=test.title, message=failure.message))
        except Exception as error:  # noqa: BLE001 -- malformed data from the sandbox: as _run says it
            notes.append(
                _("Advice, not graded ({title}): {message}").format(title=test.title, message=_malformed(error))
            )
    return notes


def _run(test, context):
    try:
        test.check(context, test.rule)
    except CheckFailure as failure:
        return TestResult(
            test.part,
            test.test,
            test.title,
            test.points,
            False,
            failure.message,
            failure.diagnosis,
            failure.alternatives,
            explanation=getattr(failure, "explanation", None),
        )
    except Exception as error:  # noqa: BLE001 -- data that parsed but is not what the check reads (a dict for
        # a list, an object for a tensor): the checks trust their own inputs, never what came back
        return TestResult(
            test.part,
            test.test,
            test.title,
            test.points,
            False,
            _malformed(error),
        )
    return TestResult(test.part, test.test, test.title, test.points, True, "")


def _malformed(error):
    return _("the submission's process sent back malformed data: {error}").format(
        error=f"{type(error).__name__}: {str(error)[:500]}"
    )


def _load_summary(submission, sandbox):
    report = sandbox.load_report
    lines = [_("Graded {name} (sha256 {sha256}).").format(name=submission.name, sha256=submission.sha256[:12])]
    # How the code was read (notebook cells): the reader's notes, in English (grader/inputs is shared with the release).
    lines += [_("Note: {note}").format(note=note) for note in submission.notes]
    for error in report["errors"]:
        lines.append(
            _("While loading, {where}: {kind}: {message}").format(
                where=labels.shown_where(error["where"]), kind=error["kind"], message=error["message"]
            )
        )
    if report["skipped"]:
        lines.append(
            _(
                "Skipped {count} top-level statement(s) that only run or plot (expressions, loops, "
                "`if __name__ == '__main__'`); definitions and assignments ran."
            ).format(count=report["skipped"])
        )
    for note in report.get("notes", []):
        lines.append(_("Note: {note}").format(note=note))
    if sandbox.printed > 1000:
        lines.append(
            _(
                "Your code printed {count:,} characters while it was graded; printing is harmless but slow, and "
                "only the start was kept:"
            ).format(count=sandbox.printed)
            + f"\n{sandbox.output_sample[:500]}"
        )
    if sandbox.restarts:
        lines.append(
            _("The submission's process ended or hung {count} time(s) and was restarted.").format(
                count=sandbox.restarts
            )
        )
    return "\n".join(lines)
