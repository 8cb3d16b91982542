"""Trusted side: grade one submission against the rubric, in a sandbox, into a GradeReport."""

import time
from dataclasses import replace

import torch

from grader import __version__, deadline, defaults
from grader.inputs import submission as submission_module
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
        message = f"not graded: the submission used up its {budget:g} s while it was being read ({error})"
        return report(all_failed(message), message, status="timeout")
    except submission_module.SubmissionError as error:
        return report(all_failed(f"the submission could not be read: {error}"), str(error), status="error")
    tell("submission", submission.name, submission.sha256)
    try:
        # The budget also bounds every reply: a sandbox that answers slowly cannot overrun it mid-test.
        sandbox = Sandbox(
            zygote, list(submission.chunks), limits=limits, deadline=None if budget is None else started + budget
        )
    except WorkerError as error:
        message = f"{submission.name} could not be loaded: {error.message}"
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
                        f"not graded: the submission used up its {budget:g} s",
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
    message = (
        f"not graded: the grader's work on this submission {reason} (its budget of {budget:g} s and "
        f"{deadline.MARGIN:g} s more) and was stopped"
        if timed_out
        else f"not graded: the grader's process for this submission {reason}; this is not a verdict on the code"
    )
    tests = [
        reached.get((test.part, test.test)) or TestResult(test.part, test.test, test.title, test.points, False, message)
        for test in rubric.tests
    ]
    output = (
        f"Graded {name} (sha256 {sha256[:12]}): stopped by the grader's hard deadline after "
        f"{len(reached)} of {len(rubric.tests)} tests: the grader's work on it {reason}."
    )
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
            notes.append(f"Advice, not graded ({test.title}): {failure.message}")
        except Exception as error:  # noqa: BLE001 -- malformed data from the sandbox: as _run says it
            notes.append(
                f"Advice, not graded ({test.title}): the submission's process sent back malformed data: "
                f"{type(error).__name__}: {str(error)[:500]}"
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
            f"the submission's process sent back malformed data: {type(error).__name__}: {str(error)[:500]}",
        )
    return TestResult(test.part, test.test, test.title, test.points, True, "")


def _load_summary(submission, sandbox):
    report = sandbox.load_report
    lines = [f"Graded {submission.name} (sha256 {submission.sha256[:12]})."]
    lines += [f"Note: {note}" for note in submission.notes]  # how the code was read (notebook cells)
    for error in report["errors"]:
        lines.append(f"While loading, {error['where']}: {error['kind']}: {error['message']}")
    if report["skipped"]:
        lines.append(
            f"Skipped {report['skipped']} top-level statement(s) that only run or plot (expressions, loops, "
            "`if __name__ == '__main__'`); definitions and assignments ran."
        )
    for note in report.get("notes", []):
        lines.append(f"Note: {note}")
    if sandbox.printed > 1000:
        lines.append(
            f"Your code printed {sandbox.printed:,} characters while it was graded; printing is "
            f"harmless but slow, and only the start was kept:\n{sandbox.output_sample[:500]}"
        )
    if sandbox.restarts:
        lines.append(f"The submission's process ended or hung {sandbox.restarts} time(s) and was restarted.")
    return "\n".join(lines)
