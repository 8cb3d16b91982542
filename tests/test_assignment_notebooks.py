"""Do the notebooks run in a real Jupyter kernel: the solution top to bottom, the stub up to its first blank?

Each notebook is executed once per session (module-scoped fixtures): about 15 s for the solution (kernel
start, torch import, every experiment, 20-frame animations) and 5 s for the stub on 2 cores.
"""

import nbformat
import pytest

from grader import i18n
from grader.assignment import build_assignment

nbclient = pytest.importorskip("nbclient", reason="nbclient runs the notebooks (pip install -e '.[test]')")
pytest.importorskip("ipykernel", reason="ipykernel is the notebooks' kernel (pip install -e '.[test]')")

pytestmark = pytest.mark.notebook  # each notebook executed in a kernel (the solution's takes ~15 s alone)

CELL_TIMEOUT = 300  # seconds; the slowest cell (three animations) takes ~6 s


def _execute(source, folder):
    """(executed notebook, CellExecutionError or None); the notebook runs in `folder`, its figures too."""
    notebook = nbformat.reads(source, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=CELL_TIMEOUT, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        return notebook, error
    return notebook, None


@pytest.fixture(scope="module")
def solution_run(tmp_path_factory):
    return _execute(build_assignment(solution=True)["optimizers.ipynb"], tmp_path_factory.mktemp("solution"))


@pytest.fixture(scope="module")
def stub_run(tmp_path_factory):
    return _execute(build_assignment()["optimizers.ipynb"], tmp_path_factory.mktemp("stub"))


@pytest.fixture(scope="module")
def chinese_stub_run(tmp_path_factory):
    """The stub notebook of `assign --lang zh-CN` (~5 s): its docstrings and messages are Chinese."""
    with i18n.speaking("zh-CN"):
        source = build_assignment(files=("optimizers.ipynb",))["optimizers.ipynb"]
    return _execute(source, tmp_path_factory.mktemp("stub-zh"))


def _code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _errors(cell):
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def _shown(cell, mime):
    return sum(mime in output.get("data", {}) for output in cell.outputs if output.output_type == "display_data")


def test_solution_notebook_runs_top_to_bottom(solution_run):
    notebook, error = solution_run
    assert error is None, str(error)[-3000:]
    for cell in _code_cells(notebook):
        assert cell.execution_count is not None and not _errors(cell), cell.id


def test_solution_notebook_shows_every_experiment_inline(solution_run):
    notebook, _ = solution_run
    experiments = {
        cell.id.split("-", 1)[1]: cell for cell in _code_cells(notebook) if "experiment" in cell.metadata.tags
    }
    assert _shown(experiments["trajectories-code"], "image/png") == 5
    assert _shown(experiments["fitting-code"], "image/png") == 5
    assert _shown(experiments["comparisons-code"], "image/gif") == 3


def test_stub_notebook_stops_at_the_first_blank_and_nowhere_else(stub_run):
    """Does everything given run, and the first experiment stop with the message naming Adagrad.adagrad?"""
    notebook, error = stub_run
    assert error is not None, "the stub notebook ran to the end: its exercises are not blank"
    assert error.ename == "NotImplementedError"
    assert error.evalue.startswith("implement Adagrad.adagrad: ")
    cells = _code_cells(notebook)
    failed = [index for index, cell in enumerate(cells) if _errors(cell)]
    assert len(failed) == 1
    first_experiment = next(index for index, cell in enumerate(cells) if cell.id.endswith("-trajectories-code"))
    assert failed == [first_experiment]
    assert all(cell.execution_count is not None for cell in cells[: first_experiment + 1])
    assert all(cell.execution_count is None for cell in cells[first_experiment + 1 :])
    # It got as far as the first blank: SGD's figure (which needs no exercise) was drawn and shown.
    assert _shown(cells[first_experiment], "image/png") == 1


def test_chinese_stub_notebook_stops_at_the_same_blank_saying_so_in_chinese(stub_run, chinese_stub_run):
    """Does the Chinese notebook run exactly as far as the English one, and name the blank in Chinese?"""
    notebook, error = chinese_stub_run
    assert error is not None and error.ename == "NotImplementedError"
    assert error.evalue.startswith("请实现 Adagrad.adagrad：")
    english = [bool(_errors(cell)) for cell in _code_cells(stub_run[0])]
    assert [bool(_errors(cell)) for cell in _code_cells(notebook)] == english
