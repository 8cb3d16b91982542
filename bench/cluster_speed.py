"""What a Dask cluster costs: `batch --scheduler local:2` against `batch --jobs 2` on the same class.

N distinct copies of a correct submission (they differ by a comment, so nothing is reused), graded
from scratch both ways, alternately; prints both wall times and their ratio (cluster / local). Target:
ratio <= 1.2. The cluster's wall time includes starting it (the scheduler, two workers forked from the
driver, TLS) and Dask's traffic for every submission.

    python bench/cluster_speed.py [--students N] [--repeat K]

These machines are shared and their speed drifts within minutes: --repeat gives a median.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from solution_class import write_class

ROOT = Path(__file__).resolve().parents[1]


def timed_batch(submissions, out, *extra):
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    wall = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(result.stderr[-3000:])
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=200, help="copies to grade (default 200)")
    parser.add_argument("--repeat", type=int, default=1, help="measure both this many times; report the median")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        submissions = write_class(folder, args.students)

        ratios = []
        for run in range(args.repeat):
            local = timed_batch(submissions, folder / f"local{run}", "--jobs", "2")
            cluster = timed_batch(submissions, folder / f"cluster{run}", "--scheduler", "local:2")
            graded = len(list((folder / f"cluster{run}" / "results").glob("*.json")))
            ratios.append(cluster / local)
            print(f"students: {args.students} (graded on the cluster: {graded})")
            print(f"batch --jobs 2:            {local:7.2f} s  ({local / args.students:.3f} s a student)")
            print(f"batch --scheduler local:2: {cluster:7.2f} s  ({cluster / args.students:.3f} s a student)")
            print(f"ratio = {ratios[-1]:.3f}")
    ratio = statistics.median(ratios)
    label = f"median of {len(ratios)} " if len(ratios) > 1 else ""
    print(f"{label}ratio = {ratio:.3f} (target <= 1.2): {'met' if ratio <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
