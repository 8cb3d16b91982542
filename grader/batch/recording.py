"""Record, once per batch, the examples that every all-passing submission sees (see properties.Context).

The solution is graded with hypothesis as any submission would be, and every case, every call it
makes and every answer is kept. The solution is the project's own code, generated from the reference,
so it runs here, in trusted processes, rather than in a sandbox: no wait for the worker, no round trips.
Its answers take the very wire form a worker's take, so a student's equal answers compare equal.
"""

import copyreg
import io
import json
import multiprocessing
import pickle
import queue
import signal

import torch

from grader.errors import OptimkitError
from grader.judge.properties import Context
from grader.sandbox import protocol
from grader.sandbox.client import CallFailed, Sandbox

from ..assignment import build_assignment
from ..grading import _run
from ..untrusted import dispatch
from ..untrusted.loader import load


class RecordingError(OptimkitError):
    """The solution itself does not pass: the rubric or the grader is broken, not a student."""


class LocalSandbox:
    """The solution loaded in this process, answering calls exactly as a worker would (see Sandbox)."""

    prepare = staticmethod(Sandbox.prepare)

    def __init__(self, source):
        module, report = load([("solution", "<submission solution>", source)], module_name="optimkit_solution")
        self.namespace = module.__dict__
        self.load_report = {
            **report,
            "names": sorted(name for name in self.namespace if not name.startswith("__")),
            "notes": [],
        }
        self.printed, self.output_sample, self.restarts = 0, "", 0
        self._answers = {}  # the solution is deterministic: an answer once computed is the answer

    def _answer(self, op, wire_arguments, seconds):
        key = json.dumps([op, wire_arguments])
        if key not in self._answers:
            # Through JSON, as a worker's answer travels: the wire data is then the same to the last bit.
            self._answers[key] = json.dumps(
                protocol.to_wire(dispatch.perform(self.namespace, op, wire_arguments, seconds))
            )
        return json.loads(self._answers[key])

    def call(self, op, seconds=5.0, **arguments):
        answer = protocol.from_wire(
            self._answer(op, {key: protocol.to_wire(value) for key, value in arguments.items()}, seconds)
        )
        if not answer["ok"]:
            error = answer["error"]
            raise CallFailed(error.get("kind", "Error"), error.get("message", ""), error.get("trace", ""))
        return answer["value"]

    def call_many(self, prepared, seconds=5.0, total_seconds=30.0, decode=True):
        wire = [self._answer(call["op"], call["args"], seconds) for call in prepared]
        return self.decode_answers(wire) if decode else wire

    def replay(self, test, recorded, seconds=5.0, total_seconds=30.0):
        return self.call_many(recorded.prepared, seconds, total_seconds, decode=False)

    def decode_answers(self, wire):
        return protocol.from_wire(wire)

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def record(rubric, seed, devices, jobs=1):
    """{"part/test": properties.Recorded} for the whole rubric, recorded by up to `jobs` processes at once.

    Each test draws from its own seed, so which process records it changes nothing in what is recorded;
    the processes take the tests one at a time, the costliest (most examples) first, so they end together.
    """
    solution = LocalSandbox(build_assignment(solution=True, files=("optimizers.py",))["optimizers.py"])
    order = sorted(range(len(rubric.tests)), key=lambda index: -rubric.examples.get(rubric.tests[index].test, 30))
    count = max(1, min(jobs, len(order)))
    if count == 1:
        return _record_tests(rubric, order, seed, devices, solution)
    context = multiprocessing.get_context("fork")
    tasks, answers = context.Queue(), context.Queue()
    for index in order + [None] * count:
        tasks.put(index)
    workers = [
        context.Process(target=_record_worker, args=(rubric, tasks, seed, devices, solution, answers), daemon=True)
        for _ in range(count)
    ]
    for worker in workers:
        worker.start()
    recorded = {}
    try:
        for _ in workers:
            while True:
                try:
                    ok, data = answers.get(timeout=1.0)
                    break
                except queue.Empty:
                    if not all(worker.is_alive() or worker.exitcode == 0 for worker in workers):
                        raise RecordingError("a process recording the solution's examples died") from None
            if not ok:
                raise RecordingError(data)
            recorded.update(pickle.loads(data))  # our own recorder's bytes, never a student's
    except BaseException:  # Ctrl-C, or a failure: nothing they record is wanted any more
        for worker in workers:
            worker.kill()
        raise
    finally:
        for worker in workers:
            worker.join(timeout=5)
            if worker.is_alive():
                worker.kill()
    return recorded


def _record_worker(rubric, tasks, seed, devices, solution, answers):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to report; it ends this process

    def taken():
        while (index := tasks.get()) is not None:
            yield index

    try:
        answers.put((True, _dumps(_record_tests(rubric, taken(), seed, devices, solution))))
    except Exception as error:  # noqa: BLE001 -- said in the parent, rather than a hang
        answers.put((False, f"{type(error).__name__}: {error}"))


def _dumps(recorded):
    """Pickle with CPU tensors as numpy arrays: torch's own reduction is ten times slower (0.4 s here)."""
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, torch.Tensor: _reduce_tensor}
    pickler.dump(recorded)
    return buffer.getvalue()


def _reduce_tensor(tensor):
    if tensor.device.type != "cpu" or tensor.requires_grad or tensor.dtype == torch.bfloat16:
        return tensor.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
    return torch.from_numpy, (tensor.numpy(),)


def _record_tests(rubric, indexes, seed, devices, solution):
    """Record the rubric's tests at `indexes` (an iterable)."""
    context = Context(sandbox=solution, devices=devices, seed=seed, examples=rubric.examples, recording={})
    failed = [result.title for result in (_run(rubric.tests[index], context) for index in indexes) if not result.passed]
    if failed:
        raise RecordingError(f"the reference solution does not get full marks under this rubric: {'; '.join(failed)}")
    return context.recording
