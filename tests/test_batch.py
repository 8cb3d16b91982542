"""Does `python -m grader batch` grade a mixed class safely, resume after a kill, and agree with check?"""

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from grading_support import ROOT, Variant, schema, solution_source

from grader import grading
from grader.batch import runner
from grader.explain.mistakes import find, mutate

# A line of the reference that appears nowhere a student could legitimately print it.
REFERENCE_MARK = (ROOT / "reference" / "optimizers.py").read_text().splitlines()[10]

FORGER = """
import json, os, sys

FAKE = {"score": 1000, "max_score": 45, "tests": [], "output": "forged", "execution_time": 0, "extra_data": {}}


def _forge():
    targets = {os.getcwd(), os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else "."}
    targets.update(arg for arg in sys.argv if os.path.isdir(arg))
    targets.update(value for value in os.environ.values() if os.path.isdir(value))
    for folder in list(targets):
        for where in (folder, os.path.join(folder, "results"), os.path.join(folder, "..", "results")):
            for name in ("alice.json", "forger.json", "scores.csv", "summary.json"):
                try:
                    with open(os.path.join(where, name), "w") as file:
                        json.dump(FAKE, file)
                except OSError:
                    pass
    return len(targets)


forged = _forge()
"""

READER = '''
import glob, os, sys


def _steal():
    """Look where the grader is installed (PYTHONPATH, sys.path) for the reference, and read it."""
    found = []
    for root in set(sys.path + os.environ.get("PYTHONPATH", "").split(os.pathsep)):
        for path in glob.glob(os.path.join(root or ".", "*", "optimizers.py")) + glob.glob(
                os.path.join(root or ".", "reference", "*.py")):
            try:
                found.append(open(path).read())
            except OSError:
                pass
    return "".join(found)


stolen = _steal()
'''

# RMSprop's body prints what was found and raises with it: both end up in the verdict if anything leaks.
LEAKING_RMSPROP = """
print(stolen[:3000])
raise RuntimeError("found: " + stolen[:3000])
"""


def _class(folder):
    """A mixed class: correct, buggy (two), a forger, a reader of the reference, a folder with two files."""
    folder.mkdir()
    source = solution_source()
    (folder / "alice.py").write_text(source)
    (folder / "bob.py").write_text(mutate(source, find("adam", "no_bias_correction")))
    # Changes its inputs in place: replayed calls must not see what an earlier call did to them.
    (folder / "carol.py").write_text(mutate(source, find("adagrad", "gradient_squared_in_place")))
    (folder / "forger.py").write_text(FORGER + source)
    reader = mutate(source, Variant("rmsprop", "rmsprop", LEAKING_RMSPROP))
    (folder / "reader.py").write_text(reader.replace("class RMSprop(", READER + "\n\nclass RMSprop(", 1))
    (folder / "two").mkdir()
    (folder / "two" / "a.py").write_text(source)
    (folder / "two" / "b.py").write_text(source)
    return folder


def _digest(folder):
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _batch(submissions, out, *extra, timeout=900):
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2", *extra],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("batch")
    submissions = _class(base / "class")
    before = _digest(submissions)
    project_before = sorted(str(path) for path in ROOT.iterdir())
    result = _batch(submissions, base / "out")
    return submissions, base / "out", before, project_before, result


@pytest.mark.classes
def test_every_submission_has_a_valid_result(graded):
    _submissions, out, _, _, result = graded
    assert result.returncode == 0, result.stderr[-3000:]

    names = sorted(path.name for path in (out / "results").iterdir())
    assert names == ["alice.json", "bob.json", "carol.json", "forger.json", "reader.json", "two.json"]
    for name in names:
        jsonschema.validate(json.loads((out / "results" / name).read_text()), schema())


@pytest.mark.classes
def test_each_gets_its_due_and_nothing_else(graded):
    _, out, _, _, _ = graded
    scores = {row["student"]: row for row in csv.DictReader((out / "scores.csv").open())}
    assert scores["alice"]["total"] == "45" and scores["forger"]["total"] == "45"
    assert scores["bob"]["adam"] == "0" and scores["bob"]["adagrad"] == "10" and scores["bob"]["status"] == "graded"
    assert scores["carol"]["adagrad"] != "10" and scores["carol"]["adam"] == "10"
    assert scores["reader"]["rmsprop"] != "10" and scores["reader"]["adam"] == "10"
    assert scores["two"]["status"] == "error" and scores["two"]["total"] == "0"
    two = json.loads((out / "results" / "two.json").read_text())
    assert "a.py" in two["output"] and "b.py" in two["output"]


@pytest.mark.classes
@pytest.mark.skipif(os.geteuid() != 0, reason="hiding files from student code needs the grader to run as root")
def test_nothing_of_the_reference_shows_anywhere(graded):
    _, out, _, _, result = graded
    texts = [path.read_text(errors="replace") for path in out.rglob("*") if path.suffix in (".json", ".csv", ".md")]
    texts += [result.stdout, result.stderr]
    assert all(REFERENCE_MARK not in text for text in texts)
    reader = json.loads((out / "results" / "reader.json").read_text())
    assert "class Adagrad" not in json.dumps(reader)


@pytest.mark.classes
@pytest.mark.skipif(os.geteuid() != 0, reason="dropping privileges needs the grader to run as root")
def test_the_forger_touched_no_file(graded):
    submissions, out, before, project_before, _ = graded
    assert _digest(submissions) == before  # the input folder, byte for byte
    assert sorted(str(path) for path in ROOT.iterdir()) == project_before
    assert json.loads((out / "results" / "alice.json").read_text())["score"] == 45
    assert not any(
        "forged" in path.read_text(errors="replace")
        for path in out.rglob("*")
        if path.is_file() and path.suffix != ".png"
    )


@pytest.mark.classes
def test_a_rerun_skips_what_is_current_and_regrades_what_changed(graded, tmp_path):
    submissions, out, _, _, _ = graded
    before = {path.name: path.stat().st_mtime_ns for path in (out / "results").iterdir()}
    again = _batch(submissions, out)
    assert again.returncode == 0 and "6 of 6 already graded" in again.stderr
    assert {path.name: path.stat().st_mtime_ns for path in (out / "results").iterdir()} == before


@pytest.mark.classes
def test_batch_and_check_give_the_same_verdicts(graded):
    """Replay must not change a verdict: the batch's results equal check's, test for test."""
    submissions, out, _, _, _ = graded
    for student in ("alice", "bob", "carol"):
        check = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "check",
                str(submissions / f"{student}.py"),
                "--json",
                str(out.parent / f"{student}-check.json"),
            ],
            capture_output=True,
            cwd=ROOT,
        )
        assert check.returncode in (0, 1)
        batch = json.loads((out / "results" / f"{student}.json").read_text())
        alone = json.loads((out.parent / f"{student}-check.json").read_text())
        assert [(t["name"], t["status"], t["output"]) for t in batch["tests"]] == [
            (t["name"], t["status"], t["output"]) for t in alone["tests"]
        ]


@pytest.mark.classes
def test_a_killed_run_resumes_and_leaves_no_broken_file(tmp_path):
    submissions = tmp_path / "class"
    submissions.mkdir()
    source = solution_source()
    for index in range(12):
        (submissions / f"student{index:02}.py").write_text(source + f"\n# copy {index}\n")
    out = tmp_path / "out"
    process = subprocess.Popen(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 3:
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    written = list((out / "results").glob("*.json"))
    assert 3 <= len(written) < 12, "the kill should land mid-run"
    for path in written:
        json.loads(path.read_text())  # complete JSON, never half a file
    resumed = _batch(submissions, out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert f"{len(written)} of 12 already graded" in resumed.stderr or "already graded" in resumed.stderr
    results = sorted((out / "results").glob("*.json"))
    assert len(results) == 12 and not list((out / "results").glob(".*"))
    assert all(json.loads(path.read_text())["score"] == 45 for path in results)


def test_a_grader_failure_costs_one_result_not_the_batch(tmp_path, monkeypatch):
    """A bug of ours on one submission must leave that student an error result and grade the rest."""
    submissions = tmp_path / "class"
    submissions.mkdir()
    for name in ("ok", "boom"):
        (submissions / f"{name}.py").write_text(solution_source() + f"\n# {name}\n")
    real_grade = grading.grade

    def grade(path, **kwargs):
        if Path(path).stem == "boom":
            raise RuntimeError("a bug in the grader")
        return real_grade(path, **kwargs)

    monkeypatch.setattr(grading, "grade", grade)
    _entries, results = runner.run(submissions, tmp_path / "out", runner.Settings(jobs=2, budget=60))
    assert results["ok"]["score"] == 45
    assert results["boom"]["extra_data"]["status"] == "error"
    assert "RuntimeError: a bug in the grader" in results["boom"]["output"]
