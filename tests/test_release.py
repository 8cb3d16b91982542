"""The student release: `python -m grader release` writes a bundle whose self-check runs without the kit,
in a fresh environment holding only what the bundle declares, and that holds no solution in any form.

One bundle and one environment serve the whole module. The environment is a virtual environment whose
only packages are the distributions requirements.txt names and their dependencies, linked from this
environment (installing torch afresh costs ~90 s), so that neither `grader` nor `reference` (nor
hypothesis, nor IPython) can be imported there: the tests prove it first.
"""

import ast
import io
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from grading_support import grade_text, replace_function

from grader import defaults, i18n
from grader.assignment import build_assignment
from grader.cli import build_parser
from grader.explain.mistakes import BANK, find, mutate
from grader.i18n import _
from grader.judge.parts import RULES
from grader.release import ReleaseError, build_release, cases, scan
from grader.release.bundle import (
    CELL_COMMENT,
    CELL_NAMES,
    CELL_NO_GRADER,
    CELL_SEVERAL,
    SELF_CHECK_CELL,
    _notebook,
    _script,
)
from grader.release.contents import (
    I18N_DOMAINS,
    I18N_SOURCE,
    I18N_TARGET,
    SELFCHECK_DATA,
    SELFCHECK_FILES,
    SHARED_FILES,
)
from grader.release.environment import declared_environment
from grader.release.scan import bundle_files, scan_files

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
PARTS = ("adagrad", "rmsprop", "momentum", "adam")


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release") / "bundle"
    written = build_release(folder, make_zip=True)
    return folder, next(path for path in written if path.suffix == ".zip")


@pytest.fixture(scope="module")
def student_python(release, tmp_path_factory):
    """A fresh venv with only the bundle's requirements (and their dependencies): its python."""
    return declared_environment(release[0], tmp_path_factory.mktemp("student-env"))


def _env(**extra):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    }
    return dict(env, PYTHONNOUSERSITE="1", **extra)


@pytest.fixture(scope="module")
def desk(release, tmp_path_factory):
    """A student's copy of the bundle, with the submissions the tests check."""
    folder = tmp_path_factory.mktemp("student") / "optimizers-assignment"
    shutil.copytree(release[0], folder)
    solution = build_assignment(solution=True, files=("optimizers.py", "optimizers.ipynb"))
    (folder / "solution.py").write_text(solution["optimizers.py"])
    notebook = json.loads(solution["optimizers.ipynb"])
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    code[0]["source"] = ["%matplotlib inline\n", "!pip list\n", *code[0]["source"]]  # IPython syntax, not run
    code[1]["source"] = ["%%time\n", *code[1]["source"]]  # its body runs, as in Jupyter
    (folder / "solution.ipynb").write_text(json.dumps(notebook))
    return folder


class _Run:
    """A command started at once and read when a test needs it (so the runs share the machine's cores)."""

    def __init__(self, command, folder, **env):
        self.process = subprocess.Popen(
            [str(part) for part in command],
            cwd=folder,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=_env(**env),
        )
        self.stdout, self.returncode = None, None

    def result(self):
        if self.returncode is None:
            self.stdout, _ = self.process.communicate(timeout=600)
            self.returncode = self.process.returncode
        return self


def _self_check(python, folder, *arguments, **env):
    return _Run([python, "-m", "pytest", "grader", "-p", "no:cacheprovider", *arguments], folder, **env)


@pytest.fixture(scope="module")
def runs(student_python, kernel_python, desk, tmp_path_factory):
    """Every self-check run of this module, started together (they wait mostly on their own torch import)."""
    _hostile(desk)
    batch_folder = tmp_path_factory.mktemp("batch")
    submissions = _bank_submissions((desk / "solution.py").read_text(), batch_folder)
    recorders = _train_f_submissions((desk / "solution.py").read_text(), batch_folder)
    started = {
        # With Jupyter's packages: the example class holds notebooks.
        "bank": _Run(
            [
                kernel_python,
                "-m",
                "grader.batch",
                "--nesterov",
                "--json",
                batch_folder / "verdicts.json",
                *submissions,
                *EXAMPLE_FILES,
                desk / "hostile.py",
                *recorders.values(),
            ],
            desk,
            OPTIMKIT_SELFCHECK_PART_SECONDS="4",
        ),
        "solution": _self_check(student_python, desk, "--submission", "solution.py", "--nesterov"),
        "collapsing": _self_check(student_python, desk, "--submission", recorders["detached_view"], "-k", "trajectory"),
        "stub": _self_check(student_python, desk),  # the default: optimizers.py beside grader/
        "notebook": _self_check(kernel_python, desk, "--submission", "solution.ipynb"),  # with Jupyter's packages
        "no jupyter": _self_check(student_python, desk, "--submission", "solution.ipynb", "-k", "adagrad"),
        "spawn": _self_check(
            student_python,
            desk,
            "--submission",
            "hostile.py",
            OPTIMKIT_SELFCHECK_SPAWN="1",
            OPTIMKIT_SELFCHECK_PART_SECONDS="4",
        ),
    }
    yield dict(started, submissions=submissions, recorders=recorders, verdicts=batch_folder / "verdicts.json")
    for run in started.values():
        if run.process.poll() is None:
            run.process.kill()
            run.process.wait()


def _failed(output):
    return sorted(re.findall(r"^FAILED grader/test_parts.py::test_(\w+)\[(\w+)\]", output, flags=re.MULTILINE))


def test_the_cli_has_release():
    args = build_parser().parse_args(["release", "--out", "somewhere", "--zip"])
    assert args.out == Path("somewhere") and args.zip


def test_release_refuses_the_grading_seed_and_a_foreign_folder(tmp_path):
    with pytest.raises(ReleaseError, match="seed"):
        build_release(tmp_path / "a", seed=defaults.SEED)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "thesis.tex").write_text("mine")
    with pytest.raises(ReleaseError, match="not an earlier bundle"):
        build_release(tmp_path / "b")
    assert (tmp_path / "b" / "thesis.tex").read_text() == "mine"


def test_the_bundle_holds_what_students_need_and_nothing_of_the_kit(release):
    folder, archive = release
    names = set(bundle_files(folder))
    assert {
        "optimizers.py",
        "optimizers.ipynb",
        "README.md",
        "requirements.txt",
        "pytest.ini",
        "grader/conftest.py",
        "grader/cases.json",
        "grader/test_parts.py",
    } <= names
    assert {name.split("/", 1)[1] for name in bundle_files(archive)} == names
    # grader/ is the self-check (students type `pytest grader`): its own files only, nothing of the kit's grader
    assert {name for name in names if name.startswith("grader/")} == {
        f"grader/{name}" for name in (*SELFCHECK_FILES.values(), *SHARED_FILES.values(), *SELFCHECK_DATA, I18N_TARGET)
    }
    assert not [name for name in names if name.split("/")[0] == "reference"]
    kit_only = {
        "grading.py",
        "client.py",
        "launcher.py",
        "checks.py",
        "compare.py",
        "mistake.py",
        "splice.py",
        "diagnosis.py",
        "adam.py",
    }
    assert not kit_only & {name.split("/")[-1] for name in names}
    assert scan_files(bundle_files(folder)) == []
    assert scan_files(bundle_files(archive)) == []


def test_the_scan_finds_a_solution_however_it_is_disguised(release):
    """Could the scan fail? A solution body renamed and reformatted, a bank body inside a JSON string or
    README prose, an import of the kit, a compiled file: each is found."""
    adam = ast.parse((ROOT / "reference" / "optimizers.py").read_text())
    body = next(
        node
        for node in ast.walk(adam)
        if isinstance(node, ast.FunctionDef)
        and node.name == "adam"
        and any(isinstance(s, ast.Assign) for s in node.body)
    ).body[1:]
    disguised = ast.unparse(ast.Module(body=body, type_ignores=[]))
    for old, new in (("gradient_x", "g"), ("M_hat", "m_corr"), ("G_hat", "v_corr"), ("init_lr", "lr")):
        disguised = re.sub(rf"\b{old}\b", new, disguised)
    disguised = "def helper(self, x, g, G, M, t, lr):\n    # my version\n" + textwrap.indent(disguised, "        ")
    files = bundle_files(release[0])
    mistake = find("rmsprop", "eps_outside_sqrt").body
    planted = {
        "grader/extra.py": disguised.replace("        ", "    ").encode(),
        "grader/notes.json": json.dumps({"hint": textwrap.dedent(mistake)}).encode(),
        "README.md": files["README.md"]
        + ("\nA hint:\n\n" + textwrap.indent(textwrap.dedent(mistake), "    ")).encode(),
        "grader/more.py": b"from reference import rules\n",
        "grader/__pycache__/judge.cpython-311.pyc": b"\0",
    }
    findings = "\n".join(scan_files(dict(files, **planted)))
    assert "grader/extra.py: the code of solution Adam.adam" in findings
    assert "grader/notes.json: the code of mistake rmsprop/eps_outside_sqrt" in findings
    assert "README.md: the text of mistake rmsprop/eps_outside_sqrt" in findings
    assert "grader/more.py: imports the kit" in findings
    assert "judge.cpython-311.pyc: a file of a kind" in findings


@pytest.mark.release
def test_the_fresh_environment_has_the_declared_packages_only(student_python, desk):
    probe = (
        "import importlib.util, json\nprint(json.dumps({name: importlib.util.find_spec(name) is not None for name "
        "in ('torch', 'numpy', 'matplotlib', 'PIL', 'pytest', 'grader', 'reference', 'hypothesis', 'IPython')}))"
    )
    # From outside the bundle: its own grader/ (the self-check) is not the kit, which must not be installed.
    result = subprocess.run(
        [str(student_python), "-c", probe], cwd=desk.parent, capture_output=True, text=True, env=_env()
    )
    assert json.loads(result.stdout) == {
        "torch": True,
        "numpy": True,
        "matplotlib": True,
        "PIL": True,
        "pytest": True,
        "grader": False,
        "reference": False,
        "hypothesis": False,
        "IPython": False,
    }, result.stderr


@pytest.mark.release
def test_the_solution_passes_everything(runs):
    result = runs["solution"].result()
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"^total +50 / 50$", result.stdout, flags=re.MULTILINE)
    assert "21 passed" in result.stdout  # 21 graded items; the advice item is no test (it passes nothing)


@pytest.mark.release
def test_the_stub_fails_exactly_the_four_blank_parts_each_saying_what_to_write(runs):
    result = runs["stub"].result()
    assert result.returncode == 1
    failed = _failed(result.stdout)
    assert {part for part, _ in failed} == set(PARTS) and len(failed) == 16
    for name in ("Adagrad.adagrad", "RMSprop.rmsprop", "Momentum.momentum", "Adam.adam"):
        assert f"{name} is not implemented yet (implement {name}:" in result.stdout
    assert re.search(r"^trajectory +5 / 5$", result.stdout, flags=re.MULTILINE)
    assert re.search(r"^total +5 / 45$", result.stdout, flags=re.MULTILINE)


@pytest.mark.release
def test_a_notebook_with_ipython_syntax_passes(runs):
    """Read by the grader's own notebook reader (IPython's TransformerManager), shipped in the bundle."""
    result = runs["notebook"].result()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "IPython commands (magics, `!` shell lines, `?` help) are not run" in result.stdout
    assert "code cell 1, line 1 `%matplotlib inline`, line 2 `!pip list`" in result.stdout
    assert re.search(r"^total +45 / 45$", result.stdout, flags=re.MULTILINE)


@pytest.mark.release
def test_a_notebook_checked_without_jupyters_packages_says_what_to_install(runs):
    result = runs["no jupyter"].result()
    assert result.returncode == 1
    assert "reading a notebook needs Jupyter's own packages" in result.stdout
    assert "python -m pip install notebook" in result.stdout


def _hostile(desk):
    """The solution with an RMSprop mistake, and AdaGrad, Momentum and Adam that exit, crash and hang."""
    source = mutate((desk / "solution.py").read_text(), find("rmsprop", "eps_outside_sqrt"))
    for rule, body in (
        ("adagrad", "import sys\nsys.exit(3)"),
        ("momentum", "import os\nos._exit(7)"),
        ("adam", "while True:\n    pass"),
    ):
        bank = BANK[rule][0]
        source = mutate(source, type(bank)(rule=rule, slug="x", title="", hint="", method=rule, body=body))
    path = desk / "hostile.py"
    path.write_text(source)
    return path


@pytest.mark.release
def test_without_fork_a_crash_or_hang_costs_only_its_part(runs):
    """The path Windows takes (no fork), forced: the student's code runs in plain subprocesses, and one
    that is killed (hang) or dies (os._exit) is replaced for the parts left."""
    result = runs["spawn"].result()
    assert result.returncode == 1
    assert {part for part, _ in _failed(result.stdout)} == set(PARTS)
    assert "Adagrad.adagrad() raised SystemExit: called sys.exit(3)" in result.stdout
    assert "the process running this part ended abruptly" in result.stdout  # momentum
    assert "the process running this part took too long (no answer within 4 s" in result.stdout  # adam
    assert (
        "Likely mistake: RMSprop: your update matches RMSprop with epsilon added outside the square root"
        in result.stdout
    )
    assert re.search(r"^trajectory +5 / 5$", result.stdout, flags=re.MULTILINE)


def _answer_key():
    """{file: (score, max)} from the example class's README table."""
    key = {}
    for file, score, most in re.findall(
        r"^\| \w+ \| `([\w/.]+)` \|.*\| (\d+) / (\d+)", (EXAMPLES / "README.md").read_text(), flags=re.MULTILINE
    ):
        key[file.split("/")[0]] = (float(score), float(most))
    return key


EXAMPLE_FILES = sorted(EXAMPLES.glob("*.py")) + sorted(EXAMPLES.glob("*.ipynb")) + [EXAMPLES / "dana_kowalski"]


def _bank_submissions(solution, folder):
    """{path: mistake}: the solution with each bank mistake swapped in."""
    submissions = {}
    for rule, bank in BANK.items():
        for mistake in bank:
            path = folder / f"{rule}__{mistake.slug}.py"
            path.write_text(mutate(solution, mistake))
            submissions[str(path)] = mistake
    return submissions


@pytest.mark.release
def test_every_bank_mistake_fails_its_part_and_is_named(runs, desk):
    """One run (one torch import, a fork per submission): every mistake of the bank, the example class
    (whose scores must be those of its answer key), and the hostile submission on the fork path."""
    bank = runs["bank"].result()
    submissions, examples, hostile = runs["submissions"], EXAMPLE_FILES, desk / "hostile.py"
    out = runs["verdicts"]
    assert out.is_file(), bank.stdout[-3000:]
    reports = {report["submission"]: report for report in json.loads(out.read_text())}
    titles = {m.title for bank in BANK.values() for m in bank}
    for path, mistake in submissions.items():
        failed = [test for test in reports[path]["tests"] if test["graded"] and not test["passed"]]
        assert {test["part"] for test in failed} == {mistake.rule}, (mistake.key, failed)
        text = "\n".join(test["message"] for test in failed)
        assert mistake.title in text and "Likely mistake, one of" not in text, (mistake.key, text[-600:])
        named = re.findall(r"your update matches \w+ (.+?)\. Fix:", text)
        assert {title for title in named if title in titles} <= {mistake.title}, (mistake.key, named)
    key = _answer_key()
    for example in examples:
        report = reports[str(example)]
        nesterov = sum(t["points"] for t in report["tests"] if t["part"] == "nesterov")
        assert (report["score"] - nesterov, report["max_score"] - nesterov) == key[example.name], example.name
    fork_hostile = {test["part"] for test in reports[str(hostile)]["tests"] if test["graded"] and not test["passed"]}
    assert fork_hostile == set(PARTS)
    assert "no answer within 4 s" in json.dumps(reports[str(hostile)])


# train_f written the ways students get it wrong: each records something else than x before each step.
TRAIN_F_MISTAKES = {
    "loss_after_step": ("points.append(x.clone())", "model(x)", "x = model.params['x']; losses.append(model.f(x))"),
    "never_reads_back": ("points.append(x.clone())", "losses.append(model(x))", "pass"),
    "records_x_init": ("points.append(x_init.clone())", "losses.append(model(x))", "x = model.params['x']"),
    "detached_view": ("points.append(x.detach())", "losses.append(model(x))", "x = model.params['x']"),
    "after_the_step": ("losses.append(model(x))", "", "x = model.params['x']; points.append(x.clone())"),
}
TRAIN_F = """
def train_f(model, optimizer, x_init, epoch):
    x = x_init.clone()
    points, losses = [], []
    for _ in range(epoch):
        {record}
        {loss}
        model.backward()
        optimizer.step()
        {after}
    return torch.stack(points), torch.stack(losses)
"""


def _train_f_submissions(solution, folder):
    """{name: path}: the solution with each of TRAIN_F_MISTAKES as its train_f."""
    paths = {}
    for name, (record, loss, after) in TRAIN_F_MISTAKES.items():
        path = folder / f"train_f__{name}.py"
        body = TRAIN_F.format(record=record, loss=loss or "pass", after=after)
        path.write_text(replace_function(solution, "train_f", body), encoding="utf-8")
        paths[name] = path
    return paths


def _problem_of(message):
    """A trajectory verdict's sentence, without the case it was found on and without its numbers."""
    sentence = re.split(r" on (?:cpu|cuda\S*): ", message, maxsplit=1)[-1].split("\n")[0]
    return re.sub(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", "#", sentence)


@pytest.mark.release
def test_the_self_check_and_the_grader_say_the_same_about_train_f(runs, zygote, tmp_path):
    """One implementation: for each way of recording train_f wrong, the self-check's verdicts are the
    grader's sentences (its cases differ, so its numbers may)."""
    out = runs["verdicts"]
    runs["bank"].result()
    reports = {report["submission"]: report for report in json.loads(out.read_text())}
    for name, path in runs["recorders"].items():
        mine = {
            test["test"]: _problem_of(test["message"])
            for test in reports[str(path)]["tests"]
            if test["part"] == "trajectory" and test["graded"] and not test["passed"]
        }
        graded = grade_text(path.read_text(encoding="utf-8"), tmp_path, zygote, "trajectory", name=path.name)
        theirs = {
            test.test: _problem_of(test.output)
            for test in graded.tests
            if test.test in ("in_place", "out_of_place") and not test.passed
        }
        assert mine and mine == theirs, (name, mine, theirs)


@pytest.mark.release
def test_the_shallow_copy_bug_fails_in_place_and_its_advice_item_stays_silent(runs):
    """The bug the course is about, in `pytest grader`: the in-place test names it, the points table is printed,
    and the advice item (not judged while the trajectory is wrong) adds nothing."""
    result = runs["collapsing"].result()
    assert result.returncode == 1, result.stdout[-3000:]
    assert _failed(result.stdout) == [("trajectory", "in_place")], result.stdout[-3000:]
    assert "the 'shallow copy' bug" in result.stdout and "It records x.detach()" in result.stdout
    assert re.search(r"^trajectory\s+\d+ / 5$", result.stdout, re.M) and "Traceback" not in result.stdout
    assert "Advice, not graded" not in result.stdout


# ------------------------------------------------------------------ a student's walk-through (issue 21)

STUDENT_TEXTS = ("README.md", "optimizers.py", "optimizers.ipynb", "requirements.txt")


def test_every_text_a_student_reads_gives_the_commands_they_have(release):
    """`pytest grader`, as in the project and on the course's card; never the kit's own commands."""
    files = bundle_files(release[0])
    for name in STUDENT_TEXTS:
        text = files[name].decode("utf-8")
        for absent in ("pytest selfcheck", "selfcheck/", "python -m grader", "optimkit", "assignments/"):
            assert absent not in text, (name, absent)
    for name in ("README.md", "optimizers.py", "optimizers.ipynb"):
        assert "pytest grader" in files[name].decode("utf-8"), name


def test_the_self_check_reads_runs_and_judges_with_the_graders_own_modules_unchanged(release):
    """One implementation: the modules that read a submission, run its top level, call its classes and
    judge what they return are the grader's own, shipped byte for byte, so the two cannot drift apart."""
    files = bundle_files(release[0])
    for source, target in SHARED_FILES.items():
        assert files[f"grader/{target}"] == (ROOT / "grader" / source).read_bytes(), target


@pytest.fixture(scope="module")
def kernel_python(release, tmp_path_factory):
    """The student's environment with what `pip install notebook` brings to read and run a notebook:
    ipykernel (with IPython) and nbformat (the `notebook` package itself, Jupyter's web front end, is not
    needed to run cells, and is not installed here)."""
    folder = tmp_path_factory.mktemp("student-kernel-env")
    bundle = folder / "bundle"
    bundle.mkdir()
    requirements = (release[0] / "requirements.txt").read_text()
    (bundle / "requirements.txt").write_text(requirements + "ipykernel\nnbformat\n")
    return declared_environment(bundle, folder / "env")


@pytest.mark.release
def test_the_readmes_environment_runs_the_experiments(student_python, desk, tmp_path):
    """`python optimizers.py` (a finished one) in the environment the README sets up: every figure."""
    folder = tmp_path / "work"
    shutil.copytree(desk, folder)
    shutil.copy(desk / "solution.py", folder / "optimizers.py")
    result = subprocess.run(
        [str(student_python), "optimizers.py", "figures"],
        cwd=folder,
        capture_output=True,
        text=True,
        env=_env(MPLBACKEND="Agg"),
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    written = {path.suffix for path in (folder / "figures").iterdir()}
    assert {".png", ".gif"} <= written


def _finished_notebook():
    return _notebook(build_assignment(solution=True, files=("optimizers.ipynb",))["optimizers.ipynb"])


@pytest.mark.release
def test_a_renamed_notebook_runs_top_to_bottom_and_checks_itself(kernel_python, desk, tmp_path, monkeypatch):
    """Run All in a real kernel of the student's environment, in a copy named as Jupyter names copies,
    beside the untouched stub: its last cell checks the copy (Jupyter tells the kernel which notebook it
    runs, in JPY_SESSION_NAME) and says so."""
    nbclient = pytest.importorskip("nbclient")

    folder = tmp_path / "work"
    shutil.copytree(desk, folder, ignore=shutil.ignore_patterns("solution*", "hostile*"))
    copy = folder / "optimizers-Copy1.ipynb"
    copy.write_text(_finished_notebook())
    kernels = tmp_path / "jupyter" / "kernels" / "student"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(kernel_python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "student",
                "language": "python",
                "env": {"JPY_SESSION_NAME": str(copy), "MPLBACKEND": "Agg", "PYTHONNOUSERSITE": "1"},
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    notebook = nbformat.reads(copy.read_text(), as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=600, kernel_name="student", resources={"metadata": {"path": str(folder)}}
    ).execute()
    printed = "".join(output.get("text", "") for output in notebook.cells[-1].outputs)
    assert f"Checking {copy}" in printed, printed[-2000:]
    assert re.search(r"^total +45 / 45$", printed, flags=re.MULTILINE), printed[-2000:]


@pytest.mark.release
def test_the_self_check_cell_says_which_notebook_to_name_when_it_cannot_tell(student_python, desk, tmp_path):
    folder = tmp_path / "work"
    shutil.copytree(desk, folder, ignore=shutil.ignore_patterns("solution*", "hostile*"))
    (folder / "optimizers-Copy1.ipynb").write_text(_finished_notebook())
    result = subprocess.run(
        [str(student_python), "-c", SELF_CHECK_CELL], cwd=folder, capture_output=True, text=True, env=_env()
    )
    assert "This folder holds 2 notebooks (optimizers-Copy1.ipynb, optimizers.ipynb)" in result.stdout
    assert 'NOTEBOOK = "optimizers.ipynb"' in result.stdout


@pytest.mark.release
def test_a_python_without_torch_is_told_what_to_install(desk, tmp_path):
    """The pytest of a Python that lacks torch: one error naming it and the command, not 18 failures."""
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "requirements.txt").write_text("pytest\n")
    python = declared_environment(bundle, tmp_path / "env")
    result = _self_check(python, desk).result()
    assert result.returncode == 4, result.stdout[-2000:]
    assert "has no torch and no numpy, which the self-check needs" in result.stdout
    assert "-m pip install -r requirements.txt" in result.stdout


def _with_method(source, rule, body):
    return mutate(source, type(BANK[rule][0])(rule=rule, slug="x", title="", hint="", method=rule, body=body))


@pytest.mark.release
def test_a_failing_methods_print_is_shown_and_a_syntax_error_comes_first(student_python, desk):
    solution = (desk / "solution.py").read_text()
    wrong_adam = textwrap.dedent(BANK["adam"][0].body).strip()
    (desk / "printing.py").write_text(_with_method(solution, "adam", 'print("DEBUG-ADAM-42")\n' + wrong_adam))
    broken = _with_method(solution, "adam", "return (x,")  # a SyntaxError in adam()
    (desk / "broken.py").write_text(broken)
    runs = {
        "captured": _self_check(student_python, desk, "--submission", "printing.py", "-k", "adam"),
        "-s": _self_check(student_python, desk, "--submission", "printing.py", "-k", "adam", "-s"),
        "broken": _self_check(student_python, desk, "--submission", "broken.py"),
    }
    for how in ("captured", "-s"):
        output = runs[how].result().stdout
        assert runs[how].returncode == 1 and "DEBUG-ADAM-42" in output, (how, output[-2000:])
        assert "Captured stdout call" in output, how
        assert f"points for {desk / 'printing.py'}" in output or "points for printing.py" in output
    output = runs["broken"].result().stdout
    line = broken.splitlines().index(next(text for text in broken.splitlines() if "return (x," in text)) + 1
    first = re.search(r"^E?\s*Your file could not be loaded in full: (.*)$", output, flags=re.MULTILINE)
    assert first and f"line {line}" in first.group(1) and "SyntaxError" in first.group(1), output[-3000:]


# ------------------------------------------------------------------ a release in Chinese (issue 24)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def release_zh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release-zh") / "bundle"
    build_release(folder, language="zh-CN")
    return folder


def test_the_self_check_speaks_with_the_kits_own_language_module_and_the_releases_catalogs(release, release_zh):
    """The language module is shipped byte for byte (standard library only, so students need no Babel), the
    release's language is recorded beside it, and only a language other than English brings catalogs:
    those of the self-check's messages, compiled, and scanned like every other file."""
    english, chinese = bundle_files(release[0]), bundle_files(release_zh)
    for files in (english, chinese):
        assert files[f"grader/{I18N_TARGET}"] == (ROOT / "grader" / I18N_SOURCE).read_bytes()
    assert json.loads(english["grader/language.json"]) == {"language": "en"}
    assert json.loads(chinese["grader/language.json"]) == {"language": "zh-CN"}
    assert not [name for name in english if name.endswith(".mo")]
    shipped = {name: data for name, data in chinese.items() if name.endswith(".mo")}
    assert shipped == {
        f"grader/i18n/zh_CN/LC_MESSAGES/{domain}.mo": (
            i18n.CATALOGS / "zh_CN" / "LC_MESSAGES" / f"{domain}.mo"
        ).read_bytes()
        for domain in I18N_DOMAINS
    }
    assert set(chinese) - set(english) == set(shipped)
    assert scan_files(chinese) == []
    # The scan reads a catalog's translations: a solution line hidden in one is found.
    line = next(iter(scan.solution_lines()))
    planted = dict(chinese, **{"grader/i18n/zh_CN/LC_MESSAGES/release.mo": _mo({"hint": f"try {line}"})})
    assert any(
        finding.startswith("grader/i18n/zh_CN/LC_MESSAGES/release.mo: a line of") for finding in scan_files(planted)
    )


def _mo(messages):
    """A compiled catalog of {msgid: msgstr} (a .mo file, as Babel writes one)."""
    catalog = Catalog(locale="zh_CN")
    for message, translation in messages.items():
        catalog.add(message, translation)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def test_a_chinese_release_reads_in_chinese_and_keeps_every_command(release_zh):
    files = bundle_files(release_zh)
    readme = files["README.md"].decode("utf-8")
    assert len(CJK.findall(readme)) > 200, readme[:1000]
    for kept in (
        "pytest grader --submission optimizers.ipynb",
        "pytest grader --nesterov",
        "python3 -m venv .venv",
        "source .venv/bin/activate",
        ".venv\\Scripts\\Activate.ps1",
        "python -m pip install torch --index-url https://download.pytorch.org/whl/cpu",
        "python -m pip install -r requirements.txt",
        "`Adam.adam`",
    ):
        assert kept in readme, kept
    for name in STUDENT_TEXTS:
        text = files[name].decode("utf-8")
        for absent in ("pytest selfcheck", "selfcheck/", "python -m grader", "optimkit", "assignments/"):
            assert absent not in text, (name, absent)
    notebook = json.loads(files["optimizers.ipynb"])
    cells = {cell["id"]: "".join(cell["source"]) for cell in notebook["cells"]}
    assert (
        CJK.search(cells["self-check-text"])
        and "pytest grader --submission optimizers.ipynb" in cells["self-check-text"]
    )
    assert len([cell for cell in notebook["cells"] if cell["id"] == "self-check"]) == 1
    assert CJK.search(cells["self-check"]) and cells["self-check"] != SELF_CHECK_CELL
    ast.parse(cells["self-check"])


def test_the_self_check_cell_says_its_messages_in_the_releases_language(release_zh, tmp_path):
    """The translated cell is still a program, and says what the English cell says: run where two notebooks
    lie, then where a notebook has no grader/ beside it, each cell prints its own language's message."""
    notebook = json.loads(bundle_files(release_zh)["optimizers.ipynb"])
    cells = {
        "en": SELF_CHECK_CELL,
        "zh-CN": "".join(next(cell for cell in notebook["cells"] if cell["id"] == "self-check")["source"]),
    }
    assert SELF_CHECK_CELL.startswith(
        "".join(f"# {line}\n" for line in CELL_COMMENT.format(**CELL_NAMES).splitlines()) + "NOTEBOOK = None\n"
    )
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / "two" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "two" / name).write_text("{}")
    (tmp_path / "alone").mkdir()
    (tmp_path / "alone" / "mine.ipynb").write_text("{}")
    for language, cell in cells.items():
        with i18n.speaking(language):
            wanted = {
                "two": _(CELL_SEVERAL).format(count=2, names="a.ipynb, b.ipynb", example="optimizers.ipynb"),
                "alone": _(CELL_NO_GRADER).format(notebook="mine.ipynb"),
            }
        for folder, message in wanted.items():
            result = subprocess.run(
                [sys.executable, "-c", cell], cwd=tmp_path / folder, capture_output=True, text=True, env=_env()
            )
            assert result.returncode == 0, result.stderr
            assert result.stdout == message + "\n", (language, result.stdout)
            assert bool(CJK.search(result.stdout)) == (language != "en")


def test_a_chinese_release_judges_by_the_same_cases_with_the_banks_words_in_chinese(release, release_zh):
    """cases.json differs only in the mistakes' titles and hints, each the catalog's translation (looked up
    at release time: the bundle needs no catalog of the bank's), and in the sealed payloads of the table of
    edits (their descriptions are in the release's language; the keys, made from the values, are the same);
    slugs and every number are the same."""
    english = json.loads(bundle_files(release[0])["grader/cases.json"])
    chinese = json.loads(bundle_files(release_zh)["grader/cases.json"])
    for part, spec in english["parts"].items():
        if "edits" in spec:
            ours, theirs = spec.pop("edits"), chinese["parts"][part].pop("edits")
            assert {key: len(items) for key, items in ours.items()} == {
                key: len(items) for key, items in theirs.items()
            }
    with i18n.speaking("zh-CN"):
        for part, spec in english["parts"].items():
            for ours, theirs in zip(spec.get("mistakes", ()), chinese["parts"][part].get("mistakes", ()), strict=True):
                assert theirs["slug"] == ours["slug"]
                assert (theirs["title"], theirs["hint"]) == (i18n._(ours["title"]), i18n._(ours["hint"]))
                for record in (ours, theirs):
                    del record["title"], record["hint"]
    assert chinese == english
    rubric_en = json.loads(bundle_files(release[0])["grader/rubric.json"])
    rubric_zh = json.loads(bundle_files(release_zh)["grader/rubric.json"])
    assert [{**item, "title": None} for item in rubric_zh] == [{**item, "title": None} for item in rubric_en]


def test_the_cases_hold_the_mistakes_words_as_the_release_language_has_them(monkeypatch):
    """Could the lookup be skipped? With a catalog that marks every text, the records carry the marks."""
    monkeypatch.setattr(i18n, "_", lambda text: f"〔{text}〕")
    part = cases.optimizer_part(RULES["adagrad"], cases._Draw(cases.RELEASE_SEED))
    assert part["mistakes"] and all(
        record["title"].startswith("〔") and record["hint"].startswith("〔") for record in part["mistakes"]
    )


@pytest.mark.selfcheck
def test_the_chinese_self_check_gives_the_english_verdicts_in_chinese(release, release_zh, tmp_path):
    """The stub and a wrong Adam, checked by both bundles with this Python (the bundle's own grader/ comes
    first on its path): the same tests pass and fail with the same points; the Chinese bundle says so in
    Chinese, and names the same mistake in the words of its cases.json."""
    solution = build_assignment(solution=True, files=("optimizers.py",))["optimizers.py"]
    mistake = find("adam", "no_bias_correction")
    desks = {}
    for language, bundle in (("en", release[0]), ("zh-CN", release_zh)):
        desks[language] = tmp_path / language / "optimizers-assignment"
        shutil.copytree(bundle, desks[language])
        (desks[language] / "wrong.py").write_text(mutate(solution, mistake))
    started = {
        language: _Run(
            [
                sys.executable,
                "-m",
                "grader.batch",
                "--json",
                desk / "verdicts.json",
                desk / "optimizers.py",
                desk / "wrong.py",
            ],
            desk,
        )
        for language, desk in desks.items()
    }
    started["pytest"] = _self_check(sys.executable, desks["zh-CN"], "--submission", "wrong.py")
    reports = {}
    for language, desk in desks.items():
        run = started[language].result()
        assert (desk / "verdicts.json").is_file(), run.stdout[-3000:]
        reports[language] = json.loads((desk / "verdicts.json").read_text(encoding="utf-8"))
    for ours, theirs in zip(reports["en"], reports["zh-CN"], strict=True):
        assert (theirs["score"], theirs["max_score"]) == (ours["score"], ours["max_score"])
        assert [(t["part"], t["test"], t["passed"]) for t in theirs["tests"]] == [
            (t["part"], t["test"], t["passed"]) for t in ours["tests"]
        ]
        for test in theirs["tests"]:
            if not test["passed"]:
                assert CJK.search(test["message"]), test["message"]
    stub, wrong = reports["zh-CN"]
    assert {test["part"] for test in stub["tests"] if test["graded"] and not test["passed"]} == set(PARTS)
    title = next(
        record["title"]
        for record in json.loads((desks["zh-CN"] / "grader" / "cases.json").read_text(encoding="utf-8"))["parts"][
            "adam"
        ]["mistakes"]
        if record["slug"] == mistake.slug
    )
    failed = [test for test in wrong["tests"] if test["graded"] and not test["passed"]]
    assert {test["part"] for test in failed} == {"adam"} and all(title in test["message"] for test in failed)
    result = started["pytest"].result()
    assert result.returncode == 1, result.stdout[-3000:]
    assert _failed(result.stdout) == sorted((test["part"], test["test"]) for test in failed)
    with i18n.speaking("zh-CN"):
        for line in (
            i18n._("Grading runs more, hidden cases: passing here is a good sign, not a guarantee."),
            i18n._("optimizers self-check: {path} (public cases; grading uses other, hidden ones)").format(
                path="wrong.py"
            ),
        ):
            assert line in result.stdout, line
        assert re.search(
            rf"^{i18n._('total')} +{wrong['score']:g} / {wrong['max_score']:g}$", result.stdout, flags=re.MULTILINE
        )


def test_the_stub_names_no_kit_command_in_any_language():
    """The stub's header as the generator may write it in Chinese: the self-check's line names the bundle's
    file, and the line naming the kit's own command is dropped, whatever the words around them."""
    header = (
        '"""优化器\n\n    pytest grader                        检查 assignments/optimizers.py（--submission FILE：其他文件）\n'
        '    python optimizers.py [FOLDER]        运行每个实验\n\n由参考答案经 `python -m grader assign` 生成。"""\n'
    )
    stub = _script(header)
    assert "检查 optimizers.py（--submission FILE：其他文件）" in stub and "运行每个实验" in stub
    assert "assignments/" not in stub and "python -m grader" not in stub and stub.endswith('运行每个实验"""\n')


def test_no_module_that_translates_rebinds_the_translation_function():
    """`_, status = os.waitpid(...)` in a function that says `_("...")` makes `_` a local int there, and the
    message fails only on the path that says it (the worker died of it on a crash, silently). Where a module
    imports `_`, no assignment, loop or `with` in it may bind that name."""
    folders = [ROOT / "grader"]
    offenders = []
    for path in sorted(file for folder in folders for file in folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = any(
            isinstance(node, ast.ImportFrom) and any(alias.name == "_" for alias in node.names)
            for node in ast.walk(tree)
        )
        bound = [
            node.lineno
            for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)
        ]
        if imported and bound:
            offenders.append(f"{path.relative_to(ROOT)}: line {', '.join(map(str, bound))}")
    assert offenders == []
