"""What runs on a Dask worker: its warm grading lanes (`Lanes`, a worker plugin) and the task that grades one
submission in one of them (`grade_on_worker`). The driver's side is cluster.py; forked_workers.py's workers
use the same lanes, already warm. Student code only ever runs in the sandbox a lane's zygote forks.
"""

import os
import pickle
import queue
import tempfile
from pathlib import Path

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin

from grader import i18n
from grader.errors import OptimkitError

from .. import __version__


class WorkerSetupError(OptimkitError):
    """A worker cannot grade at all (the solution fails its rubric there, another optimkit version)."""


class Lanes(WorkerPlugin):
    """A worker's warm grading lanes: a zygote per worker thread, started when the plugin is registered
    (or the worker joins) and closed when it is unregistered (or the worker closes).

    replay: the solution's recorded examples as the driver pickled them (recording._dumps), for workers
    that grade on exactly the devices they were recorded on; any other worker records its own, once, in
    `setup`: the worker's main thread, since the solution runs under a timer signal (a few seconds in
    which the worker does not answer the scheduler; harmless, and only on GPU machines whose driver has
    no GPU).
    """

    def __init__(self, rubric_text, seed, devices, preload, replay, version, name):
        self.rubric_text, self.seed, self.devices, self.preload = rubric_text, seed, tuple(devices), tuple(preload)
        self.replay_bytes, self.version, self.name = replay, version, name

    def setup(self, worker):
        from grader.sandbox.launcher import Zygote  # noqa: PLC0415 -- the zygote starts before torch is imported

        self._failure, self._idle, self._lanes = None, queue.Queue(), []
        # First, so that its torch import overlaps with ours; from this (the main) thread, since the zygote
        # dies with the thread that started it (PR_SET_PDEATHSIG), and this one lasts as long as the worker.
        self._lanes.append(Zygote(preload=self.preload))
        try:
            self._start(worker.state.nthreads)
        except Exception as error:  # noqa: BLE001 -- said by every task on this worker, then by the driver
            self._failure = (
                error if isinstance(error, WorkerSetupError) else WorkerSetupError(f"{type(error).__name__}: {error}")
            )

    def _start(self, threads):
        if self.version != __version__:
            raise WorkerSetupError(
                f"this worker runs optimkit {__version__}, the driver {self.version}; "
                "install the same version on every machine"
            )
        import torch  # noqa: PLC0415 -- torch: once the zygote has started (run)

        from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: once the zygote has started (run)

        from ..grading import available_devices  # noqa: PLC0415 -- torch: once the zygote has started (run)
        from . import recording  # noqa: PLC0415 -- torch: once the zygote has started (run)

        torch.set_num_threads(1)  # one thread per lane, as in a local lane
        with tempfile.TemporaryDirectory(prefix="optimkit-rubric-") as folder:
            path = Path(folder) / "rubric.json"
            path.write_bytes(self.rubric_text)
            self.rubric = rubric_module.load(path)
        self.graded_on = self.devices
        if not set(self.devices) <= set(available_devices()):  # said, rather than a class graded two ways
            raise WorkerSetupError(
                f"this worker declares the resource GPU but torch sees no CUDA device here "
                f"(torch {torch.__version__}); fix its driver or its torch, or start it "
                "without --resources GPU=1"
            )
        if self.replay_bytes is not None:
            self.replay = pickle.loads(self.replay_bytes)  # the driver's own recording, never a student's bytes
        else:
            try:
                self.replay = recording.record(self.rubric, self.seed, self.graded_on)
            except recording.RecordingError as error:
                raise WorkerSetupError(str(error)) from None
        zygote = self._lanes[0]
        zygote.hold_replay({test: recorded.prepared for test, recorded in self.replay.items()})  # before siblings
        self._lanes += [zygote.sibling() for _ in range(max(threads, 1) - 1)]
        for lane in self._lanes:
            self._idle.put(lane)

    def take(self):
        """A free lane (a zygote); WorkerSetupError if this worker could not start its lanes."""
        if self._failure is not None:
            raise self._failure
        return self._idle.get()

    def give_back(self, lane):
        self._idle.put(lane)

    def teardown(self, worker):
        for lane in reversed(self._lanes):  # siblings first: they share the first zygote's scratch folder
            lane.close()


def grade_on_worker(plugin_name, filename, data, budget, feedback=False, language=i18n.DEFAULT):
    """A Dask task: grade the submission `data` (named `filename`) in one of this worker's lanes, its verdicts
    in `language` (the driver's `--lang`: a worker is no fork of the driver, so the task says it).

    The bytes go to a private temporary folder under their own name, so that the report names the file
    as a local run does. Returns (the GradeReport without the batch's facts, which the driver adds; with
    `feedback`, the plots' runs, numbers the driver checks and draws, else None).
    """
    import torch  # noqa: PLC0415 -- torch: once the zygote has started (run)

    from ..grading import grade, grade_bounded  # noqa: PLC0415 -- torch: see the module's docstring

    # For the whole process, not within a block: the worker's other threads grade for the same run, and one
    # that restored the language on leaving would change it under another still grading. The child that
    # grade_bounded forks inherits it.
    i18n.set_language(language)

    plots = None
    if feedback:
        from grader.outputs.feedback import PlotRuns  # noqa: PLC0415 -- only with --html

        plots = PlotRuns(get_worker().plugins[plugin_name].rubric.parts)

    lanes = get_worker().plugins[plugin_name]
    lane = lanes.take()
    try:
        with tempfile.TemporaryDirectory(prefix="optimkit-submission-") as folder:  # 0700
            path = Path(folder) / Path(filename).name
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
            options = dict(
                rubric=lanes.rubric,
                seed=lanes.seed,
                devices=lanes.graded_on,
                budget=budget,
                replay=lanes.replay,
                after=plots,
            )
            # A bug of the grader's raises: the driver turns it into this submission's error result.
            if (
                torch.cuda.is_initialized()
            ):  # a forked child could not use CUDA: no hard deadline (docs/instructors/cluster.md)
                report = grade(path, zygote=lane, **options)
            else:
                # Graded in a child ended past the budget (grading.grade_bounded), with a zygote of its own,
                # forked from the lane's in milliseconds: a child ended mid-request leaves the lane intact.
                own = lane.sibling()
                try:
                    report, plots = grade_bounded(path, zygote=own, **options)
                finally:
                    own.close()
            return report, None if plots is None else plots.runs
    finally:
        lanes.give_back(lane)
