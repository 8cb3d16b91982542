"""Is what students receive generated from the reference, complete, deterministic, and blank only where it should be?

The notebooks are executed in tests/test_assignment_notebooks.py; everything here runs without a kernel.
"""

import ast
import importlib.util
import inspect
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch

import reference
from grader.assignment import (
    BEGIN,
    BONUS,
    END,
    EXERCISES,
    AssignmentError,
    build_assignment,
    pipeline,
    write_assignments,
)
from grader.assignment.clear_solutions import not_implemented_message
from reference.experiments import settings

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "assignments"
FILES = ("optimizers.py", "optimizers.ipynb")

# Names the grader and the students rely on, beyond the reference's own __all__.
EXTRA_NAMES = ("TRAJECTORIES_2D", "FITTING", "COMPARISONS_3D", "draw_trajectory", "draw_fitting", "draw_comparison")

# Each exercise, with the hyperparameters its constructor takes after (init_lr, model), and its arguments
# after x and gradient_x (the state as the int 0, then t for Adam).
BLANKS = {
    "Adagrad.adagrad": ((1e-7,), (0,)),
    "RMSprop.rmsprop": ((0.9, 1e-7), (0,)),
    "Momentum.momentum": ((0.9,), (0,)),
    "Adam.adam": ((0.9, 0.99, 1e-7), (0, 0, 1)),
}


@pytest.fixture(scope="module")
def generated():
    """{(solution?, file name): text}, built once in memory."""
    return {
        (solution, name): text
        for solution in (False, True)
        for name, text in build_assignment(solution=solution).items()
    }


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """The stub and the solution, written to disk by write_assignments."""
    root = tmp_path_factory.mktemp("generated")
    write_assignments(root / "stub")
    write_assignments(root / "solution", solution=True)
    return root / "stub", root / "solution"


@pytest.fixture(scope="module")
def stub(folders):
    return _import(folders[0] / "optimizers.py", "optimkit_test_stub")


@pytest.fixture(scope="module")
def solution(folders):
    return _import(folders[1] / "optimizers.py", "optimkit_test_solution")


# --- the committed files and determinism -------------------------------------------------------------


@pytest.mark.parametrize("name", FILES)
def test_committed_assignment_is_what_the_generator_writes(generated, name):
    """Did someone edit assignments/ by hand, or change the reference without regenerating?"""
    committed = (COMMITTED / name).read_bytes()
    assert committed == generated[(False, name)].encode("utf-8"), (
        f"assignments/{name} is not what the reference generates: run `python -m grader assign`"
    )


def test_no_solution_is_committed_with_the_assignments():
    assert sorted(path.name for path in COMMITTED.iterdir()) == sorted(FILES)


@pytest.mark.commands
def test_generation_is_deterministic_byte_for_byte(generated, tmp_path):
    """Does the command line write the same bytes as a second build in another process?"""
    for flags, solution in (([], False), (["--solution"], True)):
        out = tmp_path / ("solution" if solution else "stub")
        result = subprocess.run(
            [sys.executable, "-m", "grader", "assign", "--out", str(out), *flags],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [str(out / name) for name in FILES]
        for name in FILES:
            assert (out / name).read_bytes() == generated[(solution, name)].encode("utf-8"), name


@pytest.mark.commands
def test_solution_defaults_to_its_own_folder(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "grader", "assign", "--solution"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (tmp_path / "solutions").iterdir()) == sorted(FILES)


@pytest.mark.commands
@pytest.mark.parametrize("folder", ["assignments", "course/assignments"])
def test_the_solution_is_never_written_where_students_look(tmp_path, folder):
    out = tmp_path / folder
    result = subprocess.run(
        [sys.executable, "-m", "grader", "assign", "--solution", "--out", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "refusing to write the solution" in result.stderr and "--out" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize("out", [COMMITTED, COMMITTED / "key", Path(os.path.relpath(COMMITTED)) / ".." / "assignments"])
def test_the_solution_is_never_written_into_the_projects_assignments(monkeypatch, out):
    # Should the refusal ever break, the build fails before a byte is written into the committed folder.
    def must_not_build(**_):
        raise AssertionError("write_assignments built the solution for the students' folder")

    monkeypatch.setattr(pipeline, "build_assignment", must_not_build)
    with pytest.raises(AssignmentError, match="refusing to write the solution"):
        write_assignments(out, solution=True)


# --- the student file ----------------------------------------------------------------------------------


def test_stub_defines_every_public_name_of_the_reference(stub):
    for name in reference.__all__ + list(EXTRA_NAMES):
        assert hasattr(stub, name), name


def _exercise_functions(text):
    """{qualname: FunctionDef} of every exercise and bonus method in a generated file."""
    tree = ast.parse(text)
    found = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and f"{node.name}.{item.name}" in EXERCISES + BONUS:
                    found[f"{node.name}.{item.name}"] = item
    return found


def test_each_blank_keeps_only_its_docstring_and_a_raise(generated):
    """Is no line of a solution left in the stub, and is the docstring with the rule still there?"""
    functions = _exercise_functions(generated[(False, "optimizers.py")])
    assert set(functions) == set(EXERCISES + BONUS)
    for qualname in EXERCISES:
        body = functions[qualname].body
        assert len(body) == 2, qualname
        assert ast.get_docstring(functions[qualname]) == inspect.getdoc(_reference_method(qualname))
        assert isinstance(body[1], ast.Raise) and body[1].exc.func.id == "NotImplementedError", qualname


def test_the_bonus_stays_complete_and_says_so(generated):
    text = generated[(False, "optimizers.py")]
    for qualname in BONUS:
        assert len(_exercise_functions(text)[qualname].body) > 2
    assert "# Bonus (optional): this body is given" in text
    assert "Bonus (optional): Nesterov.nesterov is given" in text  # in the header too


@pytest.mark.parametrize("solution", [False, True], ids=["stub", "solution"])
def test_no_marker_reaches_a_generated_file(generated, solution):
    for name in FILES:
        text = generated[(solution, name)]
        assert BEGIN not in text and END not in text, name


@pytest.mark.parametrize("qualname", BLANKS)
def test_calling_a_blank_raises_not_implemented_naming_it(stub, qualname):
    class_name, method = qualname.split(".")
    hyper, state = BLANKS[qualname]
    model = reference.OptimizedFunction([0.2, 2.0])
    optimizer = getattr(stub, class_name)(0.1, model, *hyper)
    with pytest.raises(NotImplementedError, match=f"^implement {qualname}: "):
        getattr(optimizer, method)(torch.ones(2), torch.ones(2), *state, 0.1)
    with pytest.raises(NotImplementedError, match=qualname):  # and through step(), as the experiments call it
        optimizer.step()


def test_the_message_keeps_an_acronym_and_lowers_a_word():
    region = type("Region", (), {"qualname": "A.b", "summary": "One step"})
    assert not_implemented_message(region) == "implement A.b: one step"
    region.summary = "RMSprop step"
    assert not_implemented_message(region) == "implement A.b: RMSprop step"


def _bowl_run(module, setting, steps=30):
    bowl = module.OptimizedFunction([0.2, 2.0])
    optimizer = getattr(module, setting.optimizer.__name__)(model=bowl, **setting.hyper)
    return module.train_f(bowl, optimizer, torch.tensor([3.0, 4.0]), steps)


GIVEN = [settings.sgd(0.2), settings.nesterov(0.01)]
EVERY = [run.setting for run in settings.TRAJECTORIES_2D] + [settings.nesterov(0.01)]


@pytest.mark.parametrize("setting", GIVEN, ids=lambda setting: setting.name)
def test_what_the_stub_gives_runs_like_the_reference(stub, setting):
    """Same code, same operations: the given optimizers and train_f take bit-identical steps."""
    for ours, theirs in zip(_bowl_run(stub, setting), _bowl_run(reference, setting)):
        assert torch.equal(ours, theirs)


@pytest.mark.parametrize("setting", EVERY, ids=lambda setting: setting.name)
def test_the_solution_file_runs_like_the_reference(solution, setting):
    for ours, theirs in zip(_bowl_run(solution, setting), _bowl_run(reference, setting)):
        assert torch.equal(ours, theirs)


def test_the_stub_trains_the_linear_model_and_counts_adam_steps_once(stub, solution):
    torch.manual_seed(0)
    model = stub.Linear(2)
    torch.testing.assert_close(model.params["W"], torch.tensor([[1.5409961], [-0.2934289]]), rtol=1e-6, atol=0)
    losses, epochs = stub.train(stub.make_fitting_data(), model, stub.SimpleBatchGD(0.01, model), torch.nn.MSELoss(), 3)
    assert len(losses) == 3 * 16 and epochs[-1] < epochs[0]
    # The step() loop is given; with the solution's adam it advances t once per step, for W and b alike.
    torch.manual_seed(0)
    model = solution.Linear(2)
    adam = solution.Adam(0.1, model, 0.9, 0.99, 1e-7)
    solution.train(solution.make_fitting_data(), model, adam, torch.nn.MSELoss(), 1)
    assert adam.t == 1 + 16


@pytest.mark.commands
def test_importing_the_stub_is_cheap_and_has_no_side_effects(folders, tmp_path):
    """No matplotlib (whose import writes a font cache), no figure, no file: only definitions."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import optimizers; "
        "print(sorted(name for name in ('matplotlib', 'IPython') if name in sys.modules))"
    )
    env = {**os.environ, "HOME": str(home), "MPLCONFIGDIR": str(home / "mpl"), "XDG_CACHE_HOME": str(home / "cache")}
    result = subprocess.run(
        [sys.executable, "-B", "-c", code, str(folders[0])],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert list(home.iterdir()) == [] and list(work.iterdir()) == []


@pytest.mark.commands
def test_running_the_stub_stops_at_the_first_blank(folders, tmp_path):
    """`python optimizers.py OUT` draws SGD's figure, then stops at AdaGrad with the message naming it."""
    result = subprocess.run(
        [sys.executable, "-B", str(folders[0] / "optimizers.py"), str(tmp_path / "figures")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"NotImplementedError: {_message('Adagrad.adagrad')}"
    assert sorted(path.name for path in (tmp_path / "figures").iterdir()) == ["trajectory_2d_sgd.png"]


def _message(qualname):
    summary = inspect.getdoc(_reference_method(qualname)).splitlines()[0].rstrip(".")
    return f"implement {qualname}: {summary[0].lower()}{summary[1:]}"


def _reference_method(qualname):
    class_name, method = qualname.split(".")
    return getattr(getattr(reference, class_name), method)


# --- the notebook's file (its execution is in test_assignment_notebooks.py) -----------------------------


@pytest.mark.parametrize("solution", [False, True], ids=["stub", "solution"])
def test_notebook_is_valid_v4_without_outputs(generated, solution):
    notebook = nbformat.reads(generated[(solution, "optimizers.ipynb")], as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert (notebook.nbformat, notebook.nbformat_minor) == (4, 5)
    ids = [cell.id for cell in notebook.cells]
    assert len(set(ids)) == len(ids) and all(cell_id.startswith(f"{index:02d}-") for index, cell_id in enumerate(ids))
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.id


def test_notebook_holds_the_same_code_as_the_student_file(generated):
    """Are the notebook's given and exercise cells the .py's code, verbatim?"""
    script = generated[(False, "optimizers.py")]
    notebook = nbformat.reads(generated[(False, "optimizers.ipynb")], as_version=4)
    tags = {}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            (tag,) = cell.metadata["tags"]
            tags.setdefault(tag, []).append(cell)
            if tag != "experiment":
                assert cell.source in script, cell.id
    assert {cell.id.split("-", 1)[1] for cell in tags["exercise"]} == {
        "adagrad-code",
        "rmsprop-code",
        "momentum-code",
        "adam-code",
    }
    assert [cell.id.split("-", 1)[1] for cell in tags["bonus"]] == ["nesterov-code"]
    sources = "\n".join(cell.source for cell in tags["experiment"])
    for call in ("draw_trajectory(", "draw_fitting(", "draw_comparison("):
        assert call in sources


def test_notebook_explains_each_algorithm_and_the_self_check(generated):
    notebook = nbformat.reads(generated[(False, "optimizers.ipynb")], as_version=4)
    markdown = {cell.id.split("-", 1)[1]: cell.source for cell in notebook.cells if cell.cell_type == "markdown"}
    for slug, symbol in [
        ("adagrad", r"\sqrt{G + \epsilon}"),
        ("rmsprop", r"(1 - \beta)"),
        ("momentum", r"\rho\,"),
        ("nesterov", r"(1 + \rho)"),
        ("adam", r"1 - \beta_1^{\,t}"),
    ]:
        assert "$$" in markdown[slug] and symbol in markdown[slug], slug
    assert "pytest grader" in markdown["self-check"]
