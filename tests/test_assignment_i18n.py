"""Is the assignment generated in Chinese the same exercise as in English, with every instruction translated?

`assign --lang zh-CN` must write a stub and a notebook whose code is the English files' code (the same
definitions, signatures and blanks; only docstrings, comments and the blanks' messages differ), whose
instructions are Chinese (the header, every docstring, the TODO comments, the notebook's markdown), and
whose formulas are the English ones. The English files themselves are held byte for byte by
tests/test_assignment.py (the committed assignments/ is what the generator writes).
"""

import ast
import re

import nbformat
import pytest

from grader import i18n
from grader.assignment import EXERCISES, build_assignment
from grader.assignment.docstrings import comments, docstrings
from grader.assignment.experiment_cells import SCRIPT_MAIN_NOTE
from grader.assignment.narrative import CHECK_LINE, GENERATED
from grader.cli import main
from grader.release.scan import scan_files
from tools import extract_docstrings
from tools.catalogs import ROOT

ZH = "zh-CN"
CJK = re.compile(r"[\u4e00-\u9fff]")
FILES = ("optimizers.py", "optimizers.ipynb")


@pytest.fixture(scope="module")
def built():
    """{(language, solution?): {file name: text}}, built in memory in each language."""
    out = {}
    for language in (i18n.DEFAULT, ZH):
        with i18n.speaking(language):
            for solution in (False, True):
                out[(language, solution)] = build_assignment(solution=solution)
    return out


class _Code(ast.NodeTransformer):
    """A module's code without its words: docstrings dropped, the blanks' messages blanked out."""

    def _without_docstring(self, node):
        self.generic_visit(node)
        first = node.body[0] if node.body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
        return node

    visit_Module = visit_ClassDef = visit_FunctionDef = _without_docstring

    def visit_Raise(self, node):
        call = node.exc
        if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "NotImplementedError":
            call.args = [ast.Constant("...") if isinstance(arg, ast.Constant) else arg for arg in call.args]
        return node


def _code(source):
    return ast.dump(_Code().visit(ast.parse(source)))


def _notebook(text):
    return nbformat.reads(text, as_version=4)


@pytest.mark.parametrize("solution", [False, True], ids=["stub", "solution"])
def test_the_chinese_stub_is_the_english_code(built, solution):
    """Same definitions, signatures, bodies and blanks: the ASTs agree once the words are set aside."""
    english = built[(i18n.DEFAULT, solution)]["optimizers.py"]
    chinese = built[(ZH, solution)]["optimizers.py"]
    compile(chinese, "optimizers.py", "exec")
    assert chinese != english
    assert _code(chinese) == _code(english)


def test_every_docstring_of_the_chinese_stub_is_chinese(built):
    chinese = built[(ZH, False)]["optimizers.py"]
    tree = ast.parse(chinese)
    found = docstrings(tree)
    assert len(found) > 30
    english = [text for _statement, text in found if not CJK.search(text)]
    assert english == [], "docstrings left in English"
    assert CJK.search(ast.get_docstring(tree)), "the header is not translated"


def test_the_chinese_stub_keeps_every_formula_and_the_check_command(built):
    english = ast.parse(built[(i18n.DEFAULT, False)]["optimizers.py"])
    chinese = ast.parse(built[(ZH, False)]["optimizers.py"])
    formulas = [
        line.strip()
        for _statement, text in docstrings(english)
        for line in text.splitlines()
        if re.fullmatch(r"\s*\w+ (<-|=) [^,]*", line)  # a line that is a formula, no prose
    ]
    assert "G <- G + g ⊙ g" in formulas and "M_hat = M / (1 - beta1^t)" in formulas
    chinese_lines = {line.strip() for _statement, text in docstrings(chinese) for line in text.splitlines()}
    assert [formula for formula in formulas if formula not in chinese_lines] == []
    header = ast.get_docstring(chinese)
    assert "pytest grader" in header and "python optimizers.py [FOLDER]" in header


def test_each_chinese_blank_says_what_to_do_in_chinese(built):
    chinese = built[(ZH, False)]["optimizers.py"]
    for qualname in EXERCISES:
        class_name, method = qualname.split(".")
        after = chinese.split(f"\nclass {class_name}(", 1)[1].split(f"\n    def {method}(", 1)[1]
        body = after.split("\n    def ", 1)[0]
        assert "# 在这里写你的代码" in body, qualname
        assert "raise NotImplementedError(" in body and f'"请实现 {qualname}：' in body, qualname
        assert f"{qualname} " in ast.get_docstring(ast.parse(chinese)), qualname  # listed in the header


def test_calling_a_chinese_blank_raises_in_chinese(built, tmp_path):
    path = tmp_path / "optimizers.py"
    path.write_text(built[(ZH, False)]["optimizers.py"], encoding="utf-8")
    namespace = {"__name__": "optimkit_zh_stub"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    import torch  # noqa: PLC0415 -- only this test needs it

    optimizer = namespace["Adagrad"](0.1, namespace["OptimizedFunction"]([0.2, 2.0]), 1e-7)
    with pytest.raises(NotImplementedError, match=r"^请实现 Adagrad\.adagrad：对一个参数做一次 AdaGrad 更新"):
        optimizer.adagrad(torch.ones(2), torch.ones(2), 0, 0.1)


@pytest.mark.parametrize("solution", [False, True], ids=["stub", "solution"])
def test_the_chinese_notebook_has_the_english_cells_and_code(built, solution):
    english = _notebook(built[(i18n.DEFAULT, solution)]["optimizers.ipynb"])
    chinese = _notebook(built[(ZH, solution)]["optimizers.ipynb"])
    nbformat.validate(chinese)
    assert [(cell.id, cell.cell_type) for cell in chinese.cells] == [
        (cell.id, cell.cell_type) for cell in english.cells
    ]
    script = built[(ZH, solution)]["optimizers.py"]
    for en, zh in zip(english.cells, chinese.cells, strict=True):
        if en.cell_type != "code":
            continue
        assert zh.metadata == en.metadata, en.id
        if "experiment" in en.metadata["tags"]:
            assert zh.source == en.source, en.id  # the experiments' cells are code only
        else:
            assert _code(zh.source) == _code(en.source), en.id
            assert zh.source in script, en.id  # the notebook holds the Chinese stub's code, verbatim


def test_the_chinese_notebook_explains_in_chinese_with_the_same_formulas(built):
    english = _notebook(built[(i18n.DEFAULT, False)]["optimizers.ipynb"])
    chinese = _notebook(built[(ZH, False)]["optimizers.ipynb"])
    for en, zh in zip(english.cells, chinese.cells, strict=True):
        if en.cell_type != "markdown":
            continue
        assert CJK.search(zh.source), en.id
        for formula in re.findall(r"\$\$.*?\$\$", en.source, re.DOTALL):
            assert formula in zh.source, (en.id, formula)
        for span in re.findall(r"`[^`\n]+`", en.source):
            if span != "`NotImplementedError: implement ...`":
                assert span in zh.source, (en.id, span)
    assert "pytest grader --submission" in chinese.cells[-1].source


def test_english_is_generated_the_same_after_chinese(built):
    """The language is per process and per call: a Chinese build leaves nothing behind in English."""
    with i18n.speaking(ZH):
        build_assignment()
    assert build_assignment() == built[(i18n.DEFAULT, False)]
    assert i18n.language() == i18n.DEFAULT


def test_assign_lang_writes_the_chinese_files(built, tmp_path):
    try:
        assert main(["assign", "--lang", ZH, "--out", str(tmp_path)]) == 0
    finally:
        i18n.set_language(i18n.DEFAULT)
    for name in FILES:
        assert (tmp_path / name).read_text(encoding="utf-8") == built[(ZH, False)][name], name


def test_the_release_finds_the_header_lines_in_chinese(built):
    """The lines the release replaces (its own check line, no kit command) are whole lines of the header."""
    header = ast.get_docstring(ast.parse(built[(ZH, False)]["optimizers.py"]))
    with i18n.speaking(ZH):
        check, generated = i18n._(CHECK_LINE), i18n._(GENERATED)
    assert check != CHECK_LINE and generated != GENERATED
    assert f"    pytest grader                        {check}\n" in header
    assert header.endswith(f"\n\n{generated}")


def test_extracted_units_are_the_docstrings_and_comments_of_the_stub(built):
    """Every docstring and comment run of the English file is a message tools/extract_docstrings.py extracts,
    and it extracts no other (the banners are the titles' messages, the __main__ comment experiment_cells')."""
    english = built[(i18n.DEFAULT, True)]["optimizers.py"]
    wanted = {text for _statement, text in docstrings(ast.parse(english))}
    wanted |= {run[4] for run in comments(english) if "=" * 20 not in run[4] and run[4] != SCRIPT_MAIN_NOTE}
    extracted = set()
    for path in sorted((ROOT / "reference").rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        extracted |= {message for _line, message, _notes in extract_docstrings.messages(relative, path.read_text())}
    assert extracted == wanted


def test_every_comment_of_the_chinese_stub_is_chinese(built):
    chinese = built[(ZH, False)]["optimizers.py"]
    runs = [run for run in comments(chinese) if "=" * 20 not in run[4]]
    assert len(runs) > 10
    assert [run[4] for run in runs if not CJK.search(run[4])] == []


def test_the_release_scan_passes_the_chinese_stub_and_catches_its_solution(built):
    """The release's scan (no shipped text holds a solution line) reads the Chinese files as it reads the English."""
    stub = {name: text.encode("utf-8") for name, text in built[(ZH, False)].items()}
    assert scan_files(stub) == []
    solution = {name: text.encode("utf-8") for name, text in built[(ZH, True)].items()}
    assert scan_files(solution) != []
