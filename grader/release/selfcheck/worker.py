"""The student's side of the self-check, run as its own process: `python -m grader.worker REQUEST_JSON`
from the bundle's folder (grader/ is the bundle's package).

It imports torch, loads the submission, then answers each part's cases with what the student's code
returns, one JSON line per part on its standard output. It draws no conclusion: the pytest side judges.
Where os.fork exists, each submission runs in a forked child, watched with a deadline per part: a part
that crashes or hangs the child fails, and a new child runs the parts left. Elsewhere (Windows), or with
OPTIMKIT_SELFCHECK_SPAWN=1, parts run here one after the other and the pytest side restarts this process
after a part that hangs or crashes. It reads, loads and calls a submission with the grader's own modules,
which the release copies into the bundle unchanged: submission.py (with regular_files.py and notebook.py:
a notebook's cells become Python through IPython's own reader), loader.py (with precompiled.py) and
operations.py. So a file is read, its top level runs and its classes are called exactly as when graded.
"""

import contextlib
import io
import json
import os
import select
import signal
import sys
import time
import traceback

import torch  # once, before any fork: each child starts with it

from . import i18n, wire
from .i18n import _

PART_SECONDS = float(os.environ.get("OPTIMKIT_SELFCHECK_PART_SECONDS", "20"))  # a part's deadline
LOAD_SECONDS = 60.0  # the submission's top level (each statement also has the loader's limit of CPU time)


def main(argv):
    with open(argv[0], encoding="utf-8") as file:
        request = json.load(file)
    i18n.set_language(request.get("language", i18n.DEFAULT))  # the pytest side's: the release's language
    out = os.fdopen(os.dup(1), "w", encoding="ascii")  # the answers' channel; the student's prints go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(message):
        out.write(json.dumps(message) + "\n")
        out.flush()

    torch.set_num_threads(1)
    with open(request["cases"], encoding="utf-8") as file:
        cases = json.load(file)["parts"]
    use_fork = request["fork"] and hasattr(os, "fork")
    for index, path in enumerate(request["submissions"]):
        tagged = lambda message, index=index: emit(dict(message, sub=index))  # noqa: E731
        if use_fork:
            check_forked(path, request["parts"], cases, tagged)
        else:
            check_submission(path, request["parts"], cases, tagged)
        tagged({"event": "done"})


def check_forked(path, parts, cases, emit):
    """check_submission in a forked child; after a part that crashes or hangs it, in a new child for the
    parts left. Only this process's copy of torch is shared: each child starts from it, in milliseconds."""
    left, loaded = list(parts), False
    while left:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            channel = os.fdopen(write_end, "w", encoding="ascii")

            def relay(message, channel=channel):
                channel.write(json.dumps(message) + "\n")
                channel.flush()

            try:
                check_submission(path, left, cases, relay)
            finally:
                os._exit(0)
        os.close(write_end)
        current, ended, buffer = None, None, b""
        deadline = time.monotonic() + LOAD_SECONDS
        while ended is None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([read_end], [], [], wait)[0]:
                ended = "timeout"
                os.kill(pid, signal.SIGKILL)
                break
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                ended = "eof"
                break
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                message = json.loads(line)
                if message["event"] == "loaded":
                    if not loaded:
                        emit(message)
                    loaded = True
                    if "error" in message:
                        left = []
                elif message["event"] == "start":
                    current, deadline = message["part"], time.monotonic() + PART_SECONDS
                    emit(message)
                elif message["event"] == "part":
                    emit(message)
                    left.remove(message["part"])
                    current = None
        os.close(read_end)
        _pid, status = os.waitpid(pid, 0)
        if current is not None:  # this part hung or ended the child: it fails, the others go on
            if ended == "timeout":
                error = _("no answer within {seconds:g} s (an endless loop, or a very slow computation?)").format(
                    seconds=PART_SECONDS
                )
            else:
                error = _("the process running it ended abruptly ({how}), as os._exit or a crash does").format(
                    how=_how(status)
                )
            emit({"event": "part", "part": current, "error": error})
            left.remove(current)
        elif not loaded:
            why = (
                _("loading the submission took more than {seconds:g} s").format(seconds=LOAD_SECONDS)
                if ended == "timeout"
                else _("loading the submission ended abruptly ({how})").format(how=_how(status))
            )
            emit({"event": "loaded", "error": why})
            return
        elif left and ended:
            return  # ended between parts (the pytest side names what is missing)


def _how(status):
    if os.WIFSIGNALED(status):
        return _("signal {number}").format(number=os.WTERMSIG(status))
    return _("exit code {code}").format(code=os.waitstatus_to_exitcode(status))


def check_submission(path, parts, cases, emit):
    from . import submission  # noqa: PLC0415 -- beside this file in the bundle only (SHARED_FILES)

    try:
        read = submission.read(path)
    except submission.SubmissionError as error:
        emit({"event": "loaded", "error": _("the submission could not be read: {error}").format(error=error)})
        return
    except ImportError as error:  # a notebook, and no Jupyter here: nbformat and IPython read its cells
        emit(
            {
                "event": "loaded",
                "error": _(
                    "reading a notebook needs Jupyter's own packages ({error}): install them as README.md says, "
                    "python -m pip install notebook"
                ).format(error=error),
            }
        )
        return
    chunks = [(chunk["label"], chunk["filename"], chunk["source"]) for chunk in read.chunks]
    notes = list(read.notes)
    (namespace, errors), output = _printed(lambda: load(chunks))
    emit({"event": "loaded", "errors": errors, "notes": notes, "output": output})
    for part in parts:
        emit({"event": "start", "part": part})
        answers, output = _printed(lambda part=part: _here(lambda: answer_part(namespace, part, cases[part])))
        if part == "trajectory" and "answers" in answers:  # how train_f records, read as the grader reads it
            from . import trajectory_verdict  # noqa: PLC0415 -- beside this file in the bundle only (SHARED_FILES)

            answers["answers"]["source"] = trajectory_verdict.train_f_source(read.chunks)
        emit(dict(answers, event="part", part=part, output=output))


OUTPUT_CHARACTERS = 4000  # of what the student's code prints during a part, shown with its failing tests


class _Tail(io.TextIOBase):
    """A text stream that keeps the last OUTPUT_CHARACTERS written to it (printing never fills memory)."""

    def __init__(self):
        super().__init__()
        self.kept, self.dropped = "", 0

    def writable(self):
        return True

    def write(self, text):
        text = str(text)
        self.kept += text
        if len(self.kept) > 2 * OUTPUT_CHARACTERS:
            self.dropped += len(self.kept) - OUTPUT_CHARACTERS
            self.kept = self.kept[-OUTPUT_CHARACTERS:]
        return len(text)

    def text(self):
        return (_("[... {count} characters cut]").format(count=self.dropped) + "\n" if self.dropped else "") + self.kept


def _printed(compute):
    """(compute(), what the student's code printed meanwhile on sys.stdout and sys.stderr, its end kept)."""
    stream = _Tail()
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        value = compute()
    return value, stream.text()


def _here(compute):
    try:
        return {"answers": compute()}
    except SystemExit as error:
        return {"error": _("called sys.exit({code})").format(code=repr(error.code))}
    except BaseException as error:  # noqa: BLE001 - the student's code may raise anything
        return {"error": f"{type(error).__name__}: {error}"}


# ----------------------------------------------------------------------------------------- loading


def load(chunks):
    """Run `chunks` as grading runs them (the grader's loader.py); (namespace, errors as {where, message})."""
    from . import loader  # noqa: PLC0415 -- beside this file in the bundle only (SHARED_FILES)

    module, report = loader.load(chunks)
    return module.__dict__, [
        {"where": error["where"], "message": f"{error['kind']}: {error['message']}"} for error in report["errors"]
    ]


# ----------------------------------------------------------------------------------------- answers


def _tensor(encoded, device="cpu"):
    t = encoded["tensor"]
    return torch.tensor(t["data"], dtype=getattr(torch, t["dtype"])).reshape(t["shape"]).to(device)


def _value(encoded, device="cpu"):
    if isinstance(encoded, dict) and "tensor" in encoded:
        return _tensor(encoded, device)
    if isinstance(encoded, dict) and "dict" in encoded:
        return {key: _value(item, device) for key, item in encoded["dict"].items()}
    if isinstance(encoded, dict) and "seq" in encoded:
        return [_value(item, device) for item in encoded["seq"]]
    return encoded


def _error(error):
    frames = [frame for frame in traceback.extract_tb(error.__traceback__) if frame.filename.startswith("<submission")]
    where = (
        _(" ({file}, line {line})").format(file=frames[-1].filename[12:-1], line=frames[-1].lineno) if frames else ""
    )
    try:
        message = str(error)[:500]
    except Exception:  # noqa: BLE001
        message = "?"
    return {"error": type(error).__name__, "message": message, "where": where}


def _guarded(call):
    try:
        return {"ok": wire.encode(call())}
    except SystemExit as error:
        return {
            "error": "SystemExit",
            "message": _("called sys.exit({code})").format(code=repr(error.code)),
            "where": "",
        }
    except Exception as error:  # noqa: BLE001 - any failure of the student's code is an answer
        return _error(error)


def _snapshot(value):
    return value.detach().clone() if hasattr(value, "detach") else value


def per_key(namespace, spec, case, device="cpu"):
    from . import operations  # noqa: PLC0415 -- beside this file in the bundle only (SHARED_FILES)

    arguments = [
        _value(case["x"], device),
        _value(case["gradient_x"], device),
        *[_value(v, device) for v in case["state"]],
    ]
    sent = _snapshot(arguments[1])
    answer = operations.per_key(
        namespace,
        spec["class_name"],
        spec["method"],
        case["hyper"],
        case["init_lr"],
        arguments,
        device,
        report_arguments=True,
    )
    return {"result": answer["result"], "gradient_after": answer["arguments"][1], "gradient_sent": sent}


def run_steps(namespace, spec, case, in_place=False, device="cpu"):
    """Parameters (and, in place, gradients) after each step(); gradients new tensors each step, or with
    in_place written into the same tensor every step, as autograd does (the grader's operations.py)."""
    from . import operations  # noqa: PLC0415 -- beside this file in the bundle only (SHARED_FILES)

    params = {key: _value(value, device) for key, value in case["params"]["dict"].items()}
    gradients = [
        {key: _value(value, device) for key, value in step["dict"].items()} for step in case["gradients"]["seq"]
    ]
    steps = operations.run_steps(
        namespace,
        spec["class_name"],
        case["hyper"],
        case["init_lr"],
        params,
        gradients,
        device,
        gradients_in_place=in_place,
        report_gradients=in_place,
    )
    return [step if in_place else step["params"] for step in steps]


def trajectory(namespace, case, in_place):
    from . import operations  # noqa: PLC0415 -- beside this file in the bundle only (SHARED_FILES)

    return operations.trajectory(
        namespace,
        in_place,
        torch.tensor(case["w"]),
        torch.tensor(case["x_init"]),
        case["init_lr"],
        case["epoch"],
        "cpu",
    )


def answer_part(namespace, part, spec):
    if part == "trajectory":
        answers = {"in_place": [], "out_of_place": []}
        for case in spec["cases"]:
            answers["out_of_place"].append(_guarded(lambda: trajectory(namespace, case, False)))  # noqa: B023 -- called at once, in this iteration
            answers["in_place"].append(_guarded(lambda: trajectory(namespace, case, True)))  # noqa: B023 -- called at once, in this iteration
        return answers
    answers = {
        "single_step": [_guarded(lambda: per_key(namespace, spec, case)) for case in spec["single_step"]],  # noqa: B023 -- called at once, in this iteration
        "sequence": [_guarded(lambda: run_steps(namespace, spec, case)) for case in spec["sequence"]],  # noqa: B023 -- called at once, in this iteration
        "torch_optim": [_guarded(lambda: run_steps(namespace, spec, case)) for case in spec["torch_optim"]],  # noqa: B023 -- called at once, in this iteration
        "invariants": [],
    }
    for case in spec["invariants"]:
        first_key = next(iter(case["params"]["dict"]))
        single = {
            "x": case["params"]["dict"][first_key],
            "gradient_x": case["gradients"]["seq"][0]["dict"][first_key],
            "state": [1 if name == "t" else 0 for name in spec["state"]],
            "init_lr": case["init_lr"],
            "hyper": case["hyper"],
        }
        answers["invariants"].append(
            {
                "per_key": _guarded(lambda: per_key(namespace, spec, single)),  # noqa: B023 -- called at once, in this iteration
                "in_place": _guarded(lambda: run_steps(namespace, spec, case, in_place=True)),  # noqa: B023 -- called at once, in this iteration
                "fresh": _guarded(lambda: run_steps(namespace, spec, case)),  # noqa: B023 -- called at once, in this iteration
            }
        )
    if torch.cuda.is_available():  # the device must be kept: the first case again, on the GPU
        answers["cuda"] = _guarded(lambda: run_steps(namespace, spec, spec["invariants"][0], device="cuda"))
    return answers


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BaseException:  # said on the answers' channel's other end as a dead worker
        traceback.print_exc()
        raise
