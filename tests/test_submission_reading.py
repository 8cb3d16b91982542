"""Is a submission read as Python and Jupyter read it?

A .py file is decoded as Python decodes a module (a UTF-8 BOM, a `# -*- coding: ... -*-` line), and a
notebook's cells become the Python IPython runs; a correct submission gets full marks in every form,
an unreadable one a verdict that names the file, line and byte, and line numbers stay the student's.
"""

import ast
import codecs
import re
import subprocess
import sys

import nbformat
import pytest
from grading_support import ROOT, rubric_for, solution_source

from grader import grading
from grader.inputs import notebook, submission

# A top-level statement that fails while loading, on a line the test knows: its message must name it.
FAILING_TAIL = "\n_probe = 1 / 0\n"

GBK_HEADER = "# -*- coding: gbk -*-\n# 作业：优化器（AdaGrad、RMSprop、动量法、Adam）\n# 学生：张三\n"


def _failing_line(text):
    """The line of `_probe = 1 / 0` in `text`, counted as Python counts lines."""
    return text.replace("\r\n", "\n").split("\n").index("_probe = 1 / 0") + 1


def _with_chinese(source):
    """The solution with Chinese comments in a class, and a Chinese identifier and string at top level
    (its ² and ³, which GBK lacks, written as a GBK editor would let a student write them)."""
    source = source.replace("²", "^2").replace("³", "^3")
    source = source.replace(
        "class Adagrad(Optimizer):\n", "# 自适应梯度法：每个坐标的步长随梯度平方和缩小\nclass Adagrad(Optimizer):\n", 1
    )
    return GBK_HEADER + source + '\n作者 = "张三"  # 姓名\n说明 = "动量法与自适应学习率"\n'


def _with_form_feeds(source):
    """The solution with a form feed line before each class, and one at the start of a class line."""
    source = source.replace("\nclass ", "\n\f\nclass ")
    return source.replace("\nclass Adam(", "\n\fclass Adam(", 1)


ENCODINGS = {
    "utf8_bom": lambda source: codecs.BOM_UTF8 + source.encode("utf-8"),
    "gbk_coding_line": lambda source: _with_chinese(source).encode("gbk"),
    "crlf": lambda source: source.replace("\n", "\r\n").encode("utf-8"),
    "utf8_bom_crlf": lambda source: codecs.BOM_UTF8 + source.replace("\n", "\r\n").encode("utf-8"),
    "form_feeds": lambda source: _with_form_feeds(source).encode("utf-8"),
}


@pytest.mark.parametrize("form", sorted(ENCODINGS))
def test_a_correct_file_in_any_encoding_python_reads_gets_full_marks(form, zygote, tmp_path):
    data = ENCODINGS[form](solution_source() + FAILING_TAIL)
    path = tmp_path / "optimizers.py"
    path.write_bytes(data)
    report = grading.grade(path, zygote=zygote, rubric=rubric_for())
    assert [(test.title, test.output) for test in report.tests if not test.passed] == []
    assert report.score == report.max_score == rubric_for().max_score
    line = _failing_line(data.decode("gbk" if form.startswith("gbk") else "utf-8-sig"))
    assert f"While loading, optimizers.py, line {line}: ZeroDivisionError" in report.output


def test_a_gbk_file_is_decoded_as_its_coding_line_says(tmp_path):
    path = tmp_path / "optimizers.py"
    path.write_bytes(_with_chinese(solution_source()).encode("gbk"))
    source = submission.read(path).chunks[0]["source"]
    assert '作者 = "张三"' in source and "# 自适应梯度法" in source


def test_utf16_is_refused_as_python_refuses_it(zygote, tmp_path):
    """Python cannot read UTF-16 source (with or without a coding line); the verdict says what to do."""
    path = tmp_path / "optimizers.py"
    path.write_bytes(solution_source().encode("utf-16"))
    result = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "SyntaxError" in result.stderr  # Python's own verdict
    report = grading.grade(path, zygote=zygote, rubric=rubric_for("adagrad"))
    assert report.status == "error" and report.score == 0
    assert "optimizers.py is saved as UTF-16" in report.output and "save it as UTF-8" in report.output


@pytest.mark.parametrize(
    "header, bad_line, encoding",
    [
        ("", 3, "UTF-8"),  # a Latin-1 comment in a file that declares nothing
        ("# -*- coding: gbk -*-\n", 4, "gbk"),  # bytes that are not GBK in a file that declares GBK
    ],
)
def test_an_undecodable_file_gets_a_verdict_naming_line_and_byte(header, bad_line, encoding, tmp_path):
    data = header.encode() + b"import torch\n\n# caf\xe9 \xff\n" + solution_source().encode("utf-8")
    path = tmp_path / "optimizers.py"
    path.write_bytes(data)
    with pytest.raises(submission.SubmissionError) as caught:
        submission.read(path)
    message = str(caught.value)
    assert message.startswith(f"optimizers.py, line {bad_line}: byte 0x")
    assert f"is not {'valid ' if encoding != 'UTF-8' else ''}{encoding}" in message


def test_a_bom_with_a_contrary_coding_line_is_refused(tmp_path):
    path = tmp_path / "optimizers.py"
    path.write_bytes(codecs.BOM_UTF8 + b"# -*- coding: latin-1 -*-\n" + solution_source().encode("utf-8"))
    with pytest.raises(submission.SubmissionError, match="byte-order mark but its coding line"):
        submission.read(path)


def test_reading_a_py_file_imports_neither_ipython_nor_nbformat(tmp_path):
    path = tmp_path / "optimizers.py"
    path.write_text(solution_source(), encoding="utf-8")
    code = (
        "import sys; from grader.inputs import submission; submission.read(sys.argv[1]); "
        "print(sorted(name for name in ('IPython', 'nbformat') if name in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# Notebooks -------------------------------------------------------------------------------------------


def _blocks(source):
    """The solution's top-level blocks, keyed by the name each defines (a block starts at `class`/`def`,
    or at the decorators above one)."""
    blocks, block = [], []
    for line in source.splitlines():
        if line.startswith(("class ", "def ", "@", "if __name__")) and block and not block[-1].startswith("@"):
            blocks.append("\n".join(block))
            block = []
        block.append(line)
    blocks.append("\n".join(block))
    return {
        block.split("(")[0].split()[-1] if block.startswith(("class ", "def ")) else f"_{index}": block
        for index, block in enumerate(blocks)
    }


def _replace_once(text, old, new):
    assert text.count(old) == 1, old
    return text.replace(old, new)


def _ipython_cells(source):
    """The solution as a notebook whose defining cells carry every kind of IPython syntax a student writes."""
    blocks = _blocks(source)
    adagrad = _replace_once(
        blocks["Adagrad"],
        "        G = G + gradient_x * gradient_x\n",
        "        G = G + gradient_x * gradient_x  # is this g squared?\n",
    )
    blocks["Adagrad"] = "# Does epsilon go inside the square root?\n%matplotlib inline\n" + adagrad
    rmsprop = _replace_once(
        blocks["RMSprop"],
        "        for key in self.model.params:\n",
        "        keys = list(self.model.params)\n"
        "        for index in range(len(keys)):\n"
        "            key = keys[(index + len(keys)\n"
        "                        % len(keys))]\n",
    )
    blocks["RMSprop"] = "!pip install torch\n" + rmsprop + "\n\ndisplay(RMSprop.__doc__)\nRMSprop?\n"
    blocks["Momentum"] = "%%time\n" + blocks["Momentum"] + "\n\n??Momentum\n%timeit Momentum\n"
    blocks["Adam"] = (
        "%%capture captured\nfiles = !ls\n"
        + blocks["Adam"]
        + "\nif True:\n    %config InlineBackend.figure_format = 'retina'\n"
    )
    blocks["train_f"] = "\n\n%load_ext autoreload\n%autoreload 2\n" + blocks["train_f"]
    cells = [nbformat.v4.new_markdown_cell("# Optimizers\nWhat is `%matplotlib`? Nothing to run here.")]
    cells += [nbformat.v4.new_code_cell(block) for block in blocks.values()]
    cells.append(nbformat.v4.new_code_cell("%%timeit\nclass Unused:\n    pass\n"))
    cells.append(nbformat.v4.new_code_cell("%%bash\necho trained\n"))
    return cells


def _cell_number(cells, text):
    code = [cell for cell in cells if cell.cell_type == "code"]
    return next(number for number, cell in enumerate(code, 1) if text in cell.source)


def _grade_notebook(cells, folder, zygote, *parts):
    path = folder / "optimizers.ipynb"
    path.write_text(nbformat.writes(nbformat.v4.new_notebook(cells=cells)), encoding="utf-8")
    return grading.grade(path, zygote=zygote, rubric=rubric_for(*parts))


def test_a_notebook_with_ipython_syntax_in_its_defining_cells_gets_full_marks(zygote, tmp_path):
    cells = _ipython_cells(solution_source())
    report = _grade_notebook(cells, tmp_path, zygote)
    assert [(test.title, test.output) for test in report.tests if not test.passed] == []
    assert report.score == report.max_score == rubric_for().max_score
    assert "While loading" not in report.output  # `files = !ls` and the magic inside `if` ran harmlessly
    adagrad, rmsprop = _cell_number(cells, "class Adagrad"), _cell_number(cells, "class RMSprop")
    momentum, adam = _cell_number(cells, "class Momentum"), _cell_number(cells, "class Adam(")
    train_f = _cell_number(cells, "def train_f")
    # Every IPython command is named with its cell and line, and none of the student's own lines.
    assert (
        f"code cell {adagrad}, line 2 `%matplotlib inline`; code cell {rmsprop}, line 1 `!pip install torch`, "
        f"line {rmsprop_help_line(cells, rmsprop)} `RMSprop?`"
    ) in report.output
    assert f"code cell {momentum}, line " in report.output and "`??Momentum`" in report.output
    assert f"code cell {adam}, line 2 `files = !ls`" in report.output
    assert f"code cell {train_f}, line 3 `%load_ext autoreload`, line 4 `%autoreload 2`" in report.output
    assert "g squared?" not in report.output and "inside the square root?" not in report.output
    timeit, bash = _cell_number(cells, "%%timeit"), _cell_number(cells, "%%bash")
    assert f"code cell {timeit}, line 1: a `%%timeit` cell was skipped" in report.output
    assert f"code cell {bash}, line 1: a `%%bash` cell was skipped" in report.output


def rmsprop_help_line(cells, number):
    source = [cell for cell in cells if cell.cell_type == "code"][number - 1].source
    return source.split("\n").index("RMSprop?") + 1


def test_a_syntax_error_in_a_cell_costs_its_parts_and_names_cell_and_line(zygote, tmp_path):
    """Leading blank lines and a backslash-continued magic (which IPython drops and joins) come first."""
    blocks = _blocks(solution_source())
    adam = _replace_once(blocks["Adam"], "        self.t = 1\n", "        self.t = = 1\n")
    blocks["Adam"] = "\n\n%timeit \\\n    sum(range(10))\n" + adam
    cells = [nbformat.v4.new_code_cell(block) for block in blocks.values()]
    line = blocks["Adam"].split("\n").index("        self.t = = 1") + 1
    report = _grade_notebook(cells, tmp_path, zygote, "adam", "momentum")
    where = f"optimizers.ipynb, code cell {_cell_number(cells, 'class Adam(')}, line {line}: SyntaxError"
    assert f"While loading, {where}" in report.output
    adam_tests = [test for test in report.tests if test.part == "adam"]
    assert adam_tests and all(not test.passed and where in test.output for test in adam_tests)
    assert all(test.passed for test in report.tests if test.part == "momentum")


def test_a_failing_statement_in_a_cell_magic_body_names_the_cells_line(zygote, tmp_path):
    blocks = _blocks(solution_source())
    blocks["Momentum"] = "\n%%time\n%matplotlib inline\n" + blocks["Momentum"] + "\n_probe = 1 / 0\n"
    cells = [nbformat.v4.new_code_cell(block) for block in blocks.values()]
    line = blocks["Momentum"].split("\n").index("_probe = 1 / 0") + 1
    report = _grade_notebook(cells, tmp_path, zygote, "momentum")
    number = _cell_number(cells, "class Momentum")
    assert f"While loading, optimizers.ipynb, code cell {number}, line {line}: ZeroDivisionError" in report.output
    assert report.score == report.max_score
    assert f"code cell {number}, line 3 `%matplotlib inline`" in report.output


def test_an_unreadable_notebook_gets_a_verdict(tmp_path):
    path = tmp_path / "optimizers.ipynb"
    path.write_bytes(b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5,\n "x": "\xff"}')
    with pytest.raises(submission.SubmissionError, match=r"optimizers.ipynb, line 2: byte 0xff is not UTF-8"):
        submission.read(path)


def test_a_notebook_past_the_budget_of_ipython_work_is_read_as_plain_python(monkeypatch):
    """IPython tokenizes a cell again after each rewrite; a notebook of many magics must not hold the grader."""
    monkeypatch.setattr(notebook, "WORK_CHARACTERS", 200)
    cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nx = 1\n"),  # 2 passes: 25, then 59 characters
        nbformat.v4.new_code_cell("%ls\n" * 30),  # 31 tokenizations of 120 characters or more: over
        nbformat.v4.new_code_cell("%ls\ny = 2\n"),
    ]
    data = nbformat.writes(nbformat.v4.new_notebook(cells=cells)).encode()
    chunks, notes = notebook.code_cells("nb.ipynb", data)
    assert chunks[0]["source"].startswith("get_ipython().run_line_magic('matplotlib', 'inline')\n")
    assert [chunk["source"] for chunk in chunks[1:]] == ["%ls\n" * 30, "%ls\ny = 2\n"]
    assert notes[-1].startswith("nb.ipynb: from code cell 2 on, the notebook holds more IPython syntax than")


@pytest.mark.parametrize(
    "cell",
    [
        "x = 1\r\n%matplotlib inline\r\n\r\n_probe = 1 / 0\r\n",  # Windows line ends inside a cell
        "x = 1\f\n!ls\n\f\n_probe = 1 / 0",  # form feeds (str.splitlines breaks at them; Python does not)
        "\n\n    x = 1\n    %timeit \\\n        x + \\\n        1\n    _probe = 1 / 0\n",  # IPython drops, dedents, joins
        "\r\n%%capture out\r\n%ls \\\r\n  -la\r\n_probe = 1 / 0\r\n",  # a cell magic's body, transformed in turn
    ],
)
def test_a_cell_keeps_its_line_numbers_through_ipython(cell):
    data = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])).encode()
    (chunk,), _ = notebook.code_cells("nb.ipynb", data)
    tree = ast.parse(chunk["source"])
    probe = next(node for node in tree.body if isinstance(node, ast.Assign) and node.targets[0].id == "_probe")
    expected = len(re.findall(r"\r\n|\r|\n", cell[: cell.index("_probe")])) + 1
    assert probe.lineno == expected
