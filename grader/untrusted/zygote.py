"""Untrusted side, process entry: `python -m grader.untrusted.zygote CONTROL_FD [PRELOAD ...]`.

At its start, before torch, the zygote enters namespaces of its own (confine.isolate_worker); then it
imports torch and what every child needs, and pivots into the allow-list root (confine/), from which
nothing of the grader, the project or the submissions can be seen. It then waits on its control socket
(SOCK_SEQPACKET: one request a message). With each request it receives a fresh socket (SCM_RIGHTS) and
forks; the child builds one submission's sandbox (its own namespaces, with the submission's code as PID 1
of the new one), receives the code on that socket, loads it and answers calls until the grader closes
the socket. A crash, exit or hang costs one sandbox; the next one forks in milliseconds, already warm.

A batch also hands the zygote, once, the calls it will replay on every submission (an open file of wire
data, by test): decoded here, before any fork, every child inherits them ready to run.
"""

import gc
import importlib
import importlib.util
import json
import os
import signal
import socket
import sys
import tempfile
from pathlib import Path

from . import confine, loader, precompiled

# Imported by _boot(), once the zygote has its namespaces (a user namespace needs a single thread, and
# importing torch starts threads).
protocol = dispatch = None

_PACKAGE = Path(__file__).resolve().parents[1]  # the kit's `grader` package folder
_REPLAY: dict = {}  # test -> [(operation, decoded arguments), ...]: see _load_replay


def serve(channel, request, reduced_workdir=None):
    """The sandbox (PID 1 of its namespace): load the submission, answer calls until the grader hangs up."""
    stream = channel.makefile("rwb", buffering=0)
    limits = protocol.Limits(**request.get("limits", {}))
    stdout, stderr, notes = confine.enter(limits, reduced_workdir)
    sandbox = os.getpid()

    def reply(message):
        if os.getpid() != sandbox:  # a process the submission forked, back out of its code: it does not answer
            os._exit(0)
        message["output"] = (stdout.take() + stderr.take())[: 2 * limits.output_bytes]
        protocol.send(stream, message)

    try:
        first = protocol.receive(stream)  # the submission, sent by the grader: [{label, filename, source}]
    except EOFError:
        os._exit(0)
    chunks = [(chunk["label"], chunk["filename"], chunk["source"]) for chunk in first["chunks"]]
    module, report = loader.load(chunks)
    confine.end_other_processes()
    namespace = module.__dict__
    reply(
        {
            "ok": True,
            "value": {
                "errors": report["errors"],
                "skipped": report["skipped"],
                "names": sorted(name for name in namespace if not name.startswith("__")),
                "notes": notes,
            },
        }
    )
    while True:
        try:
            message = protocol.receive(stream)
        except EOFError:
            os._exit(0)
        seconds = message.get("seconds", 5.0)
        if message.get("op") == "many":  # a batch of calls, answered together
            calls = [(call.get("op"), call.get("args", {})) for call in message.get("calls", [])]
            answers = _run_batch(dispatch.perform, namespace, calls, seconds, bool(message.get("until_failure")))
            answer = {"ok": True, "value": protocol.to_wire(answers)}
        elif message.get("op") == "replay":  # a batch of the calls decoded before the fork (batch grading)
            # Taken, not read: the student's code may change its inputs in place, so none runs twice.
            calls = _REPLAY.pop(message.get("test"), None)
            if calls is None:
                answer = {"ok": False, "error": {"kind": "ProtocolError", "message": "no such calls to replay"}}
            else:
                answers = _run_batch(dispatch.perform_decoded, namespace, calls, seconds, until_failure=True)
                answer = {"ok": True, "value": protocol.to_wire(answers)}
        else:
            result = dispatch.perform(namespace, message.get("op"), message.get("args", {}), seconds)
            answer = {"ok": True, "value": result["value"].wire} if result["ok"] else result
        confine.end_other_processes()  # what the call started ends with it
        reply(answer)


_SKIPPED = {
    "ok": False,
    "error": {"kind": "Skipped", "message": "not run: an earlier call of the batch failed or ran out of time"},
}


def _run_batch(perform, namespace, calls, seconds, until_failure=False):
    """Each call's answer, until one runs out of time: the rest would likely too, so they are skipped
    (a part that loops costs one call's limit, not one per call).

    until_failure (a replay of recorded calls): skip the rest after any failed call. The grader uses no
    answer after a replayed call that failed (it grades that test live instead), and a part that fails
    slowly (a MemoryError after filling its memory: seconds a call) would otherwise spend the whole
    batch's time limit on every test, and with it the submission's budget for the parts that work."""
    answers = []
    for op, arguments in calls:
        stop = ("Timeout", "Skipped") if not until_failure else None
        if answers and not answers[-1]["ok"] and (stop is None or answers[-1]["error"].get("kind") in stop):
            answers.append(_SKIPPED)
        else:
            answers.append(perform(namespace, op, arguments, seconds))
    return answers


def _load_replay(fd):
    """Decode the calls in the file open at `fd` ({test: [{"op", "args"}, ...]}, written by the grader)."""
    with os.fdopen(fd, encoding="utf-8") as file:
        data = json.load(file)
    _REPLAY.clear()
    for test, calls in data.items():
        _REPLAY[test] = [(call["op"], dispatch.decode_arguments(call["args"])) for call in calls]
    return list(_REPLAY)


def _start_sandbox(fd, request, tell):
    """In the forked child (C1): build the sandbox, tell the zygote its leader's pid on `tell`, serve."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # as Python starts a program: the student's own
    channel = socket.socket(fileno=fd)
    limits = protocol.Limits(**request.get("limits", {}))
    workdir = None
    try:
        if confine.describe()["level"] != "full":  # the sandbox's own folder, removed by its monitor
            workdir = tempfile.mkdtemp(prefix="submission-", dir=os.getcwd())
        leader = confine.isolate_child(limits)
    except OSError as error:
        os.write(tell, json.dumps({"error": f"the sandbox could not be built: {error}"}).encode())
        os._exit(71)
    if leader:  # C1: the sandbox is C2 (PID 1 of its own namespace, or its monitored child); stay to end with it
        # Without namespaces the grader ends C2's session and waits for C1 to clean up after it.
        os.write(tell, json.dumps({"leader": leader, "monitor": workdir is not None}).encode())
        os.close(tell)
        channel.close()
        confine.wait_for_sandbox(leader)
        try:
            confine.end_sandbox(workdir)
        finally:
            os._exit(0)
    os.close(tell)
    serve(channel, request, workdir)


def main(control_fd):
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    # Ctrl-C reaches the whole process group: it is the grader's to handle (it stops the lanes and closes
    # this zygote). Dying of it here would first fail the sandbox a lane is asking for, and the lane could
    # write that failure as a student's result before the grader stops it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    confine.die_with_parent()
    isolation = confine.describe()
    children = []
    try:
        while True:
            data, fds, _, _ = socket.recv_fds(control, 64 * 1024, 1)
            if not data:
                break
            request = json.loads(data.decode("utf-8"))
            if request.get("role") == "replay":
                try:
                    answer = {"pid": 0, "tests": sorted(_load_replay(fds[0]))}
                except Exception as error:  # noqa: BLE001 -- the batch then sends the calls with each request
                    _REPLAY.clear()
                    answer = {"pid": 0, "tests": [], "error": repr(error)[:500]}
                control.sendall(json.dumps(answer).encode("utf-8"))
                continue
            # Out of the collector's sight, everything made so far (torch, the preloads, the replay's
            # inputs): a child's full collection would walk them all and write to every page it walks,
            # each of which the fork then copies (three times the page faults, +50% of a child's time).
            gc.freeze()
            told, tell = os.pipe()
            pid = os.fork()
            if pid == 0:
                control.close()
                os.close(told)
                try:
                    if request.get("role") == "zygote":  # a sibling: another warm zygote, for a parallel lane
                        os.close(tell)
                        main(fds[0])
                    else:
                        _start_sandbox(fds[0], request, tell)
                finally:
                    os._exit(70)
            os.close(tell)
            os.close(fds[0])
            children.append(pid)
            with os.fdopen(told, "rb") as pipe:
                news = json.loads(pipe.read(4096) or b"{}")
            control.sendall(json.dumps({"pid": pid, "isolation": isolation, **news}).encode("utf-8"))
    finally:
        for pid in children:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _boot(preloads):
    """Import, once, what every child needs, then leave every other file of the machine behind."""
    global protocol, dispatch
    # Once here, so that every child starts warm; after isolate_worker: torch starts threads (see above).
    import numpy  # noqa: F401, PLC0415 -- torch's own numpy, warm in every child
    import torch  # noqa: PLC0415 -- after isolate_worker

    from grader.sandbox import protocol  # noqa: PLC0415 -- imports torch

    from . import dispatch  # noqa: PLC0415 -- imports torch

    torch.set_num_threads(1)  # single-step tensors are tiny: threads cost more than they give
    # Printing a tensor imports more of torch on first use; do it once here, so no child pays for it.
    for dtype in (torch.float32, torch.float64, torch.int64, torch.bool):
        repr(torch.ones(2, 2, dtype=dtype)), repr(torch.zeros((), dtype=dtype))
    for name in preloads:  # modules no child should import itself (batch: matplotlib, for notebooks)
        importlib.import_module(name)
    precompiled.warm_from_stub()
    confine.enter_allowlist_root(os.getcwd(), _PACKAGE.parent, _kit_packages())


def _kit_packages():
    """The kit's own package folders (the grader, the reference), wherever this installation keeps them."""
    found = [str(_PACKAGE)]
    spec = importlib.util.find_spec("reference")
    if spec is not None and spec.submodule_search_locations:
        found.extend(spec.submodule_search_locations)
    return [os.path.realpath(folder) for folder in found]


if __name__ == "__main__":
    confine.isolate_worker()  # first: before any thread exists
    _boot(sys.argv[2:])
    main(int(sys.argv[1]))
