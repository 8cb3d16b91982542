"""How long a student waits: `python -m grader check` and `pytest grader` on a correct submission.

Prints wall times and their ratios to one cold `python -c "import torch"`, all measured in this run
(these machines are shared and noisy: compare ratios, not seconds). Target: check <= 2x a cold import.

    python bench/check_speed.py [--repeat N]
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def wall(command, cwd=ROOT):
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode not in (0,):
        raise SystemExit(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command; the median is reported")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "grader", "assign", "--solution", "--out", folder],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        submission = str(Path(folder) / "optimizers.py")
        commands = {
            "import torch (cold)": [sys.executable, "-c", "import torch"],
            "python -m grader check": [sys.executable, "-m", "grader", "check", submission],
            "pytest grader": [
                sys.executable,
                "-m",
                "pytest",
                "grader",
                "--submission",
                submission,
                "-q",
                "-p",
                "no:cacheprovider",
            ],
        }
        times = {name: [] for name in commands}
        for _ in range(args.repeat):  # interleaved, so a burst of load hits every command alike
            for name, command in commands.items():
                times[name].append(wall(command))

    baseline = statistics.median(times["import torch (cold)"])
    print(
        f"{'command':<26} {'median s':>9} {'ratio':>7}   (runs: {args.repeat}, {sys.platform}, python {sys.version.split()[0]})"
    )
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:<26} {median:9.2f} {median / baseline:7.2f}x")
    ratio = statistics.median(times["python -m grader check"]) / baseline
    print(f"check / cold torch import = {ratio:.2f} (target <= 2.0): {'met' if ratio <= 2.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
