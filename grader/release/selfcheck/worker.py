"""The student's side of the self-check, run as its own process: `python worker.py REQUEST_JSON`.

It imports torch, loads the submission (definitions only: loops, plots and prints at the top level are
skipped), then answers each part's cases with what the student's code returns, one JSON line per part
on its standard output. It draws no conclusion: the pytest side judges. Where os.fork exists, each
submission runs in a forked child, watched with a deadline per part: a part that crashes or hangs the child
fails, and a new child runs the parts left. Elsewhere (Windows), or with OPTIMKIT_SELFCHECK_SPAWN=1, parts
run here one after the other and the pytest side restarts this process after a part that hangs or crashes. Standalone: imports wire and source by name.
"""

import ast
import inspect
import io
import json
import os
import sys
import time
import traceback
import types

PART_SECONDS = float(os.environ.get("OPTIMKIT_SELFCHECK_PART_SECONDS", "20"))  # a part's deadline
LOAD_SECONDS = 60.0  # the submission's top level (each statement also has STATEMENT_SECONDS of CPU time)
STATEMENT_SECONDS = 10.0
RUN = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
       ast.AnnAssign, ast.AugAssign, ast.If, ast.Try, ast.Global, ast.Delete, ast.Pass)


def main(argv):
    request = json.loads(open(argv[0], encoding="utf-8").read())
    out = os.fdopen(os.dup(1), "w", encoding="ascii")  # the answers' channel; the student's prints go to stderr
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def emit(message):
        out.write(json.dumps(message) + "\n")
        out.flush()

    import torch  # noqa: F401 - once, before any fork

    torch.set_num_threads(1)
    import wire  # noqa: F401

    cases = json.loads(open(request["cases"], encoding="utf-8").read())["parts"]
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
    import select
    import signal

    left, loaded = list(parts), False
    while left:
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(read_end)
            channel = os.fdopen(write_end, "w", encoding="ascii")

            def relay(message):
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
        _, status = os.waitpid(pid, 0)
        if current is not None:  # this part hung or ended the child: it fails, the others go on
            if ended == "timeout":
                error = f"no answer within {PART_SECONDS:g} s (an endless loop, or a very slow computation?)"
            else:
                error = f"the process running it ended abruptly ({_how(status)}), as os._exit or a crash does"
            emit({"event": "part", "part": current, "error": error})
            left.remove(current)
        elif not loaded:
            why = f"took more than {LOAD_SECONDS:g} s" if ended == "timeout" else f"ended abruptly ({_how(status)})"
            emit({"event": "loaded", "error": f"loading the submission {why}"})
            return
        elif left and ended:
            return  # ended between parts (the pytest side names what is missing)


def _how(status):
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def check_submission(path, parts, cases, emit):
    import source

    try:
        chunks, notes = source.read(path)
    except source.SourceError as error:
        emit({"event": "loaded", "error": f"the submission could not be read: {error}"})
        return
    (namespace, errors), output = _printed(lambda: load(chunks))
    emit({"event": "loaded", "errors": errors, "notes": notes, "output": output})
    for part in parts:
        emit({"event": "start", "part": part})
        answers, output = _printed(lambda part=part: _here(lambda: answer_part(namespace, part, cases[part])))
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
        return (f"[... {self.dropped} characters cut]\n" if self.dropped else "") + self.kept


def _printed(compute):
    """(compute(), what the student's code printed meanwhile on sys.stdout and sys.stderr, its end kept)."""
    import contextlib

    stream = _Tail()
    with contextlib.redirect_stdout(stream), contextlib.redirect_stderr(stream):
        value = compute()
    return value, stream.text()


def _here(compute):
    try:
        return {"answers": compute()}
    except SystemExit as error:
        return {"error": f"called sys.exit({error.code!r})"}
    except BaseException as error:  # noqa: BLE001 - the student's code may raise anything
        return {"error": f"{type(error).__name__}: {error}"}


# ----------------------------------------------------------------------------------------- loading

class _NoIPython:
    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _is_main_guard(node):
    return (isinstance(node, ast.If) and isinstance(node.test, ast.Compare) and isinstance(node.test.left, ast.Name)
            and node.test.left.id == "__name__")


def load(chunks):
    """Run the definitions of `chunks` into a new module; ([namespace], errors as {where, message})."""
    import linecache

    module = types.ModuleType("submission")
    module.get_ipython = lambda: _NoIPython()
    sys.modules["submission"] = module  # dataclasses look their module up here
    errors = []
    for label, filename, text in chunks:
        linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
        try:
            tree = ast.parse(text, filename=filename)
        except (SyntaxError, ValueError) as error:
            errors.append({"where": f"{label}, line {getattr(error, 'lineno', '?')}",
                           "message": f"{type(error).__name__}: {getattr(error, 'msg', error)}"})
            continue
        for node in tree.body:
            if not isinstance(node, RUN) or _is_main_guard(node):
                continue
            code = compile(ast.Module(body=[node], type_ignores=[]), filename, "exec")
            try:
                _with_time_limit(lambda: exec(code, module.__dict__), STATEMENT_SECONDS)
            except SystemExit as error:
                errors.append({"where": f"{label}, line {node.lineno}", "message": f"called sys.exit({error.code!r})"})
            except BaseException as error:  # noqa: BLE001
                errors.append({"where": f"{label}, line {node.lineno}", "message": f"{type(error).__name__}: {error}"})
    return module.__dict__, errors


class _Timeout(BaseException):
    pass


def _with_time_limit(call, seconds):
    import signal

    if not hasattr(signal, "setitimer"):  # Windows: the pytest side's deadline ends a statement that hangs
        return call()

    def stop(signum, frame):
        raise _Timeout(f"used more than {seconds:g} s of CPU time")

    previous = signal.signal(signal.SIGPROF, stop)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        return call()
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


# ----------------------------------------------------------------------------------------- answers

def _tensor(encoded, device="cpu"):
    import torch

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
    where = f" ({frames[-1].filename[12:-1]}, line {frames[-1].lineno})" if frames else ""
    try:
        message = str(error)[:500]
    except Exception:  # noqa: BLE001
        message = "?"
    return {"error": type(error).__name__, "message": message, "where": where}


def _guarded(call):
    import wire

    try:
        return {"ok": wire.encode(call())}
    except SystemExit as error:
        return {"error": "SystemExit", "message": f"called sys.exit({error.code!r})", "where": ""}
    except Exception as error:  # noqa: BLE001 - any failure of the student's code is an answer
        return _error(error)


class Model:
    def __init__(self, params):
        import torch

        self.params = dict(params)
        self.grads = {key: torch.zeros_like(value) for key, value in params.items()}


def _find(namespace, name):
    if name not in namespace:
        raise LookupError(f"the submission defines no `{name}`")
    return namespace[name]


def _snapshot(value):
    return value.detach().clone() if hasattr(value, "detach") else value


def per_key(namespace, spec, case, device="cpu"):
    arguments = [_value(case["x"], device), _value(case["gradient_x"], device),
                 *[_value(v, device) for v in case["state"]]]
    sent = [_snapshot(value) for value in arguments]
    optimizer = _find(namespace, spec["class_name"])(case["init_lr"], Model({"x": arguments[0]}), *case["hyper"])
    result = getattr(optimizer, spec["method"])(*arguments, case["init_lr"])
    return {"result": result, "gradient_after": _snapshot(arguments[1]), "gradient_sent": sent[1]}


def run_steps(namespace, spec, case, in_place=False, device="cpu"):
    """Parameters (and, in place, gradients) after each step(); gradients new tensors each step, or with
    in_place written into the same tensor every step, as autograd does."""
    import torch

    model = Model({key: _value(value, device) for key, value in case["params"]["dict"].items()})
    optimizer = _find(namespace, spec["class_name"])(case["init_lr"], model, *case["hyper"])
    written = {key: torch.zeros_like(value) for key, value in model.params.items()}
    steps = []
    for gradients in case["gradients"]["seq"]:
        for key, value in gradients["dict"].items():
            if in_place:
                model.grads[key] = written[key]
                written[key].copy_(_value(value, device))
            else:
                model.grads[key] = _value(value, device)
        optimizer.step()
        step = {"params": {key: _snapshot(value) for key, value in model.params.items()}}
        if in_place:
            step["grads"] = {key: _snapshot(value) for key, value in model.grads.items()}
        steps.append(step if in_place else step["params"])
    return steps


class Sphere:
    """f(x) = sum(w x²) in the book's Op protocol, so that train_f is checked on its own."""

    def __init__(self, w):
        import torch

        self.w = w
        self.params = {"x": torch.zeros_like(w)}
        self.grads = {"x": torch.zeros_like(w)}

    def __call__(self, x):
        self.params["x"] = x
        return (self.w * x * x).sum()

    def backward(self):
        self.grads["x"] = 2 * self.w * self.params["x"]


class InPlaceSGD:
    def __init__(self, init_lr, model):
        self.init_lr, self.model = init_lr, model

    def step(self):
        for key in self.model.params:
            self.model.params[key] -= self.init_lr * self.model.grads[key]


class NewTensorSGD(InPlaceSGD):
    def step(self):
        for key in self.model.params:
            self.model.params[key] = self.model.params[key] - self.init_lr * self.model.grads[key]


def trajectory(namespace, case, in_place):
    import numpy as np
    import torch

    train_f = _find(namespace, "train_f")
    model = Sphere(torch.tensor(case["w"]))
    x_init = torch.tensor(case["x_init"])
    returned = train_f(model, (InPlaceSGD if in_place else NewTensorSGD)(case["init_lr"], model), x_init, case["epoch"])
    points = returned[0] if isinstance(returned, (tuple, list)) and len(returned) == 2 else returned
    try:  # read now, so that views show their final values
        if isinstance(points, torch.Tensor):
            array = points.detach().cpu().to(torch.float64)
        else:
            items = [p.detach().cpu().numpy() if isinstance(p, torch.Tensor) else p for p in points]
            array = torch.from_numpy(np.array(items, dtype=np.float64))
    except (TypeError, ValueError, RuntimeError):
        array = points
    return {"points": array, "returned_type": type(returned).__name__, "x_init_after": _snapshot(x_init)}


def answer_part(namespace, part, spec):
    if part == "trajectory":
        answers = {"in_place": [], "out_of_place": [], "source": ""}
        for case in spec["cases"]:
            answers["out_of_place"].append(_guarded(lambda: trajectory(namespace, case, False)))
            answers["in_place"].append(_guarded(lambda: trajectory(namespace, case, True)))
        try:
            answers["source"] = inspect.getsource(namespace["train_f"])[:5000]
        except Exception:  # noqa: BLE001
            pass
        return answers
    answers = {
        "single_step": [_guarded(lambda: per_key(namespace, spec, case)) for case in spec["single_step"]],
        "sequence": [_guarded(lambda: run_steps(namespace, spec, case)) for case in spec["sequence"]],
        "torch_optim": [_guarded(lambda: run_steps(namespace, spec, case)) for case in spec["torch_optim"]],
        "invariants": [],
    }
    for case in spec["invariants"]:
        first_key = next(iter(case["params"]["dict"]))
        single = {"x": case["params"]["dict"][first_key], "gradient_x": case["gradients"]["seq"][0]["dict"][first_key],
                  "state": [1 if name == "t" else 0 for name in spec["state"]], "init_lr": case["init_lr"],
                  "hyper": case["hyper"]}
        answers["invariants"].append({
            "per_key": _guarded(lambda: per_key(namespace, spec, single)),
            "in_place": _guarded(lambda: run_steps(namespace, spec, case, in_place=True)),
            "fresh": _guarded(lambda: run_steps(namespace, spec, case)),
        })
    import torch

    if torch.cuda.is_available():  # the device must be kept: the first case again, on the GPU
        answers["cuda"] = _guarded(lambda: run_steps(namespace, spec, spec["invariants"][0], device="cuda"))
    return answers


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except BaseException:  # noqa: BLE001 - said on the answers' channel's other end as a dead worker
        traceback.print_exc()
        raise
