"""Command line: python -m reference.experiments --out DIR [--only GROUP ...] [--jobs N]."""

import argparse
import concurrent.futures
import functools
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from . import agreement, figures_2d, figures_3d, figures_fitting, settings

GROUPS = ("trajectories", "fitting", "comparisons", "agreement")


@dataclass(frozen=True)
class Task:
    """One figure (or table): the files it writes and the call that writes them."""

    group: str
    outputs: tuple
    draw: functools.partial  # draw(*temporary_paths); a partial, so that it pickles to a worker


def _write_agreement(path):
    Path(path).write_text(agreement.report(), encoding="utf-8")


def tasks(out):
    """Every figure of the unit, in the order of the course."""
    found = []
    for run in settings.TRAJECTORIES_2D:
        path = out / f"trajectory_2d_{run.setting.slug}.png"
        found.append(Task("trajectories", (path,), functools.partial(figures_2d.draw_trajectory, run)))
    for setting in settings.FITTING:
        path = out / f"fitting_{setting.slug}.png"
        found.append(Task("fitting", (path,), functools.partial(figures_fitting.draw_fitting, setting)))
    for comparison in settings.COMPARISONS_3D:
        paths = (out / f"comparison_3d_{comparison.slug}.gif", out / f"comparison_3d_{comparison.slug}.png")
        found.append(Task("comparisons", paths, functools.partial(figures_3d.draw_comparison, comparison)))
    found.append(Task("agreement", (out / "torch_agreement.txt",), functools.partial(_write_agreement)))
    return found


def run_task(task):
    """Draw into temporary files, then rename them: a crash never leaves a half-written figure."""
    started = time.perf_counter()
    temporaries = [path.with_name(f".{path.stem}.partial{path.suffix}") for path in task.outputs]
    try:
        task.draw(*temporaries)
        for temporary, path in zip(temporaries, task.outputs):
            os.replace(temporary, path)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
    return time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m reference.experiments",
        description="Draw every figure of the optimizer unit (headless, deterministic).",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for the figures (created if missing)")
    parser.add_argument(
        "--only", nargs="+", choices=GROUPS, metavar="GROUP", help=f"draw only these groups: {', '.join(GROUPS)}"
    )
    parser.add_argument(
        "--jobs", type=int, default=len(os.sched_getaffinity(0)), help="figures drawn at once (default: cores)"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")

    args.out.mkdir(parents=True, exist_ok=True)
    todo = [task for task in tasks(args.out) if args.only is None or task.group in args.only]
    started = time.perf_counter()
    failures = 0
    for index, (task, outcome) in enumerate(_run_all(todo, args.jobs), start=1):
        names = ", ".join(path.name for path in task.outputs)
        if isinstance(outcome, BaseException):
            failures += 1
            print(f"[{index:2}/{len(todo)}] FAILED {names}: {type(outcome).__name__}: {outcome}", flush=True)
        else:
            print(f"[{index:2}/{len(todo)}] {names} ({outcome:.1f} s)", flush=True)
    print(f"{len(todo) - failures} of {len(todo)} written to {args.out} in {time.perf_counter() - started:.1f} s")
    return 1 if failures else 0


def _run_all(todo, jobs):
    """Yield (task, seconds or exception) as each task finishes."""
    if jobs == 1 or len(todo) == 1:
        for task in todo:
            try:
                yield task, run_task(task)
            except Exception as error:  # report it and draw the other figures
                yield task, error
        return
    # fork: the workers inherit the imported modules instead of paying for torch's import again.
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        # The slowest figures (the animations) first, so that the pool finishes together.
        ordered = sorted(todo, key=lambda task: task.group != "comparisons")
        futures = {pool.submit(run_task, task): task for task in ordered}
        for future in concurrent.futures.as_completed(futures):
            raised = future.exception()
            yield futures[future], raised if raised is not None else future.result()


if __name__ == "__main__":
    sys.exit(main())
