"""Trusted side: the record/replay engine behind every check, apart from what any check judges.

A check is a body(case) that calls the sandboxed submission through `Context.call` and raises
CheckFailure with a student-facing message. `run_property` runs a body on a fixed first example, then
on hypothesis' examples, deterministically from the seed; in a batch it records the solution's examples
and answers once (`Recorded`) and replays them on every student first, in one round trip per test
(`Context.replay`): only a test that fails on them goes through hypothesis, for the very counterexample
`check` gives. `expected` keeps what a case was expected to give across the two.
"""

import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis.configuration import set_hypothesis_home_dir

from grader.i18n import N_, _
from grader.sandbox.client import CallFailed, WorkerDied, WorkerError

from . import labels
from .compare import describe


def _hypothesis_cache():
    """Where hypothesis keeps its caches (what it reads from modules, character maps): by default
    `.hypothesis/` in the current folder, which may be a student's or the submissions' folder, where the
    grader writes nothing. Its example database is off in every test (`database=None`) anyway. An
    explicit HYPOTHESIS_STORAGE_DIRECTORY is the user's choice and stays."""
    if os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
        return None
    home = os.path.expanduser("~")  # "~" itself for a user without a home: never a relative folder here
    base = os.environ.get("XDG_CACHE_HOME") or (
        os.path.join(home, ".cache")
        if os.path.isabs(home)
        else os.path.join(tempfile.gettempdir(), f"optimkit-{os.getuid()}")
    )
    return Path(base) / "optimkit" / "hypothesis"


if (_cache := _hypothesis_cache()) is not None:
    set_hypothesis_home_dir(_cache)


class CheckFailure(Exception):
    """A failed rubric test: `message` is what the student reads; `diagnosis` names a known mistake.

    `pending`: a function giving the grader.explain.diagnosis verdict (or None), run by `resolve()` only for the
    failure that is reported: it runs probes in the sandbox, which hypothesis' shrinking should not pay for.
    """

    def __init__(self, message, diagnosis=None, alternatives=(), pending=None):
        super().__init__(message)
        self.message, self.diagnosis, self.alternatives = message, diagnosis, tuple(alternatives)
        self.pending = pending
        self.explanation = None  # the edit of the rule that reproduces the student, where no known mistake does

    def resolve(self):
        """Run the pending diagnosis once and add its verdict; a failure of the diagnosis itself adds nothing."""
        pending, self.pending = self.pending, None
        if pending is None:
            return
        try:
            diagnosis = pending()
        except Exception:  # noqa: BLE001 - the verdict stands without a diagnosis
            return
        self._add(diagnosis)

    def _add(self, diagnosis):
        if diagnosis is None:
            return
        if diagnosis.mistake is None:
            self.message += "\n" + labels.labelled(_(labels.DIAGNOSIS), diagnosis.message)
            self.explanation = getattr(diagnosis, "explanation", None)
        else:
            self.message += "\n" + labels.labelled(_(labels.LIKELY_MISTAKE), diagnosis.message)
            self.diagnosis = diagnosis.mistake.slug
            self.alternatives = tuple(mistake.slug for mistake in diagnosis.also)
        self.args = (self.message,)


@dataclass
class Context:
    """What every check needs: the sandboxed submission and the run's settings.

    Batch grading adds replay. Hypothesis draws its examples from the seed and from which examples
    failed, so every submission that passes a test sees the very examples the solution saw. `recording`
    (a dict) collects them while the solution is graded; `replay` (that dict) then runs them first on a
    student's code, with no hypothesis and no recomputed expectations. Only a test that fails on them
    is run again through hypothesis, for the same shrunk counterexample and verdict as `check` gives.
    """

    sandbox: object
    devices: tuple = ("cpu",)
    seed: int = 0
    examples: dict = field(default_factory=dict)  # rubric test id -> hypothesis max_examples
    fatal: dict = field(default_factory=dict)  # part -> a failure that ends its remaining examples
    recording: "dict | None" = None  # "part/test" -> Recorded, filled while grading the solution
    replay: "dict | None" = None  # a recording, run before hypothesis
    _calls: "list | None" = None  # recording: the calls of the case being run; replaying: the answers still to give

    @property
    def names(self):
        return set(self.sandbox.load_report["names"])

    def call(self, part, what, op, **arguments):
        """Call the worker; turn what went wrong into a CheckFailure that says it in the student's terms."""
        if self.replay is not None and self._calls is not None:  # replaying: the answer came in the batch
            if not self._calls or self._calls[0][0] != op:
                raise _ReplayDiverged()
            answer = self._calls.pop(0)[1]
            if answer["ok"]:
                return answer["value"]
            error = answer["error"]
            if error.get("kind") == "Timeout":  # the verdict live grading gives, without waiting for it again
                failure = CheckFailure(_explain_error(what, CallFailed("Timeout", str(error.get("message", "")), "")))
                self.fatal[part] = failure
                raise failure
            raise _ReplayDiverged()
        if self._calls is not None:
            self._calls.append((op, arguments))
        if part in self.fatal:
            raise self.fatal[part]
        try:
            return self.sandbox.call(op, **arguments)
        except CallFailed as error:
            failure = CheckFailure(_explain_error(what, error))
            if error.kind == "Timeout":
                self.fatal[part] = failure  # every further example would wait as long
            raise failure from None
        except WorkerDied as error:
            failure = CheckFailure(
                _("{what}: {problem}.").format(what=what, problem=error.message) + _output_note(error.output)
            )
            self.fatal[part] = failure
            raise failure from None


#: What the sandbox's loader says of a call it stopped (grader/untrusted/loader.py, which speaks English only:
#: the untrusted side imports no catalog), and the same words marked for translation here.
_SANDBOX_PHRASES = (
    (re.compile(r"used more than (\S{1,30}) s of CPU time"), N_("used more than {seconds} s of CPU time")),
    (
        re.compile(r"waited more than (\S{1,30}) s by the wall clock"),
        N_("waited more than {seconds} s by the wall clock"),
    ),
)
_EXIT_PHRASE = re.compile(r"called sys\.exit\((.{0,200})\)", re.DOTALL)


def _sandbox_phrase(message):
    """The loader's sentence about a stopped call, in the language spoken (unchanged if it is not one)."""
    for pattern, phrase in _SANDBOX_PHRASES:
        if match := pattern.fullmatch(message):
            return _(phrase).format(seconds=match.group(1))
    if match := _EXIT_PHRASE.fullmatch(message):
        return _("called sys.exit({code})").format(code=match.group(1))
    return message


def _explain_error(what, error):
    if error.kind == "NotImplementedError":
        return _("{what} is not implemented yet: {message}").format(what=what, message=error.message)
    if error.kind == "Timeout":
        # Translators: {message} is e.g. "used more than 5 s of CPU time" (translated too).
        message = _sandbox_phrase(error.message)
        return _("{what} did not finish: it {message} (an endless loop?)").format(what=what, message=message)
    if error.kind == "SystemExit":
        # Translators: {message} is "called sys.exit(0)" (translated too).
        message = _sandbox_phrase(error.message)
        return _("{what} {message}; a submission must not exit").format(what=what, message=message)
    trace = f"\n{error.trace.rstrip()}" if error.trace else ""
    raised = _("{what} raised {kind}: {message}").format(what=what, kind=error.kind, message=error.message)
    return f"{raised}{trace}" + _output_note(error.output)


def _output_note(output):
    return "\n" + _("It printed:") + f"\n{output[:2000]}" if output else ""


def require(ctx, name, part):
    if name not in ctx.names:
        errors = ctx.sandbox.load_report["errors"]
        context = "".join(
            f"\n  {labels.shown_where(error['where'])}: {error['kind']}: {error['message']}" for error in errors[:5]
        )
        raise CheckFailure(
            _("your file defines no `{name}`, which {part} needs.").format(name=name, part=part)
            # Translators: the leading space separates it from the sentence before it, in English only.
            + (_(" Loading it reported:") + context if context else "")
        )


class NotJudged(CheckFailure):
    """A test that could not look at what it checks (e.g. train_f is missing or wrong): a failure when
    graded, and no advice when the test is not graded (the graded tests already say what is wrong)."""


class _ReplayDiverged(Exception):
    """A replayed call failed or came out of order: grade this test live instead."""


@dataclass
class Recorded:
    """One test as the solution went through it: the cases hypothesis drew, each with the calls it made,
    and the solution's answers to all those calls in one batch, as wire data."""

    cases: list = field(default_factory=list)  # [(case, [(op, arguments), ...]), ...]
    answers: "list | None" = None
    prepared: "list | None" = None  # the calls as wire data, encoded once for every submission
    reply: "bytes | None" = (
        None  # the worker's reply when its answers are these, to compare unparsed (see Sandbox.replay)
    )

    @property
    def calls(self):
        return [call for _case, case_calls in self.cases for call in case_calls]


def _replay(ctx, key, recorded, body):
    """Run the recorded cases, their calls answered by one batch: True if every case passed.

    A verdict is a function of the case and the answers. If they equal the solution's to the last bit,
    they pass as the solution's did, and nothing needs decoding or judging: for the whole test at once,
    or else case by case.
    """
    try:
        wire = ctx.sandbox.replay(key, recorded)
        if wire is recorded.answers or wire == recorded.answers:
            return True
    except WorkerError:
        return False
    start = 0
    try:
        for case, case_calls in recorded.cases:
            end = start + len(case_calls)
            if wire[start:end] != recorded.answers[start:end]:
                answers = ctx.sandbox.decode_answers(wire[start:end])
                ctx._calls = [(op, answer) for (op, _arguments), answer in zip(case_calls, answers)]
                body(case)
                if ctx._calls:
                    return False
            start = end
        return True
    except (CheckFailure, _ReplayDiverged, WorkerError):
        return False
    finally:
        ctx._calls = None


def run_property(ctx, part, test, strategy, body, first=None):
    """Run body(first), then body(case) over hypothesis examples of `strategy`, deterministically from
    ctx.seed. `first`: a fixed case, so that a blank or crashing part fails at once, on plain inputs.

    With ctx.replay, the recorded examples (the first among them) run first, their calls in one batch;
    all passing is the verdict hypothesis would give. Anything else runs live, for the exact
    counterexample.
    """
    key = f"{part}/{test}"
    if (
        ctx.replay is not None
        and key in ctx.replay
        and part not in ctx.fatal
        and _replay(ctx, key, ctx.replay[key], body)
    ):
        return
    replaying, ctx.replay = ctx.replay, None  # live from here on, for this test
    recorded = ctx.recording.setdefault(key, Recorded()) if ctx.recording is not None else None
    try:
        if first is not None:
            _recorded_run(ctx, body, first, recorded)
        _hypothesis(ctx, test, strategy, body, recorded)
    except CheckFailure as failure:
        failure.resolve()  # the reported counterexample only, not every example tried while shrinking
        raise
    finally:
        ctx.replay = replaying
    if recorded is not None:  # what replay will send, and compare with
        recorded.prepared = ctx.sandbox.prepare(recorded.calls)
        recorded.answers = ctx.sandbox.call_many(recorded.prepared, decode=False)


def _hypothesis(ctx, test, strategy, body, recorded):
    @settings(
        max_examples=ctx.examples.get(test, 30),
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
        verbosity=Verbosity.quiet,
    )
    @seed(ctx.seed)
    @given(strategy)
    def run(case):
        _recorded_run(ctx, body, case, recorded)

    run()


def _recorded_run(ctx, body, case, recorded):
    """body(case), its calls kept in `recorded` (when not None) with the case."""
    if recorded is None:
        body(case)
        return
    ctx._calls = []
    try:
        body(case)
    finally:
        recorded.cases.append((case, ctx._calls))
        ctx._calls = None


def expected(case, name, compute):
    """compute(), once per case: a replayed case keeps what it was expected to give."""
    memo = case.setdefault("_expected", {})
    if name not in memo:
        memo[name] = compute()
    return memo[name]


def answer(got, what, *keys):
    """`got` if it is a dict holding `keys`, as every operation answers; a patched worker may send anything."""
    if not isinstance(got, dict) or not all(key in got for key in keys):
        raise CheckFailure(
            _(
                "{what}: the submission's process answered with {value} instead of its results (was the "
                "grader's code in it changed?)"
            ).format(what=what, value=describe(got)[:200])
        )
    return got
