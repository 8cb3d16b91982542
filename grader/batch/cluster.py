"""Grade a class on a Dask cluster: `python -m grader batch DIR --out OUT --scheduler ADDRESS|local:N`.

The driver (this process) finds the students, reads each submission's bytes and sends them, with the run's
settings, to the cluster; it alone writes files, exactly as the local batch does (runner.py's pieces: atomic
writes, fingerprints and resume from freshness.py, progress.py's line). Each Dask worker holds warm sandbox
lanes for the whole run (`Lanes`, a worker plugin, in worker_lanes.py): a zygote per worker thread, started
once, holding the examples the solution passes (recorded once, by the driver, and sent along with the
plugin). With `local:N` on a CPU machine the workers are forks of the warm driver instead, holding all this
from the start (forked_workers.py). A task writes the bytes into a private temporary folder and grades them
with the same `grading.grade` call, rubric, seed and budget as a local lane: student code only ever runs in
the sandbox the zygote forks, never in a Dask process.

Devices: a class is graded on one set of devices, so that every student is graded alike. If a worker of
the cluster declares the resource GPU (`dask worker ... --resources GPU=1`), every submission asks for it
and is graded on ("cpu", "cuda"), on GPU workers only; otherwise on ("cpu",), on any worker. Each result
names the devices it was graded on, and its fingerprint includes them.

A worker that dies costs its in-flight submission, which the scheduler gives to another worker; a
submission whose grading ends workers more often than the scheduler's `allowed-failures` gets an error
result (no hang), and the rest of the class is graded.

Dask is imported only by this module and the two it imports (worker_lanes.py, forked_workers.py), which
the command line imports only for --scheduler.
"""

import logging
import os
import threading
import uuid
from dataclasses import replace
from pathlib import Path

import dask
from distributed import Client, KilledWorker, LocalCluster, as_completed
from distributed.security import Security

from grader.inputs.submission import SubmissionError, read_bytes
from grader.outputs.members import display_name
from grader.outputs.results import write_json
from grader.sandbox.launcher import Zygote

from .. import __version__, i18n
from ..atomic import PRIVATE
from ..i18n import _
from .forked_workers import ForkedWorkers
from .runner import (
    BatchError,
    _error_report,
    _feedback_page,
    _stamped,
    collect,
    counted_stop,
    find,
    fingerprint,
    grader_failed,
    pending,
    preloads,
    prepare,
)
from .worker_lanes import Lanes, WorkerSetupError, grade_on_worker

#: Worker deaths a submission may cause in a local cluster before it gets an error result. A worker
#: dies for reasons of its own (memory, a lost machine) more often than for a submission: one retry.
LOCAL_ALLOWED_FAILURES = 1
#: How long the driver waits for a first worker to join an existing scheduler.
WORKER_WAIT_SECONDS = 120
#: How often the driver, waiting for results, looks whether its local workers are still there.
LOOK_SECONDS = 1.0
#: Dask's housekeeping that a local cluster of one-thread workers does not need, each a timer in every
#: process that takes the CPU (and the GIL) from grading: the statistical profiler samples every thread
#: every 10 ms, the event-loop watchdog ticks every 20 ms, the system monitor runs every 500 ms. Turned
#: off or slowed, the workers spent half the CPU and the class was graded 10% faster (bench/cluster_speed.py).
LOCAL_CONFIG = {
    "distributed.scheduler.allowed-failures": LOCAL_ALLOWED_FAILURES,
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.scheduler.work-stealing": False,  # a queue on the scheduler already balances the load
}


def parse_scheduler(text):
    """`local:N` -> ("local", N); anything else is a scheduler address, e.g. tls://10.0.0.5:8786."""
    if text.startswith("local:"):
        count = text[len("local:") :]
        cores = len(os.sched_getaffinity(0))
        if not count.isdigit() or not 1 <= int(count) <= cores:
            raise BatchError(
                f"--scheduler {text}: local:N needs N, a whole number of workers from 1 to {cores} "
                "(the cores available here; grading is CPU-bound)"
            )
        return "local", int(count)
    if not text or text.startswith("local"):
        raise BatchError(
            f"--scheduler {text!r}: give a scheduler address (tcp://HOST:8786, tls://HOST:8786) or local:N"
        )
    return "address", text


def run(submissions, out, settings, scheduler, progress=None):
    """Grade every student in `submissions` into `out` on the cluster `scheduler` (see parse_scheduler);
    returns (entries, {student: result dict}) as runner.run does."""
    kind, where = parse_scheduler(scheduler)
    entries, out = find(submissions, out, settings)
    if kind == "local":
        # First: its torch import overlaps with ours (the rubric's checks import torch). A GPU machine
        # does not use it (see below): a second of CPU lost there, against two here on every CPU one.
        with Zygote(preload=preloads(entries)) as zygote:
            batch = _Batch(prepare(out, settings), settings, _rubric(settings), _devices(_local_gpu()), progress)
            gradable = batch.start(entries)
            if gradable and "cuda" in batch.devices:  # fresh worker processes: CUDA does not survive a fork
                replay = batch.record(jobs=settings.jobs)  # forks: before any thread of Dask's exists here
                with _local_cluster(where, gpu=True) as cluster, Client(cluster) as client:
                    batch.grade(client, gradable, batch.register(client, replay))
            elif gradable:
                _grade_on_forked_workers(batch, gradable, where, zygote)
    else:
        results_dir = prepare(out, settings)
        try:
            client = Client(where, timeout="30s")
        except (OSError, TimeoutError, ValueError) as error:
            raise BatchError(f"--scheduler {where}: cannot reach the scheduler: {error}") from None
        with client:
            _wait_for_workers(client, where)
            batch = _Batch(results_dir, settings, _rubric(settings), _devices(_has_gpu_workers(client)), progress)
            gradable = batch.start(entries)
            if gradable:  # no fork now that Dask's threads run
                batch.grade(client, gradable, batch.register(client, batch.record(jobs=1)))
    return entries, collect(entries, batch.results_dir)


def _rubric(settings):
    from grader.judge import rubric as rubric_module  # noqa: PLC0415 -- torch: once the zygote has started (run)

    try:
        return rubric_module.load(settings.rubric_path)
    except rubric_module.RubricError as error:
        raise BatchError(str(error)) from None


def _devices(gpu):
    """The class's devices: with a GPU, the CUDA cases too (see the module's docstring)."""
    return ("cpu", "cuda") if gpu else ("cpu",)


def _grade_on_forked_workers(batch, gradable, count, zygote):
    """local:N on a CPU machine: N workers forked from this process, warm (see forked_workers.py)."""
    replay = batch.record(jobs=batch.settings.jobs, pickled=False)  # forks: before any thread of Dask's
    zygote.hold_replay({test: recorded.prepared for test, recorded in replay.items()})  # before its siblings

    security = Security.temporary()
    name = f"optimkit-lanes-{uuid.uuid4().hex[:12]}"
    with dask.config.set(LOCAL_CONFIG):  # before the fork: the workers take this configuration with them
        workers = ForkedWorkers(
            count, zygote, (batch.rubric, batch.settings.seed, batch.devices, replay, name), security
        )
    try:
        with _local_cluster(0, gpu=False, security=security) as cluster, Client(cluster) as client:
            try:
                workers.start(cluster.scheduler_address)
                batch.grade(client, gradable, name, workers.alive)
            finally:
                workers.close()  # before the scheduler: then no worker outlives it, or is replaced
    finally:
        workers.close()  # the scheduler did not start


def _local_cluster(workers, gpu, security=None):
    """A scheduler on this machine, and N worker processes with a thread each, talking TLS with throwaway
    certificates: the scheduler listens on 127.0.0.1, where every local user could otherwise send it code
    to run as us."""
    # A GPU here is every worker's: then they declare it, as GPU machines of a real cluster would.
    resources = {"GPU": 1} if gpu else None
    with dask.config.set(LOCAL_CONFIG):
        try:
            return LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                security=security or Security.temporary(),
                resources=resources,
                silence_logs=logging.ERROR,
            )
        except (OSError, RuntimeError) as error:
            raise BatchError(f"--scheduler local:N: the local cluster did not start: {error}") from None


def _local_gpu():
    import torch  # noqa: PLC0415 -- torch: once the zygote has started (run)

    return torch.cuda.is_available()


def _wait_for_workers(client, where):
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
    except TimeoutError:
        raise BatchError(
            f"--scheduler {where}: no worker joined within {WORKER_WAIT_SECONDS} s; start some with "
            f"`dask worker {where} --nthreads 1`"
        ) from None


def _has_gpu_workers(client):
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return any(worker.get("resources", {}).get("GPU", 0) >= 1 for worker in workers)


class _Batch:
    """The driver's side of one run: what is left, what is sent, and every file written."""

    def __init__(self, results_dir, settings, rubric, devices, progress):
        self.results_dir, self.settings, self.rubric, self.devices = results_dir, settings, rubric, devices
        self.progress, self.registered = progress, None  # registered: the Lanes plugin's name, once registered

    def start(self, entries):
        """Start the progress line; write the results no worker is needed for; return [(entry, bytes)] to
        send: the students without a current result whose file this process can read."""
        from ..grading import grade  # noqa: PLC0415 -- torch: once the zygote has started (run)

        todo = pending(entries, self.results_dir, self.settings, fingerprint(self.settings, self.devices))
        if self.progress:
            self.progress.start(len(entries), len(entries) - len(todo))
        self.preload = preloads(todo)
        gradable = []
        for entry in todo:
            if entry.path is None:  # discovery said why: a result that says so
                self.write(entry, _error_report(entry, self.rubric, self.settings, self.devices, ""))
                continue
            try:
                gradable.append((entry, read_bytes(entry.path)))
            except SubmissionError:  # a pipe, too large: grading says why without reading it, as locally
                self.write(
                    entry,
                    grade(
                        entry.path,
                        zygote=None,
                        rubric=self.rubric,
                        seed=self.settings.seed,
                        devices=self.devices,
                        budget=self.settings.budget,
                    ),
                )
        return gradable

    def record(self, jobs, pickled=True):
        """The solution's examples, recorded here once for every worker (pickled, for workers elsewhere), if
        this machine has the class's devices; None otherwise (a CUDA class driven from a machine without a
        GPU)."""
        import torch  # noqa: PLC0415 -- torch: once the zygote has started (run)

        from ..grading import available_devices  # noqa: PLC0415 -- torch: once the zygote has started (run)
        from . import recording  # noqa: PLC0415 -- torch: once the zygote has started (run)

        if not set(self.devices) <= set(available_devices()):
            return None
        torch.set_num_threads(1)
        try:
            replay = recording.record(self.rubric, self.settings.seed, self.devices, jobs=jobs)
        except recording.RecordingError as error:
            raise BatchError(str(error)) from None
        return recording._dumps(replay) if pickled else replay

    def register(self, client, replay):
        """Start every worker's lanes (the Lanes plugin); returns the name tasks find them by."""
        plugin = Lanes(
            Path(self.settings.rubric_path).read_bytes(),
            self.settings.seed,
            self.devices,
            self.preload,
            replay,
            __version__,
            name=f"optimkit-lanes-{uuid.uuid4().hex[:12]}",
        )
        try:
            client.register_plugin(plugin)
        except Exception as error:  # noqa: BLE001 -- e.g. a worker without optimkit cannot unpickle the plugin
            raise BatchError(
                f"the workers could not start their grading lanes (is the same optimkit installed on "
                f"every worker?): {type(error).__name__}: {error}"
            ) from None
        self.registered = plugin.name
        return plugin.name

    def grade(self, client, gradable, lanes, alive=None):
        """Send every (entry, bytes) to the cluster, to be graded in the worker plugin named `lanes`; write
        each result as it comes back. alive: says whether workers can still come (forked_workers.py); when
        it turns false, what is left is cancelled and the run ends with an error."""
        resources = {"GPU": 1} if "cuda" in self.devices else None
        futures, gone = {}, threading.Event()
        try:
            for entry, data in gradable:
                future = client.submit(
                    grade_on_worker,
                    lanes,
                    entry.path.name,
                    data,
                    self.settings.budget,
                    self.settings.feedback,
                    i18n.language(),  # a worker is no fork of this process: it is told the language
                    key=f"{lanes}-{entry.student}",
                    resources=resources,
                    pure=False,
                )
                futures[future] = entry
            if alive is not None:
                threading.Thread(target=_watch, args=(client, list(futures), alive, gone), daemon=True).start()
            from . import class_files  # noqa: F401, PLC0415 -- the class report's matplotlib (0.5 s), loaded while the workers grade

            for future in as_completed(list(futures)):
                entry = futures.pop(future)
                if future.cancelled() and gone.is_set():
                    raise BatchError(
                        f"the local workers stopped (see above); {len(futures) + 1} submission(s) "
                        "were not graded: run the same command again to grade them"
                    )
                self.write(entry, *_outcome(future, entry, self.rubric, self.settings, self.devices))
        finally:
            gone.set()  # also ends the watcher
            if futures:
                client.cancel(list(futures))
            if self.registered == lanes:
                try:
                    client.unregister_worker_plugin(lanes)  # closes every worker's lanes
                except Exception:  # noqa: BLE001 -- a worker already gone has nothing left to close
                    pass

    def write(self, entry, report, runs=None):
        """The result, stamped with the fingerprint of the devices it was graded on, written atomically;
        then the feedback page, drawn here from the numbers the worker's sandbox returned (`runs`)."""
        stamped = _stamped(report, entry, fingerprint(self.settings, report.devices))
        if stamped.stopped:  # the worker's hard deadline ended it: counted as the local batch counts it
            stamped = counted_stop(stamped, self.results_dir, entry, stamped.batch["fingerprint"])
        write_json(stamped, self.results_dir / f"{entry.student}.json", PRIVATE)
        if self.settings.feedback:
            _feedback_page(self.results_dir, entry.student, stamped, runs)
        if self.progress:
            self.progress.advance(display_name(entry.student, entry.name), report.status)


def _watch(client, futures, alive, gone):
    """Cancel `futures` (those done stay done) once `alive()` turns false (see _Batch.grade); end when
    `gone` is set."""
    while not gone.wait(LOOK_SECONDS):
        if not alive():
            gone.set()
            client.cancel(futures)
            return


def _outcome(future, entry, rubric, settings, devices):
    """The report a finished task gives; a grader failure or repeated worker deaths as an error result."""
    if future.cancelled():  # the scheduler dropped it (restarted, or lost us): not the student's doing
        raise BatchError(
            "the cluster dropped this run's tasks (was the scheduler restarted?); every result "
            "written so far is complete: run the same command again to resume"
        )
    error = future.exception()
    if error is None:
        return future.result()  # (report, plot runs or None)
    if isinstance(error, WorkerSetupError):
        raise BatchError(f"a worker cannot grade: {error}")
    if isinstance(error, KilledWorker):
        message = _(
            "grading this submission ended {count} cluster worker processes; it was not graded (run the same "
            "command again to retry it)"
        ).format(count=error.allowed_failures + 1)
    else:
        message = grader_failed(error)
    return _error_report(replace(entry, error=message), rubric, settings, devices, ""), None
