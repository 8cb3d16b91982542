"""Untrusted side, process entry: `python -m grader.untrusted.zygote CONTROL_FD`.

The zygote imports torch once, then waits on its control socket (SOCK_SEQPACKET: one request a message,
naming a work folder that holds `submission.json`). With each request it receives a fresh socket
(SCM_RIGHTS), forks, and the child becomes a sandbox for one submission: it loads the code and
answers calls on that socket until the grader closes it. A crash, exit or hang costs one child; the
next one forks in milliseconds, already warm.

A batch also hands the zygote, once, the calls it will replay on every submission (a JSON file of wire
data, by test): decoded here, before any fork, every child inherits them ready to run.
"""

import gc
import importlib
import json
import os
import signal
import socket
import sys

import numpy  # noqa: F401 -- imported once here, so every child starts warm
import torch

from .. import protocol
from . import confine, dispatch, loader, precompiled

# MPLBACKEND=Agg in the environment keeps a submission's plt.show() from opening a window.

torch.set_num_threads(1)  # single-step tensors are tiny: threads cost more than they give

# Printing a tensor imports more of torch on first use; do it once here, so no child pays for it.
for _dtype in (torch.float32, torch.float64, torch.int64, torch.bool):
    repr(torch.ones(2, 2, dtype=_dtype)), repr(torch.zeros((), dtype=_dtype))


def serve(channel, request):
    """The child: enter the sandbox, load the submission, answer calls until the grader hangs up."""
    stream = channel.makefile("rwb", buffering=0)
    limits = protocol.Limits(**request.get("limits", {}))
    stdout, stderr, notes = confine.enter(request["workdir"], limits, request.get("hidden", ()))

    def reply(message):
        message["output"] = (stdout.take() + stderr.take())[: 2 * limits.output_bytes]
        protocol.send(stream, message)

    with open("submission.json", encoding="utf-8") as file:  # written by the grader into the work folder
        chunks = [(chunk["label"], chunk["filename"], chunk["source"]) for chunk in json.load(file)]
    module, report = loader.load(chunks)
    namespace = module.__dict__
    reply({"ok": True, "value": {
        "errors": report["errors"],
        "skipped": report["skipped"],
        "names": sorted(name for name in namespace if not name.startswith("__")),
        "notes": notes,
        "pid": os.getpid(),
    }})
    while True:
        try:
            message = protocol.receive(stream)
        except EOFError:
            os._exit(0)
        seconds = message.get("seconds", 5.0)
        if message.get("op") == "many":  # a batch of calls, answered together
            answers = [dispatch.perform(namespace, call.get("op"), call.get("args", {}), seconds)
                       for call in message.get("calls", [])]
            reply({"ok": True, "value": protocol.to_wire(answers)})
        elif message.get("op") == "replay":  # a batch of the calls decoded before the fork (batch grading)
            # Taken, not read: the student's code may change its inputs in place, so none runs twice.
            calls = _REPLAY.pop(message.get("test"), None)
            if calls is None:
                reply({"ok": False, "error": {"kind": "ProtocolError", "message": "no such calls to replay"}})
                continue
            answers = [dispatch.perform_decoded(namespace, op, arguments, seconds) for op, arguments in calls]
            reply({"ok": True, "value": protocol.to_wire(answers)})
        else:
            answer = dispatch.perform(namespace, message.get("op"), message.get("args", {}), seconds)
            reply({"ok": True, "value": answer["value"].wire} if answer["ok"] else answer)


_REPLAY = {}  # test -> [(operation, decoded arguments), ...]: see _load_replay


def _load_replay(path):
    """Decode the calls in `path` ({test: [{"op", "args"}, ...]}, written by the grader) into _REPLAY."""
    with open(path, encoding="utf-8") as file:
        data = json.load(file)
    _REPLAY.clear()
    for test, calls in data.items():
        _REPLAY[test] = [(call["op"], dispatch.decode_arguments(call["args"])) for call in calls]
    return list(_REPLAY)


def main(control_fd):
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    confine.die_with_parent()
    children = []
    try:
        while True:
            data, fds, _, _ = socket.recv_fds(control, 64 * 1024, 1)
            if not data:
                break
            request = json.loads(data.decode("utf-8"))
            if request.get("role") == "replay":
                for fd in fds:
                    os.close(fd)
                try:
                    answer = {"pid": 0, "tests": sorted(_load_replay(request["path"]))}
                except Exception as error:  # noqa: BLE001 -- the batch then sends the calls with each request
                    _REPLAY.clear()
                    answer = {"pid": 0, "tests": [], "error": repr(error)[:500]}
                control.sendall(json.dumps(answer).encode("utf-8"))
                continue
            # Out of the collector's sight, everything made so far (torch, the preloads, the replay's
            # inputs): a child's full collection would walk them all and write to every page it walks,
            # each of which the fork then copies (three times the page faults, +50% of a child's time).
            gc.freeze()
            pid = os.fork()
            if pid == 0:
                control.close()
                try:
                    if request.get("role") == "zygote":  # a sibling: another warm zygote, for a parallel lane
                        main(fds[0])
                    else:
                        serve(socket.socket(fileno=fds[0]), request)
                finally:
                    os._exit(70)
            os.close(fds[0])
            children.append(pid)
            control.sendall(json.dumps({"pid": pid}).encode("utf-8"))
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


if __name__ == "__main__":
    for name in sys.argv[2:]:  # modules to preload, so that no child imports them (batch: matplotlib)
        importlib.import_module(name)
    precompiled.warm_from_stub()
    main(int(sys.argv[1]))
