"""How long a student waits for the release's self-check: `pytest grader` on a correct submission,
from the bundle's folder, against one cold `python -c "import torch"`, the two alternated, N times each.

Prints each median and their ratio (these machines are shared and noisy: compare ratios, not seconds).
Target: the self-check within 1.2x a cold import.

    python bench/selfcheck_speed.py [--repeat N] [--python PATH]

Both run in a fresh virtual environment holding only the bundle's requirements (as a student's would),
linked from this one (grader/release/environment.py); --python PATH measures with another interpreter.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader.release.environment import declared_environment

ROOT = Path(__file__).resolve().parents[1]


def wall(command, cwd):
    started = time.perf_counter()
    result = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}"
        )
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command; the median is reported")
    parser.add_argument("--python", help="the interpreter to measure with (default: a fresh, declared-only venv)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        bundle = Path(folder) / "bundle"
        subprocess.run(
            [sys.executable, "-m", "grader", "release", "--out", str(bundle)], check=True, capture_output=True, cwd=ROOT
        )
        subprocess.run(
            [sys.executable, "-m", "grader", "assign", "--solution", "--out", str(Path(folder) / "key")],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        submission = str(Path(folder) / "key" / "optimizers.py")
        if args.python is None:
            sys.path.insert(0, str(ROOT))

            args.python = str(declared_environment(bundle, Path(folder) / "env"))
        commands = {
            "import torch (cold)": [args.python, "-c", "import torch"],
            "pytest grader": [
                args.python,
                "-m",
                "pytest",
                "grader",
                "-q",
                "-p",
                "no:cacheprovider",
                "--submission",
                submission,
            ],
        }
        wall(commands["pytest grader"], bundle)  # once first: the bundle's own modules get compiled
        times = {name: [] for name in commands}
        for _ in range(args.repeat):
            for name, command in commands.items():
                times[name].append(wall(command, bundle))
    base = statistics.median(times["import torch (cold)"])
    for name, measured in times.items():
        median = statistics.median(measured)
        print(
            f"{name:<22} median {median:6.2f} s  ({', '.join(f'{t:.2f}' for t in measured)})  ratio {median / base:.2f}"
        )


if __name__ == "__main__":
    main()
