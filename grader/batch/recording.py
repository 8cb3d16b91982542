"""Record, once per batch, the examples that every all-passing submission sees (see checks.Context).

The solution is graded with hypothesis as any submission would be, and every case, every call it
makes and every answer is kept. The solution is the project's own code, generated from the reference,
so it runs here, in trusted processes, rather than in a sandbox: no wait for the worker, no round trips.
Its answers take the very wire form a worker's take, so a student's equal answers compare equal.
"""

import json
import multiprocessing
import pickle
from dataclasses import replace

from ..assignment import build_assignment
from ..worker import dispatch, protocol
from ..worker.client import CallFailed, Sandbox
from ..worker.loader import load


class RecordingError(Exception):
    """The solution itself does not pass: the rubric or the grader is broken, not a student."""


class LocalSandbox:
    """The solution loaded in this process, answering calls exactly as a worker would (see Sandbox)."""

    prepare = staticmethod(Sandbox.prepare)

    def __init__(self, source):
        module, report = load([("solution", "<submission solution>", source)], module_name="optimkit_solution")
        self.namespace = module.__dict__
        self.load_report = {**report, "names": sorted(name for name in self.namespace if not name.startswith("__")),
                            "notes": []}
        self.printed, self.output_sample, self.restarts = 0, "", 0

    def _answer(self, op, wire_arguments, seconds):
        # Through JSON, as a worker's answer travels: the wire data is then the same to the last bit.
        return json.loads(json.dumps(protocol.to_wire(dispatch.perform(self.namespace, op, wire_arguments, seconds))))

    def call(self, op, seconds=5.0, **arguments):
        answer = protocol.from_wire(self._answer(op, {key: protocol.to_wire(value) for key, value in arguments.items()},
                                                 seconds))
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
    """{"part/test": checks.Recorded} for the whole rubric, recorded by up to `jobs` processes at once.

    Each test draws from its own seed, so sharing the parts out changes nothing in what is recorded.
    """
    parts = rubric.parts
    count = max(1, min(jobs, len(parts)))
    shares = [replace(rubric, tests=tuple(t for t in rubric.tests if parts.index(t.part) % count == index))
              for index in range(count)]
    if count == 1:
        return _record_share(rubric, seed, devices)
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    workers = [context.Process(target=_record_worker, args=(share, seed, devices, answers), daemon=True)
               for share in shares]
    for worker in workers:
        worker.start()
    recorded = {}
    for _ in shares:
        ok, data = answers.get()
        if not ok:
            raise RecordingError(data)
        recorded.update(pickle.loads(data))  # our own recorder's bytes, never a student's
    for worker in workers:
        worker.join()
    return recorded


def _record_worker(rubric, seed, devices, answers):
    try:
        answers.put((True, pickle.dumps(_record_share(rubric, seed, devices))))
    except RecordingError as error:
        answers.put((False, str(error)))


def _record_share(rubric, seed, devices):
    from ..checks import Context
    from ..grading import _run

    context = Context(sandbox=LocalSandbox(build_assignment(solution=True)["optimizers.py"]), devices=devices,
                      seed=seed, examples=rubric.examples, recording={})
    failed = [result.title for result in (_run(test, context) for test in rubric.tests) if not result.passed]
    if failed:
        raise RecordingError(f"the reference solution does not get full marks under this rubric: {'; '.join(failed)}")
    return context.recording
