"""Grade a whole class: discover the students, grade them in parallel warm lanes, write as they finish.

The parent records, once, the examples that the solution passes (see recording.py); each lane is a
fork of the warm parent with a zygote of its own, forked in milliseconds from the parent's, and replays
those examples on every student. Each result is written atomically the moment it is known, and carries
a fingerprint (submission hash, grader version, rubric, seed, devices): a rerun skips what is current,
so an interrupted run resumes where it stopped and a finished one costs nothing.
"""

import json
import multiprocessing
import multiprocessing.connection
import re
import signal
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from grader.errors import OptimkitError
from grader.inputs.discover import DiscoveryError, discover
from grader.inputs.submission import SubmissionError, read_bytes
from grader.outputs.feedback import FOLDER, PlotRuns, warm, write_page
from grader.outputs.members import display_name
from grader.outputs.results import GradeReport, TestResult, write_json
from grader.sandbox.launcher import Zygote

from .. import __version__, deadline, defaults
from ..atomic import PRIVATE
from ..i18n import _
from .freshness import counted_stop, fingerprint, is_current
from .guidance import not_a_folder, nothing_found
from .progress import Progress  # noqa: F401 -- the command line's runner.Progress()

PARTIAL_SUFFIX = ".partial"
RUBRIC_BYTES = 1024 * 1024  # as rubric.MAX_BYTES (that module imports torch: the check before start-up cannot)


@dataclass(frozen=True)
class Settings:
    """One batch run's choices (the command line's flags)."""

    jobs: int
    budget: float  # seconds per submission
    force: bool = False
    seed: int = defaults.SEED
    rubric_path: Path = defaults.RUBRIC
    feedback: bool = False  # also write OUT/feedback/<student>.html (with plots run in the sandbox)


class BatchError(OptimkitError):
    """The batch as a whole cannot run (not a student's fault): bad folders, a broken grader."""


def run(submissions, out, settings, progress=None):
    """Grade every student in `submissions` into `out`; returns (entries, {student: result dict})."""
    entries, out = find(submissions, out, settings)
    # The zygote first: its torch import overlaps with ours (the rubric's checks import torch).
    zygote = Zygote(preload=preloads(entries))
    try:
        results_dir = prepare(out, settings)
        from ..grading import available_devices  # noqa: PLC0415 -- torch: once the zygote has started (run)

        devices = available_devices()
        stamp = fingerprint(settings, devices)
        todo = pending(entries, results_dir, settings, stamp)
        if progress:
            progress.start(len(entries), len(entries) - len(todo))
        if todo:
            _grade_all(todo, results_dir, settings, devices, stamp, zygote, progress)
    finally:
        zygote.close()
    return entries, collect(entries, results_dir)


def find(submissions, out, settings):
    """The students of `submissions`, and `out` resolved: every mistake in the arguments said at once,
    before any start-up (shared with the cluster driver, cluster.py, which grades elsewhere)."""
    submissions, out = Path(submissions).resolve(), Path(out).resolve()
    if not submissions.is_dir():
        raise BatchError(not_a_folder(submissions))
    if out == submissions or submissions in out.parents:
        raise BatchError(f"--out {out} is inside the submissions folder, which is never written to")
    try:
        entries = discover(submissions)
    except DiscoveryError as error:
        raise BatchError(str(error)) from None
    if not entries:
        raise BatchError(nothing_found(submissions))
    _check_rubric_readable(settings.rubric_path)  # the usual typos, said before the zygote's start-up
    if out.exists() and not out.is_dir():
        raise BatchError(f"--out {out}: a file, not a folder (give a folder for results/, scores.csv, summary.json)")
    return entries, out


def prepare(out, settings):
    """Check the rubric, make OUT/results (private), clear what a killed run left: the results folder."""
    _check_rubric(settings.rubric_path)  # before OUT is made: a typo leaves nothing behind
    results_dir = _private_folders(out)
    for stale in results_dir.glob(f".*{PARTIAL_SUFFIX}"):  # left by a run that was killed mid-write
        stale.unlink()
    return results_dir


def pending(entries, results_dir, settings, stamp):
    """The entries still to grade: all with --force, else those without a current result."""
    return [
        entry
        for entry in entries
        if settings.force or not is_current(results_dir / f"{entry.student}.json", entry, stamp)
    ]


def collect(entries, results_dir):
    """{student: result dict}, None for a student whose result was never written (an interrupted run)."""
    results = {}
    for entry in entries:
        try:
            results[entry.student] = json.loads((results_dir / f"{entry.student}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            results[entry.student] = None  # interrupted before this one was written
    return results


def _check_rubric_readable(path):
    """A missing rubric or one that is not JSON, refused at once (loading it imports torch: seconds)."""
    try:
        with open(path, "rb") as file:
            data = file.read(RUBRIC_BYTES + 1)
        if len(data) > RUBRIC_BYTES:
            raise BatchError(f"--rubric {path}: larger than {RUBRIC_BYTES // 1024} kB; a rubric is a few kB")
        json.loads(data)
    except OSError as error:
        raise BatchError(f"--rubric {path}: {error.strerror or error}") from None
    except (ValueError, RecursionError) as error:  # as rubric.load says it
        raise BatchError(f"--rubric {path}: not a JSON rubric: {type(error).__name__}: {str(error)[:200]}") from None


def _check_rubric(path):
    """Refuse a rubric that cannot be read before anything starts, as `check` does."""
    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: once the zygote has started (run)

    try:
        rubric_module.load(path)
    except rubric_module.RubricError as error:
        raise BatchError(f"--rubric {error}") from None


def _private_folders(out):
    """OUT/results, made so that only the grading user can read what the batch writes (scores, messages
    that quote the reference's answers) and return it.

    A new OUT is created 0700. An existing OUT keeps its mode: the user chose it, and it may be a shared
    folder (`--out .`, or /tmp, which root must never lock down); every file the batch writes directly
    in it is 0600 instead. OUT/results is the batch's own folder: created 0700, or tightened to 0700.
    """
    results_dir = out / "results"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if not out.is_dir():
            out.mkdir(mode=0o700)
        if results_dir.is_symlink() or not results_dir.is_dir():
            results_dir.mkdir(mode=0o700)
        results_dir.chmod(0o700)  # also one made by an older version with the usual 0755
    except OSError as error:
        raise BatchError(f"--out {out}: cannot make {error.filename or out}: {error.strerror or error}") from None
    return results_dir


# A top-level `import matplotlib...` or `from matplotlib...`: at the start of a line of a .py, or of a
# source line in a notebook's JSON. Imports inside functions (the stub's drawing code) never run.
_TOP_LEVEL_MATPLOTLIB = re.compile(rb'(?m)(^|")(import|from)[ \t]+matplotlib')


def preloads(entries):
    """The modules worth importing once in the zygote rather than in every child: matplotlib (0.8 s
    of CPU) if a submission imports it at its top level, as notebooks do; nothing otherwise."""
    for entry in entries:
        if entry.path is None:
            continue
        try:
            text = read_bytes(entry.path)  # never a pipe or a device, never more than grading would read
        except SubmissionError:
            continue  # grading will say what is wrong with it
        if _TOP_LEVEL_MATPLOTLIB.search(text):
            return ("matplotlib.pyplot",)
    return ()


def _grade_all(todo, results_dir, settings, devices, stamp, zygote, progress):
    import torch  # noqa: PLC0415 -- torch: once the zygote has started (run)

    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: once the zygote has started (run)

    from . import recording  # noqa: PLC0415 -- torch: once the zygote has started (run)

    torch.set_num_threads(1)  # before any torch work: no thread pool to break in the forked lanes
    rubric = rubric_module.load(settings.rubric_path)
    errors = [entry for entry in todo if entry.path is None]
    for entry in errors:  # discovery said why: a result that says so, without starting a lane
        report = _error_report(entry, rubric, settings, devices, stamp)
        write_json(report, results_dir / f"{entry.student}.json", PRIVATE)
        if settings.feedback:
            _feedback_page(results_dir, entry.student, report, None)
        if progress:
            progress.advance(display_name(entry.student, entry.name), "error")
    gradable = [entry for entry in todo if entry.path is not None]
    if not gradable:
        return
    try:
        replay = recording.record(rubric, settings.seed, devices, jobs=settings.jobs)
    except recording.RecordingError as error:
        raise BatchError(str(error)) from None
    zygote.hold_replay({test: recorded.prepared for test, recorded in replay.items()})  # before the lanes fork it
    if settings.feedback:
        warm(rubric.parts)  # before the lanes fork: what every page shares, computed once
    count = max(1, min(settings.jobs, len(gradable)))
    lanes = _Lanes(zygote, (rubric, settings, devices, stamp, replay, results_dir))
    waiting = list(reversed(gradable))
    shown = {entry.student: display_name(entry.student, entry.name) for entry in gradable}  # the progress line's
    for _lane in range(count):
        lanes.start(waiting.pop() if waiting else None)
    from . import class_files  # noqa: F401, PLC0415 -- the class report's matplotlib (0.5 s), loaded while the lanes grade

    try:
        remaining = len(gradable)
        while remaining:
            for lane, student, status in lanes.finished(settings.budget + deadline.MARGIN):
                remaining -= 1
                if progress:
                    progress.advance(shown.get(student, student), status)
                if lane is not None:
                    lane.assign(waiting.pop() if waiting else None)
                elif waiting:  # the lane was ended (see _Lanes.finished): a fresh one takes its place
                    lanes.start(waiting.pop())
    except BaseException:  # Ctrl-C: stop the lanes now; each result is written whole or not at all
        lanes.close(now=True)
        raise
    lanes.close()


class _Lane:
    """One grading lane as the driver sees it: a forked process with a zygote of its own, graded one
    submission at a time over a pipe of its own (a lane that is ended takes no one else's work with it)."""

    def __init__(self, process, connection):
        self.process, self.connection = process, connection
        self.entry, self.started, self.events = None, 0.0, []

    def assign(self, entry):
        """Hand the lane its next submission (None: stop). A lane that died meanwhile is found by
        _Lanes.finished (its pipe ends), which says so in that submission's result."""
        self.entry, self.started, self.events = entry, time.monotonic(), []
        try:
            self.connection.send(entry)
        except OSError:
            pass


class _Lanes:
    """The driver's lanes, and the hard deadline behind each submission's budget: a lane still on one
    submission `deadline.MARGIN` seconds past its budget (or that died) is killed with its zygote and
    sandboxes; the submission gets a result that keeps the verdicts the lane had reported and says why
    the rest were not reached, and a fresh lane, forked from this warm process, takes the next one."""

    def __init__(self, zygote, arguments):
        self.zygote, self.arguments, self.lanes = zygote, arguments, []
        self.context = multiprocessing.get_context("fork")

    def start(self, entry):
        ours, theirs = self.context.Pipe()
        lane_zygote = self.zygote.sibling()
        process = self.context.Process(target=_lane, args=(lane_zygote, theirs, *self.arguments), daemon=True)
        process.start()
        lane_zygote.control.close()  # the lane holds it now: it ends when the lane does
        theirs.close()
        lane = _Lane(process, ours)
        self.lanes.append(lane)
        lane.assign(entry)
        return lane

    def finished(self, seconds):
        """[(lane or None, student, status)] for the submissions done within a second or so; None for a
        lane that was ended, whose submission's result this process wrote."""
        busy = [lane for lane in self.lanes if lane.entry is not None]
        if not busy:
            raise BatchError("the grading lanes ended with submissions left; run the same command again to grade them")
        now = time.monotonic()
        wait = max(0.0, min(1.0, *(lane.started + seconds - now for lane in busy)))
        ready = multiprocessing.connection.wait([lane.connection for lane in busy], timeout=wait)
        done = []
        for lane in busy:
            if lane.connection in ready:
                try:
                    while lane.connection.poll():
                        kind, value = lane.connection.recv()
                        if kind == "event":
                            lane.events.append(value)
                        else:
                            done.append((lane, lane.entry.student, value))
                            lane.entry = None
                            break
                except (EOFError, OSError):  # the lane died: a crash, or the kernel's memory killer
                    done.append(self._end(lane, f"ended abruptly ({_exit_of(lane.process)})", timed_out=False))
                    continue
            if lane.entry is not None and time.monotonic() > lane.started + seconds:
                done.append(self._end(lane, f"ran past {seconds:g} s"))
        return done

    def _end(self, lane, reason, timed_out=True):
        """Kill `lane`, write its submission's result; (None, student, status)."""
        lane.process.kill()
        lane.process.join()
        lane.connection.close()
        self.lanes.remove(lane)
        rubric, settings, devices, stamp, _replay, results_dir = self.arguments
        entry, events = lane.entry, lane.events
        from ..grading import overrun_report  # noqa: PLC0415 -- torch: once the zygote has started (run)

        report = _stamped(
            overrun_report(
                entry.path,
                rubric,
                events,
                reason,
                budget=settings.budget,
                seed=settings.seed,
                devices=devices,
                elapsed=time.monotonic() - lane.started,
                timed_out=timed_out,
            ),
            entry,
            stamp,
        )
        report = counted_stop(report, results_dir, entry, stamp)
        for partial in results_dir.glob(f".{entry.student}.json.*{PARTIAL_SUFFIX}"):  # cut off mid-write
            partial.unlink(missing_ok=True)
        write_json(report, results_dir / f"{entry.student}.json", PRIVATE)
        if settings.feedback:
            _feedback_page(results_dir, entry.student, report, None)
        return None, entry.student, report.status

    def close(self, now=False):
        """Stop every lane: `now` kills them (Ctrl-C); else each has been told to stop, and is waited for."""
        ends_by = time.monotonic() + (0 if now else 5)
        for lane in self.lanes:
            lane.process.join(timeout=max(0.0, ends_by - time.monotonic()))
            if lane.process.is_alive():
                lane.process.kill()
                lane.process.join()


def _exit_of(process):
    process.join(timeout=1)
    code = process.exitcode
    return f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"


def _lane(zygote, connection, rubric, settings, devices, stamp, replay, results_dir):
    """One grading lane (a forked process): grade what the driver hands it, write each result, and tell the
    driver each verdict as it is reached (so that a lane ended past the deadline loses none of them)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report; it ends the lanes
    from ..grading import grade  # noqa: PLC0415 -- torch: once the zygote has started (run)

    while (entry := connection.recv()) is not None:
        plots = None
        if settings.feedback:
            plots = PlotRuns(rubric.parts)
        try:
            report = _stamped(
                grade(
                    entry.path,
                    zygote=zygote,
                    rubric=rubric,
                    seed=settings.seed,
                    devices=devices,
                    budget=settings.budget,
                    replay=replay,
                    after=plots,
                    tell=lambda *event: connection.send(("event", event)),
                ),
                entry,
                stamp,
            )
        except Exception as error:  # noqa: BLE001 -- a bug of the grader's costs this result, not the batch
            failed = replace(entry, error=grader_failed(error))
            report = _error_report(failed, rubric, settings, devices, stamp)
        write_json(report, results_dir / f"{entry.student}.json", PRIVATE)
        if plots is not None:
            _feedback_page(results_dir, entry.student, report, plots.runs)
        connection.send(("done", report.status))
    zygote.close()


def grader_failed(error):
    """The verdict of a submission on which the grader itself failed (a bug of ours, not the student's)."""
    return _("the grader failed on this submission: {error}").format(error=f"{type(error).__name__}: {error}")


def _feedback_page(results_dir, student, report, runs):
    """OUT/feedback/<student>.html, written in the lane as soon as the result is (see grader.outputs.feedback)."""
    write_page(results_dir.parent / FOLDER, student, report.to_dict(), runs)


def _stamped(report, entry, stamp):
    """The report with the batch's facts: the student id, the layout, and the fingerprint."""
    return replace(
        report,
        batch={
            "student": entry.student,
            "name": entry.name,
            "layout": entry.layout,
            "fingerprint": stamp,
            **lms_facts(entry),
        },
    )


def lms_facts(entry):
    """What a gradebook needs to find the student(s) again: the LMS's id and, for a group, its members."""
    facts = {"lms_id": entry.lms_id} if entry.lms_id else {}
    if entry.group:
        facts["group"] = True
    if entry.members:
        facts["members"] = [asdict(member) for member in entry.members]
    return facts


def _error_report(entry, rubric, settings, devices, stamp):
    from ..grading import with_visibility  # noqa: PLC0415 -- torch: once the zygote has started (run)

    tests = tuple(
        TestResult(t.part, t.test, t.title, t.points, False, _("not graded: {reason}").format(reason=entry.error))
        for t in rubric.tests
    )
    report = GradeReport(
        submission=entry.error,
        sha256="",
        tests=with_visibility(tests, rubric),
        output=entry.error,
        grader_version=__version__,
        seed=settings.seed,
        devices=tuple(devices),
        execution_time=0.0,
        status="error",
    )
    return _stamped(report, entry, stamp)
