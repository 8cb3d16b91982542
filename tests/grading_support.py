"""Helpers for the grader's tests: the solution's source, notebooks made of sources, grading one part."""

import ast
import dataclasses
import json
import subprocess
import sys
import tempfile
import textwrap
from functools import lru_cache
from pathlib import Path

import jsonschema
import nbformat

from grader import grading
from grader.explain.mistakes import mutate
from grader.judge import rubric
from grader.outputs.results import SCHEMA_PATH

ROOT = Path(__file__).resolve().parents[1]
OPTIMIZER_PARTS = ("adagrad", "rmsprop", "momentum", "adam")


@lru_cache(maxsize=1)
def solution_source():
    """The single-file solution, as `python -m grader assign --solution` writes it."""
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [sys.executable, "-m", "grader", "assign", "--solution", "--out", folder],
            check=True,
            capture_output=True,
            cwd=ROOT,
        )
        return (Path(folder) / "optimizers.py").read_text(encoding="utf-8")


def as_notebook(source, noise=True):
    """A notebook of `source`: a code cell per top-level block, markdown between, IPython syntax in it."""
    cells = [nbformat.v4.new_markdown_cell("# My optimizers")]
    if noise:
        cells.append(nbformat.v4.new_code_cell("%matplotlib inline\n!pip list\nimport torch\ntorch?"))
    block = []
    for line in source.splitlines():
        if line and not line[0].isspace() and line.startswith(("class ", "def ", "@")) and block:
            cells.append(nbformat.v4.new_code_cell("\n".join(block)))
            block = []
        block.append(line)
    cells.append(nbformat.v4.new_code_cell("\n".join(block)))
    if noise:
        cells.append(nbformat.v4.new_code_cell("print('training...')\nfor epoch in range(3):\n    print(epoch)"))
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def rubric_for(*parts, nesterov=False, enable=()):
    """The shipped rubric, restricted to `parts` (all when none are named); `enable` as rubric.load's."""
    full = rubric.load(enable=(*enable, *(("nesterov",) if nesterov or "nesterov" in parts else ())))
    tests = tuple(test for test in full.tests if not parts or test.part in parts)
    advice = tuple(test for test in full.advice if not parts or test.part in parts)
    return dataclasses.replace(full, tests=tests, advice=advice)


def grade_text(text, folder, zygote, *parts, name="optimizers.py", seed=None, enable=()):
    path = Path(folder) / name
    path.write_text(text, encoding="utf-8")
    kwargs = {} if seed is None else {"seed": seed}
    return grading.grade(path, zygote=zygote, rubric=rubric_for(*parts, enable=enable), **kwargs)


@lru_cache(maxsize=1)
def schema():
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


def validate(report):
    data = json.loads(json.dumps(report.to_dict()))
    jsonschema.validate(data, schema())
    return data


@dataclasses.dataclass(frozen=True)
class Variant:
    """A method body for grader.explain.mistakes.mutate that is *correct*, written differently from the reference."""

    rule: str
    method: str
    body: str


def replace_function(source, name, definition):
    """`source` with its top-level function `name` replaced by the text `definition`."""
    node = next(node for node in ast.parse(source).body if isinstance(node, ast.FunctionDef) and node.name == name)
    lines = source.splitlines(keepends=True)
    start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
    return "".join(lines[:start]) + definition.strip("\n") + "\n" + "".join(lines[node.end_lineno :])


def variant_failures(variant, folder, zygote):
    """The (title, verdict) of each test that the solution with `variant`'s body fails, in its own part."""
    variant = Variant(variant.rule, variant.method, textwrap.dedent(variant.body))
    report = grade_text(mutate(solution_source(), variant), folder, zygote, variant.rule)
    return [(test.title, test.output) for test in report.tests if not test.passed]
