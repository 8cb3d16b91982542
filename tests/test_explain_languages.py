"""What grader.explain says, in every language students are taught in: the words change, the verdict does not.

- every title and hint of the bank is a message of the catalogs (tools/extract_mistakes.py finds each one) and
  comes back translated while the process speaks Chinese, as written in English otherwise, with every formula,
  identifier and number of the English kept;
- a diagnosed known mistake, an unknown one (where it first goes wrong) and an edit of the rule read in Chinese
  under zh-CN and byte for byte as before in English, with the same verdict in both: rule, slug, distance, first
  wrong step, and the explanation's edits and lines;
- no translated title or hint holds a line of the solution (the release scan's rule of issue 21).

Each diagnosis here runs in this process on a class (tests/diagnosis_support.py), a few milliseconds each.
"""

import re
from pathlib import Path

import pytest
import torch
from diagnosis_support import FirstKeyOnly, failing_runner, runner
from test_diagnosis import (
    HYPER,
    INIT_LR,
    _AdamCorrectionsSwapped,
    _AdamTorchStyle,
    _method,
    call,
    output,
    problem,
    run,
    step_inputs,
)

from grader import i18n
from grader.explain.diagnosis import diagnose_sequence, diagnose_step
from grader.explain.edits.explanation import CHANGED
from grader.explain.edits.operators import _KIND_COST
from grader.explain.mistakes import BANK, RULES, find, optimizer_for
from grader.release.scan import _compact_line, solution_lines
from reference import Adam
from tools import extract_mistakes

ROOT = Path(__file__).resolve().parents[1]
CHINESE = "zh-CN"
ALL = [mistake for rule in RULES for mistake in BANK[rule]]
HAN = re.compile(r"[\u4e00-\u9fff]")
#: What a translation must keep of the English: identifiers with a dot, an underscore or an index
#: (`self.beta1`, `gradient_x`, `self.G[key]`), calls and numbers as written.
CODE = re.compile(r"\w+(?:[._]\w+|\[\w+\])+|(?<![\w.])\d+(?:\.\d+)?(?:e-?\d+)?(?![\w])")


def _code(text):
    return set(CODE.findall(text))


def _chinese(function):
    with i18n.speaking(CHINESE):
        return function()


# --- the bank's titles and hints -----------------------------------------------------------------------


@pytest.mark.parametrize("rule", RULES)
def test_the_extractor_finds_every_title_and_hint_of_the_bank(rule):
    path = ROOT / "grader" / "explain" / "mistakes" / f"{rule}.py"
    text = path.read_text(encoding="utf-8")
    found = [
        message for _line, message, _comments in extract_mistakes.messages(path.relative_to(ROOT).as_posix(), text)
    ]
    assert sorted(found) == sorted(text for mistake in BANK[rule] for text in (mistake.title, mistake.hint))
    # Only the bank's data files: the same call elsewhere is not a title.
    assert list(extract_mistakes.messages("grader/explain/diagnosis.py", text)) == []


def test_every_title_and_hint_is_read_in_chinese_and_in_english_as_written():
    for mistake in ALL:
        name = optimizer_for(mistake.rule).__name__
        assert (mistake.named(), mistake.fix()) == (f"{name} {mistake.title}", mistake.hint), mistake.key
        title, named, fix = _chinese(lambda m=mistake: (i18n._(m.title), m.named(), m.fix()))
        for english, chinese in ((mistake.title, title), (mistake.hint, fix)):
            assert chinese != english and HAN.search(chinese), f"{mistake.key}: {english!r} is not translated"
            assert _code(english) <= _code(chinese), f"{mistake.key}: {chinese!r} drops code of {english!r}"
        assert name in named and title in named and HAN.search(named)
        assert (mistake.named(), mistake.fix()) == (f"{name} {mistake.title}", mistake.hint)  # English again after
    assert i18n.language() == i18n.DEFAULT


def test_no_translated_title_or_hint_holds_a_solution_line():
    lines = solution_lines()
    assert lines  # the check below could not fail without them
    for mistake in ALL:
        for text in _chinese(lambda m=mistake: (m.named(), m.fix())):
            compact = _compact_line(text)
            assert not [line for line in lines if line in compact], f"{mistake.key}: {text!r}"


# --- the diagnosis -------------------------------------------------------------------------------------


def _both(diagnose):
    """(English, Chinese, English again) diagnoses of the same answers."""
    english = diagnose()
    chinese = _chinese(diagnose)
    return english, chinese, diagnose()


def _same_verdict(english, chinese):
    assert english.mistake == chinese.mistake and english.also == chinese.also
    assert english.distance == chinese.distance and english.first_wrong_step == chinese.first_wrong_step
    words = ("message", "title", "hint")
    plain = {key: value for key, value in english.to_dict().items() if key not in words}
    translated = {key: value for key, value in chinese.to_dict().items() if key not in words}
    if english.explanation:  # the edits and lines are code: only the text and descriptions are words
        for data in (plain, translated):
            data["explanation"] = {
                **{key: value for key, value in data["explanation"].items() if key != "text"},
                "readings": [
                    {key: value for key, value in reading.items() if key != "description"}
                    for reading in data["explanation"]["readings"]
                ],
            }
    assert plain == translated
    assert _code(english.message) <= _code(chinese.message)  # every number, name and formula of the English


def test_a_known_mistake_reads_in_chinese_with_the_same_verdict():
    mistake = find("adam", "no_bias_correction")
    inputs = step_inputs("adam", torch.float32)
    got = output(mistake.update, "adam", inputs, HYPER["adam"])
    english, chinese, again = _both(
        lambda: diagnose_step("adam", inputs, HYPER["adam"], got, runner(mistake.optimizer_class()))
    )
    assert (
        english.message
        == again.message
        == (
            "Adam: your update matches Adam without bias correction. "
            "Fix: Divide M by (1 - beta1**t) and G by (1 - beta2**t) before the update."
        )
    )
    assert chinese.message == (
        "Adam：你的更新结果与“Adam 没有做偏差修正”一致。"
        "改正方法：更新之前，先把 M 除以 (1 - beta1**t)，把 G 除以 (1 - beta2**t)。"
    )
    _same_verdict(english, chinese)
    # The title and hint of the data are looked up when it is made, in the language spoken then.
    assert _chinese(english.to_dict)["title"] == "没有做偏差修正" and chinese.to_dict()["title"] == mistake.title


def test_a_known_step_mistake_reads_in_chinese_with_the_same_first_wrong_step():
    mistake = find("adam", "t_not_advanced")
    params, gradients = problem(torch.float32)
    got = run(mistake.optimizer_class(), "adam", params, gradients)
    english, chinese, again = _both(
        lambda: diagnose_sequence(
            "adam", params, gradients, HYPER["adam"], got, runner(mistake.optimizer_class()), init_lr=INIT_LR
        )
    )
    assert english.message == again.message
    assert english.message.startswith("Adam, from step 2: your parameters match Adam that never advances t")
    assert chinese.message.startswith("Adam（从第 2 步起）：你的参数与“Adam 从不推进 t（原样返回 t）”的结果一致。")
    _same_verdict(english, chinese)


def test_an_edit_of_the_rule_reads_in_chinese_with_the_same_lines():
    inputs = step_inputs("adam", torch.float32)
    got = call(_method(_AdamCorrectionsSwapped, "adam"), "adam", inputs)
    english, chinese, again = _both(
        lambda: diagnose_step("adam", inputs, HYPER["adam"], got, runner(_AdamCorrectionsSwapped))
    )
    assert (
        english.message
        == again.message
        == (
            "Adam: your update matches none of the known Adam mistakes, but an edit of the rule reproduces every value "
            "your code returned: your adam() computes exactly what the rule computes with 2 edits:\n"
            "  the rule:   M_hat = M / (1 - self.beta1 ** t)\n"
            "  your code:  M_hat = M / (1 - self.beta2 ** t)\n"
            "  the rule:   G_hat = G / (1 - self.beta2 ** t)\n"
            "  your code:  G_hat = G / (1 - self.beta1 ** t)\n"
            "  (`self.beta1` became `self.beta2` (hyperparameter); `self.beta2` became `self.beta1` (hyperparameter)). "
            "Change it back to the rule's line."
        )
    )
    assert chinese.message.splitlines()[1:] == [
        "  规则：     M_hat = M / (1 - self.beta1 ** t)",
        "  你的代码： M_hat = M / (1 - self.beta2 ** t)",
        "  规则：     G_hat = G / (1 - self.beta2 ** t)",
        "  你的代码： G_hat = G / (1 - self.beta1 ** t)",
        "  （`self.beta1` 变成了 `self.beta2`（超参数不同）；`self.beta2` 变成了 `self.beta1`（超参数不同））。"
        "把它改回规则中的那一行。",
    ]
    assert chinese.explanation["text"] in chinese.message and english.explanation["text"] in english.message
    _same_verdict(english, chinese)


def test_where_an_unknown_mistake_goes_wrong_reads_in_chinese():
    """No mistake and no edit: the value, the probe step and the numbers, the same in both languages."""
    inputs = step_inputs("adam", torch.float32)
    got = call(_method(_AdamTorchStyle, "adam"), "adam", inputs)
    english, chinese, again = _both(lambda: diagnose_step("adam", inputs, HYPER["adam"], got, runner(_AdamTorchStyle)))
    assert english.message == again.message
    assert "(t = 1), the returned x is the first to differ: x[0, 0] should be " in english.message
    assert "（t = 1），返回值中最先出现差异的是 x：x[0, 0] 应为 " in chinese.message
    _same_verdict(english, chinese)
    english, chinese, _again = _both(lambda: diagnose_step("adam", inputs, HYPER["adam"], got, failing_runner))
    assert "评分器无法在你的代码上运行探测输入（RuntimeError: " in chinese.message
    _same_verdict(english, chinese)


def test_every_kind_of_edit_has_words_of_its_own():
    """A kind of edit the search makes is described in a translatable sentence, not by its English name."""
    described = set(CHANGED) | {"return order", "hyperparameters swapped"}  # the last two: sentences of their own
    assert set(_KIND_COST) == described
    for kind, message in CHANGED.items():
        assert f"({kind})" in message
        translated = _chinese(lambda m=message: i18n._(m))
        assert translated != message and "`{before}`" in translated and "`{after}`" in translated


def test_a_probe_that_raises_and_a_step_that_leaves_the_reference_read_in_chinese():
    class RaisesOnScalars(Adam):
        def adam(self, x, gradient_x, G, M, t, init_lr):
            if x.dim() == 0:
                raise ValueError("expected a matrix")
            return super().adam(x, gradient_x, G, M, t, init_lr)

    mistake = find("adam", "no_bias_correction")
    inputs = step_inputs("adam", torch.float32)
    got = output(mistake.update, "adam", inputs, HYPER["adam"])
    english, chinese, _again = _both(lambda: diagnose_step("adam", inputs, HYPER["adam"], got, runner(RaisesOnScalars)))
    assert english.message.endswith("(t = 7), your adam() raised ValueError: expected a matrix.")
    assert chinese.message.endswith("（t = 7），你的 adam() 抛出了 ValueError：expected a matrix。")
    _same_verdict(english, chinese)

    params, gradients = problem(torch.float32)
    got = run(FirstKeyOnly, "adagrad", params, gradients)
    english, chinese, _again = _both(
        lambda: diagnose_sequence(
            "adagrad", params, gradients, HYPER["adagrad"], got, runner(FirstKeyOnly), init_lr=INIT_LR
        )
    )
    assert "leaves the reference after step 1: model.params['b'][0, 0] should be " in english.message
    assert "step() 在第 1 步之后偏离了参考实现：model.params['b'][0, 0] 应为 " in chinese.message
    _same_verdict(english, chinese)
