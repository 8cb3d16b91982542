"""`--scheduler local:N` on a CPU machine: Dask workers forked from the warm driver.

A LocalCluster's workers are fresh interpreters: each imports Dask and torch again and starts a zygote of
its own (a third torch import), about 10 s of CPU spent on the very cores that then grade. The local
batch pays none of this: its lanes are forks of the warm parent. So here, once the driver has recorded
the solution's examples and its zygote holds them, it forks one process, the spawner, before any thread
of Dask's exists in it; the spawner forks the N workers, each a plain `distributed.Worker` whose lane is
a sibling of the driver's zygote and whose rubric and examples are already in memory (`HeldLanes`).
Scheduling, rescheduling after a worker's death and `allowed-failures` are Dask's, as on any cluster; the
spawner does the one thing a Nanny would do here: it replaces a worker that dies.

A GPU machine keeps Dask's own LocalCluster (cluster.py): CUDA cannot be used in a process forked from
one that has used it.
"""

import asyncio
import ctypes
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import tempfile

from distributed import Worker  # imported before the fork: the workers inherit it

from .worker_lanes import Lanes

#: How many workers the spawner replaces over a run, per worker, before it gives up: enough for the
#: deaths Dask's allowed-failures tolerates; a worker that cannot stay up at all ends the run instead.
REPLACEMENTS_PER_WORKER = 5
#: The name the workers show in `ps` and /proc/PID/comm (at most 15 bytes).
WORKER_NAME = b"optimkit-worker"


class HeldLanes(Lanes):
    """A forked worker's lanes: one lane, already warm, with the rubric and examples inherited in memory
    (nothing to start or unpickle in `setup`); `take`, `give_back` and `teardown` are Lanes'."""

    def __init__(self, lane, rubric, seed, devices, replay, name):
        self.rubric, self.seed, self.graded_on, self.devices, self.replay = rubric, seed, devices, devices, replay
        self.name, self._failure, self._lanes, self._idle = name, None, [lane], queue.Queue()
        self._idle.put(lane)

    def setup(self, worker):
        pass


class ForkedWorkers:
    """The spawner (see the module's docstring). Make it before any thread of Dask's starts here; then
    `start(address)` once the scheduler listens, `alive()` while grading, `close()` at the end."""

    def __init__(self, count, zygote, held, security):
        """count: workers; zygote: the driver's, holding the examples (the spawner asks it for a sibling
        per worker: the driver must not use it until close); held: (rubric, seed, devices, replay, plugin
        name) for HeldLanes; security: the scheduler's (throwaway TLS, see cluster._local_cluster)."""
        context = multiprocessing.get_context("fork")
        self._orders, theirs = context.Pipe()
        self.process = context.Process(
            target=_spawner, args=(theirs, count, zygote, held, security), name="optimkit-spawner", daemon=True
        )
        self.process.start()
        theirs.close()

    def start(self, address):
        self._orders.send(address)

    def alive(self):
        return self.process.is_alive()

    def close(self):
        """End every worker now: the driver has every result it wants, and a worker holds nothing else."""
        if self._orders.closed:
            return
        try:
            self._orders.send(None)
        except OSError:  # the spawner is gone already
            pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._orders.close()


def _spawner(orders, count, zygote, held, security):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to report; it closes us
    die_with_parent()
    try:
        address = orders.recv()
    except EOFError:
        return
    if address is None:
        return
    workers = {}  # pid: its lane (a sibling zygote)
    replacements = count * REPLACEMENTS_PER_WORKER
    # The workers' temporary files (each submission's bytes, Dask's scratch space) go here, 0700, and go
    # with it at the end: a worker killed mid-task leaves its student's file nowhere.
    scratch = tempfile.mkdtemp(prefix="optimkit-workers-")
    tempfile.tempdir = scratch  # the workers forked from here inherit it
    try:
        for index in range(count):
            _fork_worker(workers, index, address, zygote, held, security)
        index = count
        while not orders.poll(0.2):  # an order now (None) or the driver gone (EOF): stop
            for _ in _reaped(workers):
                if not replacements:
                    print("optimkit: the local workers kept dying; no more are started", file=sys.stderr)
                    return  # the driver sees the spawner gone and stops waiting for workers
                replacements -= 1
                _fork_worker(workers, index, address, zygote, held, security)
                index += 1
    except RuntimeError as error:  # the zygote is gone: no lane for a new worker
        print(f"optimkit: cannot start a local worker: {error}", file=sys.stderr)
    finally:
        for pid, lane in workers.items():
            _kill(pid)
            lane.close()
        for pid in workers:
            _wait(pid)
        shutil.rmtree(scratch, ignore_errors=True)


def _reaped(workers):
    """The workers that ended since the last look (their lanes closed)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        lane = workers.pop(pid, None)
        if lane is not None:
            lane.close()
            yield pid


def _fork_worker(workers, index, address, zygote, held, security):
    lane = zygote.sibling()
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            _serve(index, address, lane, held, security)
            status = 0
        finally:
            os._exit(status)  # never back into the spawner's loop
    lane.control.close()  # the worker holds it now
    workers[pid] = lane


def _serve(index, address, lane, held, security):
    """A worker's life: a Dask worker with one thread and one held lane, until it is killed."""
    die_with_parent()
    _name_process(WORKER_NAME)
    logging.getLogger("distributed").setLevel(logging.ERROR)  # as LocalCluster(silence_logs=ERROR)
    rubric, seed, devices, replay, name = held
    lanes = HeldLanes(lane, rubric, seed, devices, replay, name)

    async def serve():
        async with Worker(
            address,
            nthreads=1,
            name=f"optimkit-{index}",
            security=security,
            plugins=(lanes,),
            memory_limit=0,
            dashboard=False,
        ) as worker:
            await worker.finished()

    asyncio.run(serve())


def _name_process(name):
    _prctl(15, name)  # PR_SET_NAME: what `ps` and the tests find the workers by


def die_with_parent():
    _prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: a driver (or spawner) killed outright takes us along


def _prctl(option, argument):
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, argument)
    except AttributeError:  # not Linux: no such call (the workers then outlive a driver killed outright)
        pass


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _wait(pid):
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
