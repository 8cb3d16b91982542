"""Trusted side: one submission loaded in a sandboxed child of the zygote (see launcher.py): its calls,
timeouts and restarts."""

import os
import re
import select
import signal
import time
from dataclasses import asdict

from grader.i18n import N_, _

from . import protocol
from .protocol import Limits

LOAD_SECONDS = 60.0
CALL_SECONDS = 5.0  # of CPU time: a real call takes microseconds; this bounds what an endless loop costs
WALL_FACTOR = protocol.WALL_FACTOR  # the wall-clock bound beside it (see protocol.py)
OUTPUT_SAMPLE = 2000  # characters of printed output kept for the report
_GRACE_SECONDS = 2.0  # the child stops a slow call itself; past this margin we kill it
MONITOR_SECONDS = 5.0  # for a monitored sandbox's clean-up (see confine.end_sandbox), then it is killed
# What the sandbox was doing when a reply failed, in a verdict ("the process ended while loading the submission");
# an operation's own name (per_key, run_steps) is said as it is.
LOADING = N_("loading the submission")
A_BATCH = N_("a batch of calls")


class WorkerError(Exception):
    """A call that produced no result. `kind` says why; `output` is what the student code printed."""

    def __init__(self, kind, message, trace="", output=""):
        super().__init__(f"{kind}: {message}")
        self.kind, self.message, self.trace, self.output = kind, message, trace, output


class CallFailed(WorkerError):
    """The student's code raised (or ran past its time, or called sys.exit) during the call."""


class WorkerDied(WorkerError):
    """The sandbox process ended or broke the protocol (os._exit, a crash, the memory limit...)."""


class Sandbox:
    """A submission loaded in its own process. `call(op, **args)` runs one operation of the worker.

    After the process dies or hangs it is killed, and the next call starts a fresh one (a fork of the
    warm zygote, then the submission is loaded again), so one bad call costs only itself.
    """

    def __init__(self, zygote, chunks, limits=Limits(), load_seconds=LOAD_SECONDS, deadline=None):
        self.zygote, self.limits, self.load_seconds = zygote, limits, load_seconds
        self.deadline = deadline  # time.monotonic() by which the whole submission must be done, or None
        self.chunks = [dict(chunk) for chunk in chunks]
        self.channel = self.stream = None
        self.pids = []  # the zygote's child and the sandbox's PID 1: killing them ends every process inside
        self.isolation = None  # what isolates the sandbox (confine.describe()), as the zygote reports it
        self.load_report = None
        self.restarts = 0
        self.printed = 0  # characters the submission printed, over all calls (most are dropped)
        self.output_sample = ""  # the start of it
        self._start()

    def _start(self):
        try:
            self.channel, self.pids, self.isolation = self.zygote.fork(asdict(self.limits))
        except (RuntimeError, OSError) as error:
            raise WorkerDied("Died", _("no sandbox could be started: {error}").format(error=error)) from None
        self.stream = self.channel.makefile("rwb", buffering=0)
        try:  # the code travels on the sandbox's own socket: it sees no folder of ours
            protocol.send(self.stream, {"chunks": self.chunks})
        except OSError:
            self._kill()
            raise WorkerDied("Died", _("the sandbox ended before it received the submission")) from None
        reply = self._receive(self.load_seconds, _(LOADING))
        self.load_report = self._checked_load_report(reply["value"])

    def call(self, op, seconds=CALL_SECONDS, **arguments):
        """Run operation `op` in the sandbox; returns its decoded value or raises a WorkerError."""
        if self.stream is None:
            self.restarts += 1
            self._start()
        message = {
            "op": op,
            "seconds": seconds,
            "args": {key: protocol.to_wire(value) for key, value in arguments.items()},
        }
        try:
            protocol.send(self.stream, message)
        except OSError:
            self._kill()
            raise WorkerDied("Died", _("the worker process had ended before the call")) from None
        reply = self._receive(seconds * WALL_FACTOR + _GRACE_SECONDS, op)
        return self._decode(reply["value"], op)

    @staticmethod
    def prepare(calls):
        """[(op, arguments), ...] as wire data for call_many: encode once, send to many submissions."""
        return [
            {"op": op, "args": {key: protocol.to_wire(value) for key, value in arguments.items()}}
            for op, arguments in calls
        ]

    def call_many(self, prepared, seconds=CALL_SECONDS, total_seconds=30.0, decode=True):
        """Run prepared calls (see `prepare`) in one round trip; returns [{"ok", "value" or "error"}, ...].

        With decode=False the answers come back as wire data, undecoded (to compare them as they are).

        Each call has `seconds`; the batch as a whole at most `total_seconds`. Raises WorkerError if
        the process dies or hangs (the caller then goes back to one call at a time).
        """
        wire = self._batch({"op": "many", "seconds": seconds, "calls": prepared}, len(prepared), total_seconds)
        return wire if not decode else self.decode_answers(wire)

    def replay(self, test, recorded, seconds=CALL_SECONDS, total_seconds=30.0):
        """The undecoded answers to the calls of `recorded` (a properties.Recorded), as call_many(decode=False).

        When the zygote holds them decoded (Zygote.hold_replay), only the test's name travels and the
        child decodes nothing; an answer whose bytes are those of the recorded answers is not parsed:
        the recorded answers are returned.
        """
        if test not in getattr(self.zygote, "replayable", ()):  # the calls travel, stopped at a failure as held ones
            return self._batch(
                {"op": "many", "seconds": seconds, "calls": recorded.prepared, "until_failure": True},
                len(recorded.prepared),
                total_seconds,
            )
        if recorded.reply is None:  # once per test and lane: what a worker sends when it answers as recorded
            recorded.reply = protocol.encode({"ok": True, "value": recorded.answers, "output": ""})
        return self._batch(
            {"op": "replay", "seconds": seconds, "test": test},
            len(recorded.prepared),
            total_seconds,
            expected=(recorded.reply, recorded.answers),
        )

    def _batch(self, message, count, total_seconds, expected=None):
        """Send a batch request for `count` answers; their wire list, or expected[1] (see _receive)."""
        if self.stream is None:
            self.restarts += 1
            self._start()
        try:
            protocol.send(self.stream, message)
        except OSError:
            self._kill()
            raise WorkerDied("Died", _("the worker process had ended before the call")) from None
        reply = self._receive(
            min(total_seconds, message["seconds"] * count * WALL_FACTOR) + _GRACE_SECONDS,
            _(A_BATCH),
            expected and expected[0],
        )
        if reply is None:
            return expected[1]
        wire = reply["value"]
        if not isinstance(wire, list) or len(wire) != count:
            self._kill()
            raise WorkerDied("ProtocolError", _("a malformed answer to a batch of calls"))
        return wire

    def decode_answers(self, wire):
        """Answers of call_many(decode=False), decoded and checked."""
        answers = self._decode(wire, _(A_BATCH))
        if not isinstance(answers, list) or not all(
            isinstance(answer, dict) and isinstance(answer.get("ok"), bool) and (not answer["ok"] or "value" in answer)
            for answer in answers
        ):
            self._kill()
            raise WorkerDied("ProtocolError", _("a malformed answer to a batch of calls"))
        return answers

    def _decode(self, wire, doing):
        """protocol.from_wire(wire); whatever goes wrong there is the worker's doing: it is killed."""
        try:
            return protocol.from_wire(wire)
        except Exception as error:  # noqa: BLE001 -- every byte from the sandbox is hostile; no error may escape
            self._kill()
            raise WorkerDied(
                "ProtocolError",
                _("a malformed answer while {doing}: {error}").format(doing=doing, error=_describe(error)),
            ) from None

    def _checked_load_report(self, report):
        """The load report (what the loader found), checked: the checks and the summary read these fields."""

        def strings(value):
            return isinstance(value, list) and all(isinstance(item, str) for item in value)

        fields = ("where", "kind", "message")
        if (
            isinstance(report, dict)
            and strings(report.get("names"))
            and strings(report.get("notes", []))
            and type(report.get("skipped")) is int
            and isinstance(report.get("errors"), list)
            and all(
                isinstance(error, dict) and all(isinstance(error.get(field), str) for field in fields)
                for error in report["errors"]
            )
        ):
            return report
        self._kill()
        raise WorkerDied("ProtocolError", _("a malformed reply while {doing}").format(doing=_(LOADING)))

    def _receive(self, seconds, doing, expected=None):
        """The reply, checked; None if its bytes are `expected` (a reply known to be well formed).

        The whole reply has `seconds` (and no more than what is left of the submission's deadline): a
        sandbox that trickles a byte now and then runs out of it like one that sends nothing."""
        started = time.monotonic()
        deadline = started + seconds if self.deadline is None else min(started + seconds, self.deadline)

        def before_read():
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError()
            self.channel.settimeout(left)

        try:
            # A reply may be as long as the one expected: it is compared as bytes, not parsed.
            body = protocol.receive_bytes(
                self.stream, max(protocol.MAX_MESSAGE_BYTES, len(expected or b"")), before_read
            )
            if body == expected:
                return None
            reply = protocol.parse(body)
        except TimeoutError:
            self._kill()
            if self.deadline is not None and time.monotonic() >= self.deadline:
                raise WorkerDied(
                    "Timeout", _("the submission used up its time while {doing}: killed").format(doing=doing)
                ) from None
            raise WorkerDied(
                "Timeout",
                _("no answer within {seconds:g} s while {doing}: killed").format(seconds=seconds, doing=doing),
            ) from None
        except EOFError:
            self._kill()
            raise WorkerDied(
                "Died",
                _(
                    "the process ended while {doing} (os._exit, a crash, or a resource limit) after {seconds:.1f} s"
                ).format(doing=doing, seconds=time.monotonic() - started),
            ) from None
        except Exception as error:  # noqa: BLE001 -- ProtocolError, OSError, MemoryError...: no error may escape
            self._kill()
            raise WorkerDied(
                "ProtocolError",
                _("a malformed reply while {doing}: {error}").format(doing=doing, error=_describe(error)),
            ) from None
        if not isinstance(reply.get("ok"), bool) or (reply["ok"] and "value" not in reply):
            self._kill()
            raise WorkerDied("ProtocolError", _("a malformed reply while {doing}").format(doing=doing))
        self._note_output(reply.get("output"))
        if not reply["ok"]:
            failure = reply.get("error") if isinstance(reply.get("error"), dict) else {}
            raise CallFailed(
                str(failure.get("kind", "Error"))[:100],
                str(failure.get("message", ""))[:1000],
                str(failure.get("trace", ""))[:3000],
                str(reply.get("output", ""))[:10000],
            )
        return reply

    def _note_output(self, output):
        if not isinstance(output, str) or not output:
            return
        dropped = re.search(r"\[\.\.\. ([0-9]{1,15}) more characters of output dropped\]$", output)
        self.printed += len(output) + (int(dropped.group(1)) if dropped else 0)
        if len(self.output_sample) < OUTPUT_SAMPLE:
            self.output_sample = (self.output_sample + output)[:OUTPUT_SAMPLE]

    def _kill(self):
        if getattr(self.zygote, "monitored", False) and len(self.pids) == 2 and all(self.pids):
            # Without namespaces: end the sandbox's session, then give its monitor (the first pid) the
            # time to end whatever the submission started elsewhere and to remove its files.
            monitor, leader = self.pids
            for kill in (os.killpg, os.kill):
                try:
                    kill(leader, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            _wait_gone(monitor, MONITOR_SECONDS)
            self.pids = [monitor]
        for index, pid in enumerate(self.pids):
            if not pid:
                continue
            # The first is a session leader: its group holds whatever the code started (without namespaces).
            for kill in (os.killpg, os.kill) if index == 0 else (os.kill,):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        for closable in (self.stream, self.channel):
            if closable is not None:
                try:
                    closable.close()
                except OSError:
                    pass
        self.stream = self.channel = None
        self.pids = []

    def close(self):
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _wait_gone(pid, seconds):
    """Wait, at most `seconds`, for process `pid` (not a child of ours) to end."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # no pidfd here, or already gone
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            except PermissionError:
                pass
            time.sleep(0.005)
        return
    try:
        select.select([handle], [], [], seconds)
    finally:
        os.close(handle)


def _describe(error):
    """An exception in a sentence, for a verdict: a ProtocolError says it all, others name their type."""
    text = str(error)[:300]
    return text if isinstance(error, protocol.ProtocolError) else f"{type(error).__name__}: {text}"
