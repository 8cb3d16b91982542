"""Trusted side: grade one submission against the rubric, in a sandbox, into a GradeReport."""

import time

import torch

from . import __version__, defaults, rubric as rubric_module, submission as submission_module
from .properties import CheckFailure, Context, NotJudged
from .results import GradeReport, TestResult
from .protocol import Limits
from .sandbox import Sandbox, WorkerError

def available_devices():
    """Every device the checks run on: the CPU, and CUDA where torch sees a GPU."""
    return ("cpu", "cuda") if torch.cuda.is_available() else ("cpu",)


def grade(path, *, zygote, rubric=None, seed=defaults.SEED, devices=None, limits=Limits(), budget=None,
          replay=None, recording=None, after=None):
    """Grade the submission at `path` (a .py, an .ipynb, or a folder holding one) with a warm `zygote`.

    budget: seconds for the whole submission; the tests not started by then fail as not graded.
    replay, recording: see properties.Context (batch grading).
    after: a function called with the sandbox once the tests are done, before it closes (the feedback
    page's plot runs); not called when the submission could not be loaded or ran out of time.
    """
    started = time.monotonic()
    rubric = rubric or rubric_module.load()
    devices = tuple(devices or available_devices())

    def report(tests, output, name=str(path), sha256="", status="graded", isolation=None):
        return GradeReport(submission=name, sha256=sha256, tests=with_visibility(tests, rubric), output=output,
                           grader_version=__version__, seed=seed, devices=devices,
                           execution_time=time.monotonic() - started, status=status,
                           isolation=isolation or getattr(zygote, "isolation", None))

    def all_failed(message):
        return [TestResult(t.part, t.test, t.title, t.points, False, message) for t in rubric.tests]

    try:
        submission = submission_module.read(path)
    except submission_module.SubmissionError as error:
        return report(all_failed(f"the submission could not be read: {error}"), str(error), status="error")
    try:
        # The budget also bounds every reply: a sandbox that answers slowly cannot overrun it mid-test.
        sandbox = Sandbox(zygote, list(submission.chunks), limits=limits,
                          deadline=None if budget is None else started + budget)
    except WorkerError as error:
        message = f"{submission.name} could not be loaded: {error.message}"
        return report(all_failed(message), message, submission.name, submission.sha256, status="error")

    with sandbox:
        context = Context(sandbox=sandbox, devices=devices, seed=seed, examples=rubric.examples,
                          replay=replay, recording=recording)
        results, status = [], "graded"
        for test in rubric.tests:
            if budget is not None and time.monotonic() - started > budget:
                status = "timeout"
                results.append(TestResult(test.part, test.test, test.title, test.points, False,
                                          f"not graded: the submission used up its {budget:g} s"))
            else:
                results.append(_run(test, context))
        notes = [] if status == "timeout" else advice(rubric.advice, context)
        output = "\n".join([_load_summary(submission, sandbox), *notes])
        if after is not None and status != "timeout":
            after(sandbox)
        return report(results, output, submission.name, submission.sha256, status, sandbox.isolation)


def with_visibility(tests, rubric):
    """The results with each rubric test's visibility (Gradescope's: "hidden" shows name and points only)."""
    from dataclasses import replace

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
            notes.append(f"Advice, not graded ({test.title}): the submission's process sent back malformed data: "
                         f"{type(error).__name__}: {str(error)[:500]}")
    return notes


def _run(test, context):
    try:
        test.check(context, test.rule)
    except CheckFailure as failure:
        return TestResult(test.part, test.test, test.title, test.points, False, failure.message, failure.diagnosis,
                          failure.alternatives)
    except Exception as error:  # noqa: BLE001 -- data that parsed but is not what the check reads (a dict for
        # a list, an object for a tensor): the checks trust their own inputs, never what came back
        return TestResult(test.part, test.test, test.title, test.points, False,
                          f"the submission's process sent back malformed data: {type(error).__name__}: "
                          f"{str(error)[:500]}")
    return TestResult(test.part, test.test, test.title, test.points, True, "")


def _load_summary(submission, sandbox):
    report = sandbox.load_report
    lines = [f"Graded {submission.name} (sha256 {submission.sha256[:12]})."]
    lines += [f"Note: {note}" for note in submission.notes]  # how the code was read (notebook cells)
    for error in report["errors"]:
        lines.append(f"While loading, {error['where']}: {error['kind']}: {error['message']}")
    if report["skipped"]:
        lines.append(f"Skipped {report['skipped']} top-level statement(s) that only run or plot (expressions, loops, "
                     "`if __name__ == '__main__'`); definitions and assignments ran.")
    for note in report.get("notes", []):
        lines.append(f"Note: {note}")
    if sandbox.printed > 1000:
        lines.append(f"Your code printed {sandbox.printed:,} characters while it was graded; printing is "
                     f"harmless but slow, and only the start was kept:\n{sandbox.output_sample[:500]}")
    if sandbox.restarts:
        lines.append(f"The submission's process ended or hung {sandbox.restarts} time(s) and was restarted.")
    return "\n".join(lines)
