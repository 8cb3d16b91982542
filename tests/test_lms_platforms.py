"""The platforms that run the grader: Gradescope's zip (setup.sh in a fresh prefix, run_autograder in a
simulated /autograder), PrairieLearn's entry in a simulated /grade, GitHub Classroom's result and
workflow. Every results file is validated against its platform's schema (grader/platforms/schemas/).

Grading uses a small rubric (Adam's single calls and torch.optim, the in-place trajectory: 8 points)
and the example class's files, whose mistakes the answer key names (examples/submissions/README.md):
alice is right, carla's Adam has no bias correction, hana's notebook puts Adam's eps outside the root
(which torch.optim's eps = 0 test cannot see).
"""

import base64
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from functools import cache
from pathlib import Path

import jsonschema
import pytest
import torch
import yaml

from grader import cli, i18n
from grader.judge import rubric
from grader.outputs.results import GradeReport
from grader.outputs.results import TestResult as Result  # not a test class: pytest must not collect it
from grader.platforms import github_classroom, gradescope, kit, prairielearn, runner

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
SCHEMAS = ROOT / "grader" / "platforms" / "schemas"
SMALL_RUBRIC = {
    "title": "small",
    "parts": [
        {"tag": "adam", "title": "Adam", "tests": {"single_step": 4, "torch_optim": 1}},
        {"tag": "trajectory", "title": "train_f trajectory", "tests": {"in_place": 3}},
    ],
    "examples": {"single_step": 6, "torch_optim": 2, "in_place": 2},
}
FULL_MARKS = 8
# What each example file passes under SMALL_RUBRIC, from the answer key: (adam single calls, adam vs
# torch.optim with eps = 0, trajectory).
EXPECTED = {
    "alice_nguyen.py": (True, True, True),
    "carla_mendes.py": (False, False, True),
    "hana_sato.ipynb": (False, True, True),
}
SECRET, CANARY = "SECRET-4f1c9a", "CANARY-7be2d0"


@cache
def schema(platform):
    return json.loads((SCHEMAS / f"{platform}.schema.json").read_text(encoding="utf-8"))


def valid(platform, data):
    jsonschema.validate(data, schema(platform))
    return data


def read_json(path):
    text = Path(path).read_text(encoding="utf-8")
    return json.loads(text), text


def statuses(tests, key="status", passed="passed"):
    return tuple(test[key] == passed for test in tests)


@pytest.fixture(scope="module")
def workspace():
    """A folder every user may enter (0755, like /autograder): what keeps student code out of a folder
    in it is then that folder's own mode, as on the platform."""
    folder = Path(tempfile.mkdtemp(prefix="optimkit-lms-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def small_rubric(workspace):
    path = workspace / "small_rubric.json"
    path.write_text(json.dumps(SMALL_RUBRIC), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def autograder_zip(workspace, small_rubric):
    settings = runner.Settings(visibility=runner.parse_visibility(["after_due_date", "trajectory=visible"]))
    return gradescope.build_zip(workspace / "autograder.zip", settings, small_rubric)  # torch: the default pin


def hostile_source(root, kit_file="/nonexistent"):
    """alice's right answers, plus code that runs when the file loads: it reads what it must not (the
    source folder, the kit's reference solution) and a canary any user may read, tries to write the
    results file itself, prints a forged results JSON and floods its output."""
    attack = f"""

def _optimkit_attack():
    import os
    root, found = {str(root)!r}, []

    def peek(label, path):
        try:
            with open(path) as file:
                found.append(label + "=" + file.read(40))
        except Exception as error:
            found.append(label + ":refused:" + type(error).__name__)

    peek("CANARY", root + "/canary.txt")
    peek("SECRET", root + "/source/secret.txt")
    peek("KIT", {kit_file!r})
    try:
        found.append("LISTING=" + ",".join(os.listdir(root + "/source"))[:60])
    except Exception as error:
        found.append("LISTING:refused:" + type(error).__name__)
    try:
        os.makedirs(root + "/results", exist_ok=True)
        with open(root + "/results/results.json", "w") as file:
            file.write('{{"score": 1000, "tests": [], "output": "FORGED"}}')
        found.append("WROTE-RESULTS")
    except Exception as error:
        found.append("WRITE:refused:" + type(error).__name__)
    print("LOOT " + " | ".join(found))
    print('{{"score": 1000, "tests": [], "output": "FORGED"}}')
    print("x" * 3_000_000)
    return found


_optimkit_loot = _optimkit_attack()
"""
    return (EXAMPLES / "alice_nguyen.py").read_text(encoding="utf-8") + attack


def make_autograder_root(parent, autograder_zip, submission_files):
    """A simulated /autograder: source/ as Gradescope extracts the zip (plus an instructor's secret),
    submission/ with the student's files, run_autograder copied up, a canary any user may read."""
    root = Path(tempfile.mkdtemp(dir=parent, prefix="autograder-"))
    root.chmod(0o755)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # zipfile drops the mode bits; Gradescope keeps them
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777 or 0o644)
    (root / "source").chmod(0o755)  # as extracted: readable by all until the kit protects it
    (root / "source" / "secret.txt").write_text(SECRET, encoding="utf-8")
    (root / "source" / "secret.txt").chmod(0o644)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")
    (root / "canary.txt").write_text(CANARY, encoding="utf-8")
    (root / "canary.txt").chmod(0o644)
    (root / "submission").mkdir()
    for name, content in submission_files.items():
        path = root / "submission" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8") if isinstance(content, str) else path.write_bytes(content)
    return root


# --- Gradescope: the zip ----------------------------------------------------------------------------------


@pytest.mark.platforms
def test_the_zip_has_its_scripts_at_the_root_and_the_kit_inside(autograder_zip, small_rubric):
    with zipfile.ZipFile(autograder_zip) as archive:
        entries = {info.filename: info for info in archive.infolist()}
        assert {"setup.sh", "run_autograder", "optimkit.json", "rubric.json"} <= set(entries)
        for script in ("setup.sh", "run_autograder"):
            assert (entries[script].external_attr >> 16) & 0o111, f"{script} is not executable"
            assert archive.read(script).startswith(b"#!/usr/bin/env bash\n")
        wheels = [name for name in entries if name.startswith("optimkit-") and name.endswith(".whl")]
        assert len(wheels) == 1 and "/" not in wheels[0]
        settings = json.loads(archive.read("optimkit.json"))
        assert json.loads(archive.read("rubric.json")) == SMALL_RUBRIC
        setup = archive.read("setup.sh").decode()
        with zipfile.ZipFile(archive.open(wheels[0])) as wheel:
            packaged = set(wheel.namelist())
    assert "https://download.pytorch.org/whl/cpu" in setup
    default = next(line for line in setup.splitlines() if line.startswith("default_torch="))
    shell = subprocess.run(["bash", "-c", f'{default}\nprintf "%s" "$default_torch"'], capture_output=True, text=True)
    assert shell.stdout == "torch==2.13.0"
    # The pin is the torch these tests run with: a newer one must be tested before the platforms get it.
    assert shell.stdout == kit.TORCH_SPEC and torch.__version__.split("+")[0] == kit.TESTED_TORCH
    assert settings["visibility"] == {"default": "after_due_date", "parts": {"trajectory": "visible"}}
    assert settings["rubric"] == "rubric.json"
    # The wheel holds the kit, its reference solution and the scripts that the platforms' commands write.
    assert {
        "grader/platforms/gradescope.py",
        "reference/rules.py",
        "grader/judge/rubric.json",
        "grader/platforms/files/gradescope_run_autograder.sh",
    } <= packaged


def test_a_bad_rubric_or_visibility_is_refused_before_a_zip_is_written(workspace):
    bad = workspace / "bad_rubric.json"
    bad.write_text('{"parts": [{"tag": "adamm", "tests": {}}]}', encoding="utf-8")
    assert cli.main(["gradescope", "--out", str(workspace / "bad.zip"), "--rubric", str(bad)]) == 2
    assert cli.main(["gradescope", "--out", str(workspace / "bad.zip"), "--visibility", "adam=secret"]) == 2
    assert not (workspace / "bad.zip").exists()


# --- Gradescope: run_autograder ---------------------------------------------------------------------------


@pytest.mark.platforms
@pytest.mark.parametrize("student", sorted(EXPECTED))
def test_run_autograder_grades_a_submission_in_gradescope_format(workspace, autograder_zip, zygote, student):
    content = (EXAMPLES / student).read_text(encoding="utf-8")
    # Beside the graded file, what students upload too: a README and a folder of notes.
    root = make_autograder_root(
        workspace, autograder_zip, {student: content, "README.md": "my work", "notes/plot.png": b"\x89PNG"}
    )
    assert gradescope.run(root, zygote=zygote) == 0
    data, text = read_json(root / "results" / "results.json")
    valid("gradescope", data)
    assert statuses(data["tests"]) == EXPECTED[student]
    assert data["score"] == sum(test["score"] for test in data["tests"])
    assert data["score"] == sum(test["max_score"] for test in data["tests"] if test["status"] == "passed")
    assert all(
        type(test["score"]) in (int, float) and type(test["max_score"]) in (int, float) for test in data["tests"]
    )
    assert '"score": "' not in text  # numbers as numbers
    assert [test["visibility"] for test in data["tests"]] == ["after_due_date", "after_due_date", "visible"]
    assert data["extra_data"]["max_score"] == FULL_MARKS and data["extra_data"]["submission"] == student
    assert "max_score" not in data  # not a top-level key of Gradescope's format
    assert stat.S_IMODE((root / "source").stat().st_mode) == 0o700  # protected at each run
    assert stat.S_IMODE((ROOT / "grader").stat().st_mode) & 0o005  # a checkout's packages are left as they are


@pytest.mark.platforms
def test_a_hostile_submission_gains_nothing_and_reads_nothing(workspace, autograder_zip, zygote):
    """With full isolation (this machine's namespaces): the source folder does not exist for it."""
    root = make_autograder_root(workspace, autograder_zip, {})
    (root / "submission" / "optimizers.py").write_text(hostile_source(root), encoding="utf-8")
    assert gradescope.run(root, zygote=zygote) == 0
    data, text = read_json(root / "results" / "results.json")
    valid("gradescope", data)
    assert data["score"] == FULL_MARKS and all(statuses(data["tests"]))
    if data["extra_data"]["isolation"]["level"] != "full":
        pytest.skip("no namespaces here: the reduced case is the setup test's, as root")
    assert "LOOT CANARY:refused" in data["output"]  # its code ran, and saw none of the machine
    assert "SECRET:refused" in data["output"] and SECRET not in text
    # Its results.json went to its own /tmp (the path is under /tmp here), gone with its sandbox.
    assert len(data["tests"]) == 3 and data["extra_data"]["submission"] == "optimizers.py"


@pytest.mark.platforms
def test_a_submission_that_ends_its_process_while_loading_still_gets_results(workspace, autograder_zip, zygote):
    root = make_autograder_root(workspace, autograder_zip, {})
    source = (EXAMPLES / "alice_nguyen.py").read_text(encoding="utf-8")
    (root / "submission" / "optimizers.py").write_text("import os\n_bye = os._exit(0)\n" + source, encoding="utf-8")
    assert gradescope.run(root, zygote=zygote) == 0
    data, _ = read_json(root / "results" / "results.json")
    valid("gradescope", data)
    assert data["score"] == 0 and "could not be loaded" in data["output"]
    assert data["extra_data"]["status"] == "error" and len(data["tests"]) == 3


@pytest.mark.platforms
def test_a_submission_that_cannot_be_found_or_read_scores_zero_and_says_why(workspace, autograder_zip):
    cases = {
        "nothing": ({"README.md": "I forgot"}, "holds no .py or .ipynb file"),
        "two": ({"a.py": "x = 1\n", "b.py": "y = 2\n"}, "several files"),
        "latin1": ({"optimizers.py": "# caf\xe9\n".encode("latin-1")}, "not UTF-8"),
    }
    for name, (files, reason) in cases.items():
        root = make_autograder_root(workspace, autograder_zip, files)
        assert gradescope.run(root) == 0, name  # no worker is started for a file that cannot be read
        data, _ = read_json(root / "results" / "results.json")
        valid("gradescope", data)
        assert data["score"] == 0 and reason in data["output"], name
        assert len(data["tests"]) == 3 and not any(statuses(data["tests"])), name


@pytest.mark.platforms
def test_a_link_in_the_submission_is_never_followed(workspace, autograder_zip):
    root = make_autograder_root(workspace, autograder_zip, {})
    (root / "submission" / "optimizers.py").symlink_to(root / "source" / "secret.txt")
    (root / "submission" / "more").symlink_to(root / "source", target_is_directory=True)
    assert gradescope.run(root) == 0
    data, text = read_json(root / "results" / "results.json")
    assert data["score"] == 0 and "symbolic link" in data["output"] and SECRET not in text


@pytest.mark.platforms
def test_results_are_written_when_the_grader_itself_fails(workspace, autograder_zip, monkeypatch):
    # The grader crashes: a results file with score 0 that says so.
    root = make_autograder_root(workspace, autograder_zip, {"optimizers.py": "x = 1\n"})

    def crash(*args, **kwargs):
        raise RuntimeError("the worker could not start")

    monkeypatch.setattr(runner, "grade", crash)
    assert gradescope.run(root) == 1
    data, _ = read_json(root / "results" / "results.json")
    valid("gradescope", data)
    assert data["score"] == 0 and "the worker could not start" in data["output"]

    # Killed mid-grading (the platform's timeout): the file written at the start says so.
    def killed(*args, **kwargs):
        raise SystemExit(137)

    monkeypatch.setattr(runner, "grade", killed)
    with pytest.raises(SystemExit):
        gradescope.run(root)
    data, _ = read_json(root / "results" / "results.json")
    assert valid("gradescope", data)["score"] == 0 and "did not finish" in data["output"]
    monkeypatch.undo()
    # The settings shipped in the zip are broken: the same.
    (root / "source" / "optimkit.json").write_text('{"budget": "soon"}', encoding="utf-8")
    assert gradescope.run(root) == 1
    data, _ = read_json(root / "results" / "results.json")
    assert valid("gradescope", data)["score"] == 0 and "'budget'" in data["output"]
    # Python cannot even start: run_autograder writes the file itself, replacing one left there before.
    (root / "results" / "results.json").write_text('{"score": 1000, "tests": []}', encoding="utf-8")
    done = subprocess.run(
        ["bash", str(root / "run_autograder")],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "OPTIMKIT_AUTOGRADER_ROOT": str(root), "OPTIMKIT_PYTHON": "/bin/false"},
    )
    assert done.returncode == 0
    data, _ = read_json(root / "results" / "results.json")
    assert valid("gradescope", data)["score"] == 0 and "exit status 1" in data["output"]


@pytest.mark.platforms
@pytest.mark.skipif(os.geteuid() != 0, reason="Gradescope runs the autograder as root; student code then never does")
def test_setup_installs_the_kit_and_run_autograder_keeps_a_hostile_submission_out(workspace, autograder_zip):
    """setup.sh into a fresh prefix (the wheel from the zip, offline: torch and the dependencies come from
    this environment through a .pth file, pip from the base interpreter instead of ensurepip's copy, which
    costs seconds), then run_autograder, started as Gradescope starts it, with
    reduced isolation (OPTIMKIT_NAMESPACES=off and OPTIMKIT_LANDLOCK=off, as in a container on a kernel
    without Landlock): student code runs as a uid of its own and sees the whole file system, so only the
    folders' modes keep it out (tests/test_docker_container.py grades with Landlock there)."""
    root = make_autograder_root(workspace, autograder_zip, {})
    prefix = workspace / "prefix"
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = prefix / "lib" / version / "site-packages"
    site.mkdir(parents=True)
    (site / "optimkit-test-dependencies.pth").write_text(str(Path(torch.__file__).parents[1]) + "\n", encoding="utf-8")
    environment = {
        **os.environ,
        "OPTIMKIT_PREFIX": str(prefix),
        "OPTIMKIT_BASE_PYTHON": sys.executable,
        "OPTIMKIT_TORCH": "",
        "OPTIMKIT_PIP_OPTIONS": "--no-deps --no-index",
        "OPTIMKIT_VENV_OPTIONS": "--without-pip --system-site-packages",
    }
    environment.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", str(root / "source" / "setup.sh")], capture_output=True, text=True, env=environment)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "optimkit ready" in done.stdout
    installed = subprocess.run(
        [str(prefix / "bin" / "python"), "-c", "import grader, reference; print(grader.__file__)"],
        capture_output=True,
        text=True,
        cwd="/",
        env=environment,
    )
    assert installed.stdout.startswith(str(site)), installed.stdout + installed.stderr  # the wheel's, not this checkout
    for package in ("grader", "reference"):
        assert stat.S_IMODE((site / package).stat().st_mode) == 0o700
    assert stat.S_IMODE((root / "source").stat().st_mode) == 0o700

    (root / "submission" / "optimizers.py").write_text(
        hostile_source(root, str(site / "reference" / "rules.py")), encoding="utf-8"
    )
    run = subprocess.run(
        [str(root / "run_autograder")],
        capture_output=True,
        text=True,
        cwd=root,
        env={
            **environment,
            "OPTIMKIT_AUTOGRADER_ROOT": str(root),
            "OPTIMKIT_PYTHON": str(prefix / "bin" / "python"),
            "OPTIMKIT_NAMESPACES": "off",
            "OPTIMKIT_LANDLOCK": "off",
        },
    )
    assert run.returncode == 0, run.stdout + run.stderr
    data, text = read_json(root / "results" / "results.json")
    valid("gradescope", data)
    assert data["extra_data"]["isolation"]["level"] == "reduced"
    assert f"LOOT CANARY={CANARY}" in data["output"]  # it reads what any user may read, and it shows
    assert "SECRET:refused:PermissionError" in data["output"] and SECRET not in text
    assert "KIT:refused:PermissionError" in data["output"] and "LISTING:refused:PermissionError" in data["output"]
    assert "WRITE:refused:PermissionError" in data["output"]
    assert data["score"] == FULL_MARKS and all(statuses(data["tests"]))
    assert f"score {FULL_MARKS:g} of {FULL_MARKS:g}" in run.stdout and "isolation: REDUCED" in run.stdout


# --- PrairieLearn -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def question(workspace, small_rubric):
    out = workspace / "question"
    prairielearn.write_question(out, runner.Settings(), small_rubric, "someone/optimkit-grader", timeout=90)
    return out


def make_grade_root(parent, files, data=None):
    """A simulated /grade: student/ with the student's files, data/data.json, tests/; no results/."""
    root = Path(tempfile.mkdtemp(dir=parent, prefix="grade-"))
    root.chmod(0o755)
    for folder in ("student", "data", "tests"):
        (root / folder).mkdir()
    (root / "data" / "data.json").write_text(
        json.dumps(data or {"params": {}, "submitted_answers": {}}), encoding="utf-8"
    )
    for name, content in files.items():
        path = root / "student" / name
        path.write_text(content, encoding="utf-8") if isinstance(content, str) else path.write_bytes(content)
    return root


@pytest.mark.platforms
def test_the_question_files(question):
    info = json.loads((question / "info.json").read_text(encoding="utf-8"))
    assert info["gradingMethod"] == "External"
    assert info["externalGradingOptions"] == {
        "image": "someone/optimkit-grader",
        "entrypoint": "/optimkit/grade",
        "timeout": 90,
    }
    dockerfile = (question / "Dockerfile").read_text(encoding="utf-8")
    wheel = next(question.glob("optimkit-*.whl")).name
    assert f"COPY {wheel} grade optimkit.json rubric.json /optimkit/" in dockerfile
    assert 'ENTRYPOINT ["/optimkit/grade"]' in dockerfile and "download.pytorch.org/whl/cpu" in dockerfile
    assert os.access(question / "grade", os.X_OK)
    settings = runner.load_settings(question / "optimkit.json")
    assert 0 < settings.budget < 90  # the grader stops before PrairieLearn kills the job
    assert json.loads((question / "rubric.json").read_text(encoding="utf-8")) == SMALL_RUBRIC
    # Either a .py or a notebook may be handed in (the grader refuses neither and both, as not gradable).
    assert 'optional-file-names="optimizers.py, optimizers.ipynb"' in (question / "question.html").read_text(
        encoding="utf-8"
    )


def test_a_timeout_prairielearn_refuses_is_refused(workspace):
    assert cli.main(["prairielearn", "--out", str(workspace / "refused"), "--timeout", "601"]) == 2
    assert not (workspace / "refused" / "info.json").exists()


@pytest.mark.platforms
@pytest.mark.parametrize("student", ["alice_nguyen.py", "carla_mendes.py", "hana_sato.ipynb"])
def test_the_entry_grades_a_submission_in_prairielearn_format(workspace, question, zygote, student):
    name = "optimizers" + Path(student).suffix  # the question takes a notebook as well as a .py
    root = make_grade_root(workspace, {name: (EXAMPLES / student).read_text(encoding="utf-8")})
    assert prairielearn.run(root, question / "optimkit.json", zygote=zygote) == 0
    data, text = read_json(root / "results" / "results.json")
    valid("prairielearn", data)
    assert len(text.encode("utf-8")) < prairielearn.MAX_BYTES
    assert data["gradable"] is True
    passed = tuple(test["points"] == test["max_points"] for test in data["tests"])
    assert passed == EXPECTED[student]
    points = sum(test["points"] for test in data["tests"])
    assert data["score"] == pytest.approx(points / FULL_MARKS)
    assert data["message"].startswith(f"{points:g} / {FULL_MARKS:g} points")
    for test in data["tests"]:
        assert (test["message"] == "passed") == (test["points"] == test["max_points"])
        assert test["points"] == test["max_points"] or "Likely mistake" in test["output"]
    assert stat.S_IMODE((root / "tests").stat().st_mode) == 0o700


@pytest.mark.platforms
def test_an_unreadable_submission_is_not_gradable(workspace, question):
    cases = {
        "nothing": ({}, "holds no .py or .ipynb file"),
        "latin1": ({"optimizers.py": "# caf\xe9\n".encode("latin-1")}, "not UTF-8"),
        "not a notebook": ({"optimizers.ipynb": "{not json"}, "optimizers.ipynb"),
    }
    for name, (files, reason) in cases.items():
        root = make_grade_root(workspace, files)
        assert prairielearn.run(root, question / "optimkit.json") == 0, name
        data, _ = read_json(root / "results" / "results.json")
        valid("prairielearn", data)
        assert data["gradable"] is False and reason in data["format_errors"][0], name
    root = make_grade_root(workspace, {"optimizers.py": "x = 1\n"})
    assert prairielearn.run(root, workspace / "no-settings.json") == 1  # the grader's fault: not gradable either
    data, _ = read_json(root / "results" / "results.json")
    assert valid("prairielearn", data)["gradable"] is False and "not a verdict on your code" in data["message"]


@pytest.mark.platforms
def test_the_entry_script_writes_results_and_follows_the_question_data(workspace, question):
    """The `grade` script as PrairieLearn starts it; data.json names which of two files is graded."""
    files = {"optimizers.py": "# caf\xe9\n".encode("latin-1"), "mine.py": b"\xff\xfe not text"}
    script = question / "grade"
    environment = {
        **os.environ,
        "OPTIMKIT_SETTINGS": str(question / "optimkit.json"),
        "OPTIMKIT_PYTHON": sys.executable,
        "PYTHONPATH": str(ROOT),
    }
    for chosen, error in ((None, "optimizers.py, line 1"), ("mine.py", "mine.py is saved as UTF-16")):
        data = {"params": {"optimkit": {"submission": chosen}} if chosen else {}}
        root = make_grade_root(workspace, files, data)
        done = subprocess.run(
            [str(script)],
            capture_output=True,
            text=True,
            cwd=root,
            env={**environment, "OPTIMKIT_GRADE_ROOT": str(root)},
        )
        assert done.returncode == 0, done.stderr
        data, _ = read_json(root / "results" / "results.json")
        valid("prairielearn", data)
        assert data["gradable"] is False and error in data["format_errors"][0], data
    # The grader cannot start: the script's own results, not gradable.
    root = make_grade_root(workspace, {"optimizers.py": "x = 1\n"})
    done = subprocess.run(
        [str(script)],
        capture_output=True,
        text=True,
        cwd=root,
        env={**environment, "OPTIMKIT_GRADE_ROOT": str(root), "OPTIMKIT_PYTHON": "/bin/false"},
    )
    data, _ = read_json(root / "results" / "results.json")
    assert done.returncode == 0 and valid("prairielearn", data)["gradable"] is False


def test_results_stay_under_prairielearns_limit():
    flood = "0123456789" * 200_000  # 2 MB of output in each test
    tests = tuple(Result("adam", f"t{index}", f"Adam: test {index}", 1, False, flood) for index in range(5))
    report = GradeReport(
        submission="optimizers.py",
        sha256="",
        tests=tests,
        output=flood,
        grader_version="0",
        seed=1,
        devices=("cpu",),
        execution_time=1.0,
    )
    data = valid("prairielearn", prairielearn.results(report))
    assert len(json.dumps(data).encode("utf-8")) < prairielearn.MAX_BYTES
    assert len(data["tests"]) == 5 and all("more characters cut" in test["output"] for test in data["tests"])
    assert data["score"] == 0


# --- GitHub Classroom -------------------------------------------------------------------------------------


@pytest.mark.platforms
def test_check_classroom_writes_the_reporters_result(workspace, small_rubric, capsys):
    output = workspace / "github_output"
    output.write_text("earlier=1\n", encoding="utf-8")  # GITHUB_OUTPUT holds the step's other outputs too
    code = cli.main(
        ["check", str(EXAMPLES / "carla_mendes.py"), "--rubric", str(small_rubric), "--classroom", str(output)]
    )
    assert code == 1  # not full marks, as without --classroom
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "earlier=1" and lines[1].startswith("result=") and len(lines) == 2
    data = valid("classroom", json.loads(base64.b64decode(lines[1][len("result=") :], validate=True)))
    assert data["status"] == "fail" and data["max_score"] == FULL_MARKS
    assert statuses(data["tests"], passed="pass") == EXPECTED["carla_mendes.py"]
    assert sum(test["score"] for test in data["tests"]) == 3  # what the reporter adds up
    assert "Likely mistake" in data["tests"][0]["message"]


def test_check_classroom_outside_actions_is_a_one_line_error(workspace, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_OUTPUT", raising=False)
    assert cli.main(["check", str(EXAMPLES / "alice_nguyen.py"), "--classroom"]) == 2
    assert "GITHUB_OUTPUT" in capsys.readouterr().err
    assert cli.main(["check", str(EXAMPLES / "alice_nguyen.py"), "--classroom", str(workspace / "no" / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_the_classroom_result_of_an_unreadable_submission_is_an_error(workspace, small_rubric):
    report = runner.unreadable_report(rubric.load(small_rubric), "optimizers.py is not UTF-8", 1, 0.1)
    data = valid("classroom", github_classroom.result(report))
    assert data["status"] == "error" and {test["status"] for test in data["tests"]} == {"error"}


@pytest.mark.platforms
def test_the_classroom_workflow(workspace, capsys):
    out = workspace / "template"
    name = 'my "optimizers" v2.py'
    assert cli.main(["classroom-workflow", "--out", str(out), "--submission", name]) == 0
    assert "not for a secure grade" in capsys.readouterr().out
    workflow = yaml.safe_load((out / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    grade = next(step for step in steps if step.get("id") == "optimkit")
    assert grade["env"]["SUBMISSION"] == name and "--classroom" in grade["run"] and '"$SUBMISSION"' in grade["run"]
    install = next(step for step in steps if "KIT_WHEEL" in step.get("env", {}))
    assert (out / install["env"]["KIT_WHEEL"]).is_file()
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == "optimkit" and reporter["if"] == "always()"
    assert reporter["env"]["OPTIMKIT_RESULTS"] == "${{ steps.optimkit.outputs.result }}"
    # Written once; replaced only when asked.
    assert cli.main(["classroom-workflow", "--out", str(out)]) == 2
    assert cli.main(["classroom-workflow", "--out", str(out), "--force"]) == 0


# --- Finding the submission -------------------------------------------------------------------------------


def test_find_submission(tmp_path):
    (tmp_path / "repo" / "assignments").mkdir(parents=True)
    (tmp_path / "repo" / "assignments" / "optimizers.py").write_text("x = 1\n")
    assert runner.find_submission(tmp_path / "repo") == tmp_path / "repo" / "assignments" / "optimizers.py"
    (tmp_path / "repo" / "helpers.py").write_text("y = 1\n")
    (tmp_path / "repo" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "repo" / ".ipynb_checkpoints" / "optimizers.py").write_text("z = 1\n")
    assert runner.find_submission(tmp_path / "repo").name == "optimizers.py"  # the one named as expected
    (tmp_path / "repo" / "optimizers.ipynb").write_text("{}")
    with pytest.raises(runner.SubmissionError, match="several"):
        runner.find_submission(tmp_path / "repo")
    assert runner.find_submission(tmp_path / "repo", ("optimizers.ipynb",)).suffix == ".ipynb"


# --- the students' language (issue 24) --------------------------------------------------------------------


def _fake_wheel(folder):
    """A stand-in for the kit's wheel (building the real one takes seconds): the files around it are tested."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / "optimkit-0.0-py3-none-any.whl"
    wheel.write_bytes(b"not a wheel")
    return wheel


def _only_change(english, other):
    """The one line that differs between two texts of as many lines: (english line, other line)."""
    pairs = [(a, b) for a, b in zip(english.splitlines(), other.splitlines(), strict=True) if a != b]
    assert len(pairs) == 1, pairs
    return pairs[0]


def test_each_platform_runs_the_grader_in_the_language_chosen(tmp_path, monkeypatch):
    """`--lang zh-CN` reaches the command each platform runs (Gradescope's run_autograder, PrairieLearn's
    grade, the Classroom workflow's step), and nothing else changes; English leaves every file as it is."""
    monkeypatch.setattr(kit, "build_wheel", _fake_wheel)
    rubric_path = ROOT / "grader" / "judge" / "rubric.json"
    files = ROOT / "grader" / "platforms" / "files"
    written = {}
    for language in ("en", "zh-CN"):
        out = tmp_path / language
        zip_path = gradescope.build_zip(out / "autograder.zip", runner.Settings(), rubric_path, language=language)
        with zipfile.ZipFile(zip_path) as archive:
            run_autograder = archive.read("run_autograder").decode("utf-8")
            assert archive.getinfo("run_autograder").external_attr >> 16 & 0o111
        prairielearn.write_question(out / "question", runner.Settings(), rubric_path, "me/grader", language=language)
        grade = out / "question" / "grade"
        assert grade.stat().st_mode & 0o111
        github_classroom.write_workflow(out / "repo", language=language)
        workflow = (out / "repo" / ".github" / "workflows" / "classroom.yml").read_text(encoding="utf-8")
        written[language] = (run_autograder, grade.read_text(encoding="utf-8"), workflow)
    english, chinese = written["en"], written["zh-CN"]
    assert english[0] == (files / "gradescope_run_autograder.sh").read_text(encoding="utf-8")
    assert english[1] == (files / "prairielearn_grade.sh").read_text(encoding="utf-8")
    assert "--lang" not in english[2]
    changed = [_only_change(ours, theirs) for ours, theirs in zip(english, chinese, strict=True)]
    assert [theirs for _, theirs in changed] == [f"{ours} --lang zh-CN" for ours, _ in changed]
    assert changed[0][1].endswith("-m grader.platforms.gradescope --lang zh-CN")
    assert changed[1][1].endswith("-m grader.platforms.prairielearn --lang zh-CN")
    assert changed[2][1].endswith('optimkit check "$SUBMISSION" --classroom --lang zh-CN')
    step = next(step for step in yaml.safe_load(chinese[2])["jobs"]["run-autograding-tests"]["steps"] if "id" in step)
    assert cli.build_parser().parse_args(step["run"].split()[1:]).lang == "zh-CN"


def test_a_platform_runner_speaks_the_language_its_script_names():
    try:
        assert kit.speak_language_of(["--lang", "zh-CN"]) == "zh-CN" and i18n.language() == "zh-CN"
        assert kit.speak_language_of([]) == "en" and i18n.language() == "en"
        with pytest.raises(SystemExit):
            kit.speak_language_of(["--lang", "fr"])
    finally:
        i18n.set_language(i18n.DEFAULT)
