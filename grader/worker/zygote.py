"""Untrusted side, process entry: `python -m grader.worker.zygote CONTROL_FD`.

The zygote imports torch once, then waits on its control socket (SOCK_SEQPACKET: one request a message,
naming a work folder that holds `submission.json`). With each request it receives a fresh socket
(SCM_RIGHTS), forks, and the child becomes a sandbox for one submission: it loads the code and
answers calls on that socket until the grader closes it. A crash, exit or hang costs one child; the
next one forks in milliseconds, already warm.
"""

import json
import os
import signal
import socket
import sys

import matplotlib

matplotlib.use("Agg")  # a submission's plt.show() must never open a window
import numpy  # noqa: E402,F401 -- imported once here, so every child starts warm
import torch  # noqa: E402

from . import loader, operations, protocol, sandbox  # noqa: E402

torch.set_num_threads(1)  # single-step tensors are tiny: threads cost more than they give


def serve(channel, request):
    """The child: enter the sandbox, load the submission, answer calls until the grader hangs up."""
    stream = channel.makefile("rwb", buffering=0)
    limits = sandbox.Limits(**request.get("limits", {}))
    stdout, stderr, notes = sandbox.enter(request["workdir"], limits)

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
        operation = operations.OPERATIONS.get(message.get("op"))
        if operation is None:
            reply({"ok": False, "error": {"kind": "ProtocolError", "message": f"no operation {message.get('op')!r}"}})
            continue
        arguments = {key: unwrap(protocol.from_wire(value)) for key, value in message.get("args", {}).items()}
        outcome = {}

        def call():
            outcome["value"] = operation(namespace, **arguments)

        error = loader.run_with_time_limit(call, float(message.get("seconds", 10.0)))
        if error is None:
            try:
                reply({"ok": True, "value": protocol.to_wire(outcome["value"])})
            except Exception as failure:  # noqa: BLE001 -- e.g. a hostile object in the result
                reply({"ok": False, "error": loader.describe_error(failure)})
        else:
            reply({"ok": False, "error": error})


def unwrap(value):
    """Wire values as plain tensors, lists, dicts and numbers for the operations."""
    if isinstance(value, protocol.WireTensor):
        return value.tensor
    if isinstance(value, list):
        return [unwrap(item) for item in value]
    if isinstance(value, tuple):
        return tuple(unwrap(item) for item in value)
    if isinstance(value, dict):
        return {key: unwrap(item) for key, item in value.items()}
    return value


def main(control_fd):
    control = socket.socket(fileno=control_fd)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    children = []
    try:
        while True:
            data, fds, _, _ = socket.recv_fds(control, 64 * 1024, 1)
            if not data:
                break
            request = json.loads(data.decode("utf-8"))
            pid = os.fork()
            if pid == 0:
                control.close()
                try:
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
    main(int(sys.argv[1]))
