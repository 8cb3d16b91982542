"""Student-provided text reaches the terminal without its controls: no escape sequence can fake a verdict."""

from pathlib import Path

from grading_support import grade_text, solution_source

from grader.batch import class_files
from grader.outputs import terminal
from grader.outputs.class_summary import Row

FAKE_PASS = "\x1b[2K\r  [PASS] single step (5/5)\x1b[32m\u202e"


def test_an_exception_message_with_terminal_controls_is_printed_as_escapes(zygote, tmp_path):
    source = (
        f"print({FAKE_PASS!r})\n"
        + solution_source()
        + f"\ndef broken(self, *args):\n    raise ValueError({FAKE_PASS!r})\n\nAdagrad.adagrad = broken\n"
    )
    graded = grade_text(source, tmp_path, zygote, "adagrad")
    assert any(FAKE_PASS in test.output for test in graded.tests)  # the raw message did reach the verdict
    text = terminal.render(graded)
    assert not any(control in text for control in ("\x1b", "\r", "\u202e"))
    assert "\\x1b[2K\\r  [PASS]" in text and "\\u202e" in text


def test_a_student_name_with_terminal_controls_is_printed_as_escapes():
    assert terminal.printable("ok\tline\nnext") == "ok\tline\nnext"  # layout characters stay
    assert terminal.printable("a\x07b\x9bc\x00") == "a\\x07b\\x9bc\\x00"
    result = {"score": 1, "max_score": 2, "tests": [], "extra_data": {"status": "graded", "parts": {}}}
    row = Row(student="eve\x1b]0;owned\x07", name="eve.py", status="graded", result=result, message="")
    text = class_files.table([row], [], Path("out"))
    assert "\x1b" not in text and "\x07" not in text and "eve\\x1b]0;owned\\x07" in text
