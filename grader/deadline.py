"""Trusted side: the hard deadline behind a submission's budget, which holds whatever the grader is doing.

The budget is checked between tests and bounds every reply of the sandbox, and the grader's own work on
a submission's data is kept linear and capped. This is the backstop for a slow path nobody found: the
work runs in a forked child of the grader, which is killed when it runs past its deadline. A thread or
a signal handler would not do: a regular expression or `ast.parse` holds the interpreter in one C call
that neither can interrupt. What the child reports along the way (each test's verdict) reaches the
parent as it is made, so the verdicts reached before the overrun are kept.

The child is the grader's own code on data it parsed itself (never student code), so what it sends
back is pickled: it is the same program talking to itself.
"""

import os
import pickle
import re
import select
import signal
import struct
import time

from grader.i18n import _

#: Seconds a submission's grading may run past its budget before its process is ended. The budget's own
#: checks stop an honest run within about 2 s of it (a reply's grace), so this margin never ends one.
MARGIN = 5.0

_HEADER = struct.Struct(">Q")


class Overrun:
    """What a bounded run gives when it did not finish: why, and whether for time (what it had reported by
    then is run_bounded's third value, as for a run that finished)."""

    def __init__(self, reason, timed_out):
        self.reason, self.timed_out = reason, timed_out

    def __repr__(self):
        return f"Overrun({self.reason!r}, timed_out={self.timed_out})"


def run_bounded(work, seconds):
    """`work(report)` in a forked child, ended after `seconds` of wall-clock time.

    `report(item)` sends `item` to this process at once. Returns (True, work's return value, [items]) when
    the child finished, else (False, Overrun, [items]): past its time, or ended some other way (a crash,
    the kernel's out-of-memory killer). The child's own exceptions come back raised here.
    """
    read_end, write_end = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        os.close(read_end)
        _child(work, write_end)
    os.close(write_end)
    reported, outcome, status = [], None, 0
    try:
        with os.fdopen(read_end, "rb", buffering=0) as pipe:
            for kind, value in _messages(pipe, started + seconds):
                if kind == "item":
                    reported.append(value)
                else:
                    outcome = (kind, value)
    finally:
        status = _end(pid)
    if outcome is None:
        timed_out = time.monotonic() >= started + seconds
        why = f"ran past {seconds:g} s" if timed_out else f"ended abruptly ({_describe(status)})"
        return False, Overrun(why, timed_out), reported
    kind, value = outcome
    if kind == "raised":
        raise value
    return True, value, reported


def _child(work, descriptor):
    code = 1
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends this child
        with os.fdopen(descriptor, "wb", buffering=0) as pipe:
            try:
                value = work(lambda item: _send(pipe, ("item", item)))
                _send(pipe, ("done", value))
            except Exception as error:  # noqa: BLE001 -- a grader bug: raised again in the parent
                _send(pipe, ("raised", error))
        code = 0
    finally:
        os._exit(code)  # no atexit handlers, no flushing of buffers the parent owns too


def _send(pipe, message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_HEADER.pack(len(data)) + data)


def _messages(pipe, deadline):
    """The child's messages until it closes the pipe or `deadline` passes."""
    buffer = b""
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([pipe], [], [], left)[0]:
            return
        chunk = pipe.read(1 << 16)
        if not chunk:
            return
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            yield pickle.loads(buffer[_HEADER.size : _HEADER.size + size])
            buffer = buffer[_HEADER.size + size :]


def _end(pid):
    """Kill the child (harmless once it has exited: it stays a zombie until reaped) and reap it; its status."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return os.waitpid(pid, 0)[1]


def _describe(status):
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            return f"signal {number}, {signal.Signals(number).name}"
        except ValueError:
            return f"signal {number}"
    return f"exit code {os.WEXITSTATUS(status)}"


#: The reasons a run was ended, as `run_bounded` and the batch's lanes write them (in English: the result's
#: `stopped.reason` is a fact, like its status) and as they are shown in a verdict (`shown_reason`).
_RAN_PAST = re.compile(r"ran past (\S{1,30}) s")
_ENDED = re.compile(r"ended abruptly \((?:(exit code) (-?\d{1,10})|signal (\d{1,4})(, \w{1,20})?)\)")


def shown_reason(reason):
    """`reason` ("ran past 125 s", "ended abruptly (signal 9, SIGKILL)", "ended abruptly (exit code 1)") in the
    language this process speaks; any other text unchanged."""
    if match := _RAN_PAST.fullmatch(reason):
        return _("ran past {seconds} s").format(seconds=match.group(1))
    if match := _ENDED.fullmatch(reason):
        if match.group(1):
            status = _("exit code {code}").format(code=match.group(2))
        else:
            status = _("signal {number}").format(number=match.group(3)) + (match.group(4) or "")
        return _("ended abruptly ({status})").format(status=status)
    return reason
