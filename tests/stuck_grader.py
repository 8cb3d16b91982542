"""`python tests/stuck_grader.py COMMAND ...`: the grader's command line with a slow path planted in it.

The backstop (grader/deadline.py) must hold against a slow path nobody has found yet, so the tests plant
one: naming the trajectory's idiom for a train_f whose source says HOLD_THE_GRADER runs a regular
expression that backtracks for hours, in one C call that holds the interpreter (no signal handler or
thread can stop it; only the process can be ended); for one that says KILL_THE_GRADER, the grading
process dies at that point, as the kernel's memory killer would end it. Everything else is the real grader.
"""

import os
import re
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# after the project is on sys.path
from grader.cli import main
from grader.judge import trajectory_verdict

_real = trajectory_verdict.snapshot_idiom


def _stuck(source):
    if "HOLD_THE_GRADER" in source:
        re.fullmatch(r"(a|aa)*b", "a" * 80)  # about 2**55 steps
    if "KILL_THE_GRADER" in source:
        os.kill(os.getpid(), signal.SIGKILL)
    return _real(source)


trajectory_verdict.snapshot_idiom = _stuck

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
