"""What the edit search costs a class: `python -m grader batch --jobs 2` on N students who each have a
mistake outside the bank, with the search and without it (OPTIMKIT_EDIT_SEARCH=off).

The mistakes are tests/test_edits.py's corpus of realistic unseen mistakes in the graded parts (AdaGrad,
RMSprop, Momentum, Adam), one per student in turn, each in a copy of the solution of its own. Prints both
wall times, each as a ratio to N cold `python -c "import torch"` starts two at a time (batch_speed's
measure), their quotient, and how many failed tests carry an explanation.

    python bench/explain_speed.py [--students N] [--repeat K]

These machines are shared and their speed drifts: --repeat alternates the two runs and reports medians.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from batch_speed import cold_imports
from grading_support import solution_source
from test_edits import UNSEEN

from grader.explain.mistakes import mutate

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]


def write_class(folder, students):
    graded = [mistake for mistake, _ in UNSEEN if mistake.rule in ("adagrad", "rmsprop", "momentum", "adam")]
    source = solution_source()
    submissions = Path(folder) / "class"
    submissions.mkdir()
    for index in range(students):
        mistake = graded[index % len(graded)]
        (submissions / f"student{index:03}.py").write_text(
            f"{mutate(source, mistake)}\n# student {index}: {mistake.key}\n"
        )
    return submissions


def grade(submissions, out, search):
    env = dict(os.environ, OPTIMKIT_EDIT_SEARCH="on" if search else "off")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2", "--no-feedback"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    )
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return time.perf_counter() - started


def explained(out):
    """(failed tests, of them explained by an edit, students with at least one explanation)."""
    failed = with_edit = students = 0
    for path in (out / "results").glob("*.json"):
        found = 0
        for test in json.loads(path.read_text())["tests"]:
            if test["status"] == "failed":
                failed += 1
                found += bool(test.get("extra_data", {}).get("explanation"))
        with_edit += found
        students += found > 0
    return failed, with_edit, students


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=40, help="students to grade (default 40)")
    parser.add_argument("--repeat", type=int, default=1, help="alternate the runs this many times (medians)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        submissions = write_class(folder, args.students)
        rows = []
        for run in range(args.repeat):
            baseline = cold_imports(args.students)
            without = grade(submissions, folder / f"off{run}", search=False)
            with_search = grade(submissions, folder / f"on{run}", search=True)
            failed, edits, students = explained(folder / f"on{run}")
            rows.append((baseline, without, with_search))
            print(
                f"run {run + 1}: {args.students} cold imports {baseline:.2f} s; batch without the search {without:.2f} s "
                f"(ratio {without / baseline:.3f}), with it {with_search:.2f} s (ratio {with_search / baseline:.3f}); "
                f"x{with_search / without:.3f}, +{(with_search - without) / args.students:.3f} s a student; "
                f"{edits} of {failed} failed tests explained by an edit, {students} of {args.students} students"
            )
        median = [statistics.median(column) for column in zip(*rows)]
        print(
            f"median: ratio without {median[1] / median[0]:.3f}, with {median[2] / median[0]:.3f}, "
            f"with/without x{median[2] / median[1]:.3f}"
        )


if __name__ == "__main__":
    main()
