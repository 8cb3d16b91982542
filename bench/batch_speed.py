"""How long a class takes: `python -m grader batch --jobs 2` on N distinct copies of a correct submission.

Prints the wall time and its ratio to N cold `python -c "import torch"` starts run two at a time (the
same 2 cores), both measured in this run. Target: ratio <= 0.2, i.e. a submission costs under a fifth
of a cold interpreter start. The copies differ by a comment, so nothing can be reused between them.

    python bench/batch_speed.py [--students N] [--repeat K] [--feedback-cost]

--feedback-cost also grades the class with --no-feedback (alternating with the default run, which writes
a feedback page per student and report.html) and prints what the pages add, as a ratio of the two.

These machines are shared and their speed drifts by tens of percent within minutes: --repeat 3 gives
a median that one slow minute does not decide.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from solution_class import write_class

ROOT = Path(__file__).resolve().parents[1]


def cold_imports(count, parallel=2):
    """Wall time of `count` cold torch imports, `parallel` at a time."""

    def one(_):
        subprocess.run([sys.executable, "-c", "import torch"], check=True)

    started = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, range(count)))
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40, help="copies to grade (default 40)")
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="measure baseline and batch this many times, alternating; report the median ratio",
    )
    parser.add_argument(
        "--feedback-cost",
        action="store_true",
        help="also time `batch --no-feedback` and report what the feedback pages add",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        submissions = write_class(folder, args.students)

        ratios, costs = [], []
        for run in range(args.repeat):
            baseline = cold_imports(args.students)
            out = folder / f"out{run}"
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2"],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            batch = time.perf_counter() - started
            if result.returncode != 0:
                raise SystemExit(result.stderr[-3000:])
            graded = len(list((out / "results").glob("*.json")))
            ratios.append(batch / baseline)
            print(f"students: {args.students} (graded {graded}), jobs 2")
            print(f"{args.students} cold `import torch`, 2 at a time: {baseline:7.2f} s")
            print(f"python -m grader batch --jobs 2:       {batch:7.2f} s  ({batch / args.students:.3f} s a student)")
            print(f"ratio = {ratios[-1]:.3f}")
            if args.feedback_cost:
                pages = len(list((out / "feedback").glob("*.html")))
                started = time.perf_counter()
                plain = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "grader",
                        "batch",
                        str(submissions),
                        "--out",
                        str(folder / f"plain{run}"),
                        "--jobs",
                        "2",
                        "--no-feedback",
                    ],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
                without = time.perf_counter() - started
                if plain.returncode != 0:
                    raise SystemExit(plain.stderr[-3000:])
                costs.append(batch / without)
                print(
                    f"python -m grader batch --no-feedback:  {without:7.2f} s  (with {pages} pages: "
                    f"{batch:.2f} s, x{costs[-1]:.3f}, +{(batch - without) / args.students:.3f} s a student)"
                )
    ratio = statistics.median(ratios)
    label = f"median of {len(ratios)} " if len(ratios) > 1 else ""
    print(f"{label}ratio = {ratio:.3f} (target <= 0.2): {'met' if ratio <= 0.2 else 'NOT met'}")
    if costs:
        print(f"{label}feedback pages: batch time x{statistics.median(costs):.3f} of --no-feedback's")


if __name__ == "__main__":
    main()
