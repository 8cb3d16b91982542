"""Run grader.explain.diagnosis' probe calls in this process on a class: what the sandbox does, without one.

The operations are the worker's own (grader.untrusted.operations), so the answers have the same shape as
Sandbox.call_many's, with plain tensors where the wire has WireTensors.
"""

from grader.untrusted import loader, operations
from reference import Adagrad


def runner(cls):
    """run_probes for diagnose_step/diagnose_sequence: the probe calls answered by `cls` (as the student's class)."""

    def run_probes(calls):
        answers = []
        for op, arguments in calls:
            namespace = {arguments["class_name"]: cls}
            try:
                answers.append({"ok": True, "value": operations.OPERATIONS[op](namespace, **arguments)})
            except Exception as error:  # noqa: BLE001 - the student's error is an answer
                answers.append({"ok": False, "error": loader.describe_error(error)})
        return answers

    return run_probes


def failing_runner(calls):
    """A sandbox that died: the probes cannot be run."""
    raise RuntimeError("the worker process had ended before the call")


class FirstKeyOnly(Adagrad):
    """A mistake outside the bank: the per-key method is right, but step() updates the first key only."""

    def step(self):
        key = next(iter(self.model.params))
        self.model.params[key], self.G[key] = self.adagrad(
            self.model.params[key], self.model.grads[key], self.G[key], self.init_lr
        )
