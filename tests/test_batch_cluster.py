"""Does `batch --scheduler local:2` (a Dask cluster) give the local batch's results, survive a worker's death,
and resume?"""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from grading_support import ROOT, Variant, solution_source

from grader.explain.mistakes import find, mutate

pytest.importorskip("distributed", reason="the cluster batch needs Dask distributed: pip install 'optimkit[cluster]'")
pytest.importorskip("cryptography", reason="--scheduler local:N needs cryptography: pip install 'optimkit[cluster]'")
psutil = pytest.importorskip("psutil", reason="finding the cluster's workers needs psutil (a Dask dependency)")

pytestmark = pytest.mark.cluster  # a local Dask cluster per batch, and workers killed on purpose

# Adam's update ends its process: the sandbox dies mid-test, and only that part may suffer.
EXITING_ADAM = """
import os
os._exit(3)
"""

# Run the command line in-process, then say whether Dask got imported: it must not be without --scheduler.
CLI = (
    "import sys; from grader.cli import main; code = main(sys.argv[1:]); "
    "print('dask imported:', any(name.split('.')[0] in ('dask', 'distributed') for name in sys.modules)); "
    "sys.stdout.flush(); sys.exit(code)"
)


COPIES = 5
CLASS = sorted(
    ["alice.json", "bob.json", "crash.json", "stub.json", "two.json"] + [f"copy{index}.json" for index in range(COPIES)]
)


def _class(folder):
    """A mixed class: correct, wrong, the stub, one whose Adam exits its process, a folder with two files."""
    folder.mkdir()
    source = solution_source()
    (folder / "alice.py").write_text(source)
    (folder / "bob.py").write_text(mutate(source, find("adam", "no_bias_correction")))
    (folder / "stub.py").write_text((ROOT / "assignments" / "optimizers.py").read_text())
    (folder / "crash.py").write_text(mutate(source, Variant("adam", "adam", EXITING_ADAM)))
    (folder / "two").mkdir()
    (folder / "two" / "a.py").write_text(source)
    (folder / "two" / "b.py").write_text(source)
    for index in range(COPIES):  # cheap to grade (the solution's examples replayed): time for a kill midway
        (folder / f"copy{index}.py").write_text(source + f"\n# copy {index}\n")
    return folder


def _batch(submissions, out, *extra, timeout=600):
    return subprocess.run(
        [sys.executable, "-c", CLI, "batch", str(submissions), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


# Timings in messages: "the process ended while per_key (...) after 0.1 s".
_SECONDS = re.compile(r"\b\d+(\.\d+)? s\b")


def _without_timings(result):
    """A result as data, without its execution time or the seconds its messages quote."""
    result = dict(result)
    result.pop("execution_time")
    return json.loads(_SECONDS.sub("N s", json.dumps(result)))


def _results(out):
    return {path.name: json.loads(path.read_text()) for path in sorted((out / "results").glob("*.json"))}


def _workers_grading(driver):
    """The cluster's worker processes under `driver`: on a CPU machine, forks of it named optimkit-worker
    (see grader/batch/forked_workers.py)."""
    workers = []
    for process in driver.children(recursive=True):
        try:
            if process.name() == "optimkit-worker":
                workers.append(process)
        except psutil.NoSuchProcess:
            continue
    return workers


def _batch_killing_a_worker(submissions, out, after, temporary):
    """Grade on local:2 (its temporary files in `temporary`) and SIGKILL a worker once `after` results are
    written; (result, results at the kill)."""
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "batch", str(submissions), "--out", str(out), "--scheduler", "local:2"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    try:
        driver = psutil.Process(process.pid)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < after:
            time.sleep(0.02)
        workers = _workers_grading(driver)
        written_at_kill = len(list((out / "results").glob("*.json")))
        if workers:
            workers[0].send_signal(signal.SIGKILL)
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr), (
        written_at_kill if workers else None
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The same class graded by the local batch, and on a local cluster of two workers one of which is
    killed midway."""
    base = tmp_path_factory.mktemp("cluster")
    submissions = _class(base / "class")
    local = _batch(submissions, base / "local", "--jobs", "2")
    assert local.returncode == 0, local.stderr[-3000:]
    temporary = base / "tmp"
    temporary.mkdir()
    cluster, written_at_kill = _batch_killing_a_worker(submissions, base / "cluster", after=3, temporary=temporary)
    assert cluster.returncode == 0, cluster.stderr[-3000:]
    left = sorted(path.name for path in temporary.iterdir())
    return submissions, base / "local", base / "cluster", local, cluster, (written_at_kill, left)


def test_the_cluster_gives_the_local_batchs_results(graded):
    _, local_out, cluster_out, _, _, _ = graded
    local, cluster = _results(local_out), _results(cluster_out)
    assert sorted(cluster) == CLASS
    assert {name: _without_timings(result) for name, result in cluster.items()} == {
        name: _without_timings(result) for name, result in local.items()
    }
    # The class is what it should be, so the equality above is not two equally broken runs.
    scores = {name: result["score"] for name, result in cluster.items()}
    assert scores["alice.json"] == 45 and scores["bob.json"] == 35 and scores["two.json"] == 0
    assert scores["stub.json"] < 10 and 0 < scores["crash.json"] < 45
    assert cluster["two.json"]["extra_data"]["status"] == "error"
    assert all(result["extra_data"]["devices"] == ["cpu"] for result in cluster.values())
    for name in ("scores.csv", "summary.json", "report.md"):
        assert _SECONDS.sub("N s", (cluster_out / name).read_text()) == _SECONDS.sub(
            "N s", (local_out / name).read_text()
        ), name


def test_a_worker_killed_midway_costs_nobody_their_grade(graded):
    """The fixture killed a worker with results still to come: everyone is graded, as the local batch did
    (the test above compares every result)."""
    _, _, cluster_out, _, _, (written_at_kill, left) = graded
    assert written_at_kill is not None, "no worker of the cluster was found grading"
    assert written_at_kill < len(CLASS), "the kill should land mid-run"
    assert sorted(_results(cluster_out)) == CLASS
    # The killed worker's temporary folder held a student's file: gone with the run.
    assert not [name for name in left if name.startswith("optimkit")], left


def test_dask_is_imported_only_for_a_cluster(graded):
    _, _, _, local, cluster, _ = graded
    assert "dask imported: False" in local.stdout
    assert "dask imported: True" in cluster.stdout


def test_a_resumed_run_grades_only_what_is_missing(graded):
    submissions, _, cluster_out, _, _, _ = graded
    before = _results(cluster_out)
    kept = {
        path.name: path.stat().st_mtime_ns
        for path in (cluster_out / "results").glob("*.json")
        if path.name not in ("copy0.json", "copy1.json")
    }
    (cluster_out / "results" / "copy0.json").unlink()
    (cluster_out / "results" / "copy1.json").unlink()
    again = _batch(submissions, cluster_out, "--scheduler", "local:1")  # one worker: half the start-up
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"{len(CLASS) - 2} of {len(CLASS)} already graded" in again.stderr
    assert {name: (cluster_out / "results" / name).stat().st_mtime_ns for name in kept} == kept
    after = _results(cluster_out)
    assert {name: _without_timings(result) for name, result in after.items()} == {
        name: _without_timings(result) for name, result in before.items()
    }


def test_bad_scheduler_and_missing_dask_are_clear_errors(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    (submissions / "alice.py").write_text("x = 1\n")
    bad = _batch(submissions, tmp_path / "out", "--scheduler", "local:0")
    assert bad.returncode == 2 and "local:N needs N" in bad.stderr and "Traceback" not in bad.stderr
    hidden = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; sys.modules['distributed'] = None; " + CLI,
            "batch",
            str(submissions),
            "--out",
            str(tmp_path / "out"),
            "--scheduler",
            "local:1",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert hidden.returncode == 2 and "pip install 'optimkit[cluster]'" in hidden.stderr
    assert "Traceback" not in hidden.stderr
    assert not (tmp_path / "out" / "results").exists() or not list((tmp_path / "out" / "results").iterdir())


def test_the_cluster_writes_the_same_feedback_pages(graded):
    """The plots' numbers come back from the workers' sandboxes and the driver draws them: the same
    pages, with the same plots, as the local batch writes."""
    _, local_out, cluster_out, _, _, _ = graded
    local_pages = {path.name: path.read_text() for path in (local_out / "feedback").glob("*.html")}
    cluster_pages = {path.name: path.read_text() for path in (cluster_out / "feedback").glob("*.html")}
    assert sorted(cluster_pages) == sorted(name.replace(".json", ".html") for name in CLASS)
    assert sorted(local_pages) == sorted(cluster_pages)
    for name, page in cluster_pages.items():
        assert page.count("<svg") == local_pages[name].count("<svg"), name
    assert cluster_pages["alice.html"].count("<svg") >= 5  # a plot per part, drawn from the workers' numbers


def test_workers_that_keep_dying_end_the_run_and_a_rerun_grades_the_rest(tmp_path):
    """local:N replaces a worker that dies, but not forever: with every worker killed as soon as it shows,
    the run ends with a line that says why (no hang, no traceback), keeps what it wrote, and a rerun completes."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    source = solution_source()
    for index in range(12):
        (submissions / f"copy{index}.py").write_text(source + f"\n# copy {index}\n")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-c", CLI, "batch", str(submissions), "--out", str(out), "--scheduler", "local:1"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    kills = 0
    try:
        driver = psutil.Process(process.pid)
        deadline = time.monotonic() + 240
        while process.poll() is None and time.monotonic() < deadline:
            for worker in _workers_grading(driver):
                try:
                    worker.send_signal(signal.SIGKILL)
                    kills += 1
                except psutil.NoSuchProcess:
                    pass
            time.sleep(0.05)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert kills > 1, "the workers were never found"
    assert process.returncode == 2, stderr[-3000:]
    assert "the local workers kept dying" in stderr and "the local workers stopped" in stderr
    assert "run the same command again" in stderr
    assert "Traceback" not in stderr
    kept = _results(out)
    assert len(kept) < 12  # it did end early
    again = _batch(submissions, out, "--scheduler", "local:1")
    assert again.returncode == 0, again.stderr[-3000:]
    after = _results(out)
    assert sorted(after) == sorted(f"copy{index}.json" for index in range(12))
    assert all(result["score"] == 45 for name, result in after.items() if name not in kept)
