"""The self-check's explanation beyond the bank (issue 22): where no known mistake matches, the bundle shows the
edit of the update rule that gives the student's values, looked up in a table the release wrote (each part's
"edits" in cases.json: grader/release/edit_table.py), keyed and encrypted by the values themselves
(grader/release/selfcheck/edit_lookup.py). What these tests hold: on mistakes outside the bank, the bundle's
`pytest grader` shows the very edit the kit's grader shows; the solution and the bank's mistakes show none; a
Chinese release says it in Chinese; no edit is in the bundle in clear, and the table opens only with the values
that reproduce a candidate.
"""

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from test_edits import UNSEEN as EDITS_CORPUS

from grader import i18n
from grader.assignment import build_assignment
from grader.explain import edits
from grader.explain.diagnosis import explain_fingerprint, probe_fingerprint
from grader.explain.mistakes import BANK, mutate, optimizer_for
from grader.judge import closeness, step_verdicts
from grader.release import build_release
from grader.release.cases import encode
from grader.release.edit_table import _array
from grader.release.environment import declared_environment
from grader.release.scan import bundle_files, catalog_text, json_strings
from grader.release.selfcheck import edit_lookup, wire

# Mistakes outside the bank, from test_edits.py's corpus: three that the kit's grader explains by one edit of the
# rule (`grader check` shows it), and one of two edits (the table holds single edits only, so the self-check
# says "none of the known mistakes").
_CORPUS = {mistake.slug: mistake for mistake, _lines in EDITS_CORPUS}
UNSEEN = [_CORPUS["lr_times_root"], _CORPUS["beta_dropped_on_old"], _CORPUS["m_hat_with_t_minus_1"]]
TWO_EDITS = _CORPUS["squares_x"]
BANK_MISTAKES = [BANK["adagrad"][0], BANK["adam"][0]]
HEAD = "It matches none of the known mistakes, but the update rule in the docstring with"
HEAD_ZH = "它与已知的错误都不一致，但把文档字符串中的更新规则做如下修改后"
NONE = "It matches none of the known mistakes: compare your code"


def _graders_edits(mistake):
    """The descriptions of the readings the kit's grader shows for `mistake` (its search on its own probes)."""
    found = explain_fingerprint(mistake.rule, probe_fingerprint(mistake.rule, mistake))
    assert found is not None, mistake.key
    return [found.describe(candidate) for candidate in found.readings]


# ------------------------------------------------------------------ the table's pieces, in this process


def test_a_payload_opens_with_its_own_secret_only():
    secret, other = edit_lookup.table_secret("adam", "1:2,3"), edit_lookup.table_secret("adam", "1:2,4")
    sealed = edit_lookup.seal(secret, 0, b'{"readings": ["x"]}\nvalues')
    assert "=" not in sealed
    assert edit_lookup.unseal(secret, 0, sealed) == b'{"readings": ["x"]}\nvalues'
    assert edit_lookup.unseal(other, 0, sealed) is None
    assert edit_lookup.unseal(secret, 1, sealed) is None  # another payload's place under the same key
    assert edit_lookup.unseal(secret, 0, sealed[:-4] + "AAAA") is None


def test_values_within_the_tolerance_find_the_candidates_text_across_a_rounding_boundary():
    """A candidate's entry sits just below a rounding boundary and the student's just above (float32 rounding):
    the student's texts still hold the candidate's, and values off by more than the tolerance do not."""
    spec = {
        "state": ["G"],
        "single_step": [
            {
                "x": {"tensor": {"dtype": "float32", "shape": [3], "data": [1.0, 2.0, 3.0]}},
                "gradient_x": {"tensor": {"dtype": "float32", "shape": [3], "data": [1.0, 1.0, 1.0]}},
                "state": [0],
            }
        ],
    }
    quantum = 2.0 ** (2 - edit_lookup.BITS)  # the largest |x| is in [2, 4): exponent 2
    boundary = 37.5 * quantum
    candidate = [[np.array([3.0, boundary - 2e-7, 1.0]), np.array([0.5, 0.25, 0.125])]]
    student = [[np.array([3.0, boundary + 2e-7, 1.0]), np.array([0.5, 0.25, 0.125])]]
    assert edit_lookup.canonical_text(candidate) != edit_lookup.canonical_text(student)
    assert edit_lookup.canonical_text(candidate) in edit_lookup.student_texts(spec, student, [2.0**-24])
    assert edit_lookup.values_agree(spec, student, candidate, [2.0**-24])
    far = [[np.array([3.0, boundary + 1e-3, 1.0]), np.array([0.5, 0.25, 0.125])]]
    assert edit_lookup.canonical_text(candidate) not in edit_lookup.student_texts(spec, far, [2.0**-24])
    assert not edit_lookup.values_agree(spec, far, candidate, [2.0**-24])


# ------------------------------------------------------------------ the bundle


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release") / "bundle"
    build_release(folder)
    return folder


@pytest.fixture(scope="module")
def release_zh(tmp_path_factory):
    folder = tmp_path_factory.mktemp("release-zh") / "bundle"
    build_release(folder, language="zh-CN")
    return folder


def _parts(bundle):
    return json.loads((bundle / "grader" / "cases.json").read_text())["parts"]


def _answers(mistake, spec):
    """What `mistake` returns on the part's single_step cases, as the self-check decodes a student's answers."""
    answers = []
    for case in spec["single_step"]:
        arguments = [_array(case["x"]), _array(case["gradient_x"]), *(_array(v) for v in case["state"])]
        dtype = getattr(torch, case["x"]["tensor"]["dtype"])
        tensors = [torch.tensor(a, dtype=dtype) if isinstance(a, np.ndarray) else a for a in arguments]
        for index, value in enumerate(case["state"]):  # a state given as a number stays a number (t, a fresh 0)
            if not isinstance(value, dict):
                tensors[2 + index] = value
        result = mistake.update(*tensors, init_lr=case["init_lr"], **dict(zip(spec["hyper"], case["hyper"])))
        answers.append({"ok": {"result": wire.decode(encode(tuple(result)))}})
    return {"single_step": answers}


@pytest.mark.release
def test_the_table_stays_small_and_holds_no_edit_in_clear(release, release_zh):
    """Under 1.2 MB of cases.json in all; no edit's description, nor a piece of formula one shows (the rule's
    or the student's, at least as long as a solution line the scan looks for), in any file of the bundle, but
    those every release gives anyway (the stub, where the Nesterov bonus is complete; a known mistake's hint; a
    message of the self-check). The table itself is hex keys and
    base64 payloads only, characters that no description or formula is made of alone."""
    for bundle, language in ((release, "en"), (release_zh, "zh-CN")):
        parts = _parts(bundle)
        tables = [spec.pop("edits") for spec in parts.values() if "edits" in spec]
        size = sum(len(json.dumps(table, separators=(",", ":"))) for table in tables)
        assert len(tables) == 5 and 0 < size < 1_200_000, size
        for table in tables:
            assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in table)
            assert all(re.fullmatch(r"[A-Za-z0-9+/]+", item) for items in table.values() for item in items)
        files = bundle_files(bundle)
        texts = [
            catalog_text(data) if name.endswith(".mo") else data.decode("utf-8")
            for name, data in files.items()
            if name != "grader/cases.json"
        ]
        texts += list(json_strings(parts))  # the cases' words (the bank's titles and hints), the table left out
        haystack = "\0".join(texts)
        squeezed = "\0".join(re.sub(r"\s+", "", text) for text in texts)
        # Given in clear by every release, table or not (the release scan vets them): the stub, the bank's words
        # and the self-check's messages (a hint may show a piece of the rule, as `gradient_x ** 2`).
        words = [
            record[key] for spec in parts.values() for record in spec.get("mistakes", ()) for key in ("title", "hint")
        ]
        words += [catalog_text(data) for name, data in files.items() if name.endswith(".mo")]
        words += list(step_verdicts.READ_ONLY_HINT.values())  # the grader's own hints, shipped in step_verdicts.py
        given = "\0".join(re.sub(r"\s+", "", text) for text in [files["optimizers.py"].decode("utf-8"), *words])
        with i18n.speaking(language):
            for part, spec in parts.items():
                if "single_step" not in spec:
                    continue
                rule = edits.Rule.from_function(getattr(optimizer_for(part), part))
                explanation = edits.Explanation(rule, [], 0)
                first = spec["single_step"][0]
                call = [_array(first["x"]), _array(first["gradient_x"]), *(_array(v) for v in first["state"])]
                hyper = dict(zip(spec["hyper"], first["hyper"]))
                table = edits.candidate_table(rule, [call], hyper, first["init_lr"])
                candidates = table.candidates + [c for c in table.extra if len(c.edits) == 1]
                descriptions = {explanation.describe(candidate) for candidate in candidates}
                assert len(descriptions) > 100
                assert not [text for text in descriptions if text in haystack]
                pieces = {
                    re.sub(r"\s+", "", piece)
                    for candidate in candidates
                    for edit in candidate.edits
                    for piece in edit.text(rule)
                }
                pieces = {piece for piece in pieces if len(piece) >= 12 and piece not in given}
                assert pieces and not [piece for piece in pieces if piece in squeezed], part


@pytest.mark.release
def test_the_table_opens_only_with_values_that_reproduce_a_candidate(release):
    """The mistake's own answers find its edit; the same answers off by more than the tolerance, the correct
    answers, or another text's secret find or open nothing."""
    parts = _parts(release)
    mistake = UNSEEN[0]
    spec = parts[mistake.rule]
    answers = _answers(mistake, spec)
    assert edit_lookup.explanation(spec, answers).startswith(HEAD)
    values, units = edit_lookup.student_values(spec, answers)
    texts = edit_lookup.student_texts(spec, values, units)
    text = next(text for text in texts if edit_lookup.table_key(mistake.rule, text) in spec["edits"])
    sealed = spec["edits"][edit_lookup.table_key(mistake.rule, text)]
    assert edit_lookup.unseal(edit_lookup.table_secret(mistake.rule, text), 0, sealed[0]) is not None
    expected = [edit_lookup.expected_values(spec, case) for case in spec["single_step"]]
    wrong = edit_lookup.table_secret(mistake.rule, edit_lookup.canonical_text(expected))
    assert all(edit_lookup.unseal(wrong, index, item) is None for index, item in enumerate(sealed))
    off = {"single_step": [dict(answer) for answer in answers["single_step"]]}
    x = off["single_step"][1]["ok"]["result"][0]
    shifted = closeness.Array(x.type, x.dtype, x.shape, x.device, x.array * (1 + 1e-3))
    off["single_step"][1] = {"ok": {"result": (shifted, *answers["single_step"][1]["ok"]["result"][1:])}}
    assert edit_lookup.explanation(spec, off) is None
    right = {"single_step": [{"ok": {"result": wire.decode(case["expected"])}} for case in spec["single_step"]]}
    assert edit_lookup.explanation(spec, right) is None


@pytest.fixture(scope="module")
def desk(release, release_zh, tmp_path_factory):
    """The bundles as students have them, with the submissions the tests check, and a declared-only python."""
    folder = tmp_path_factory.mktemp("edits-desk")
    shutil.copytree(release, folder / "en")
    shutil.copytree(release_zh, folder / "zh")
    solution = build_assignment(solution=True, files=("optimizers.py",))["optimizers.py"]
    (folder / "solution.py").write_text(solution)
    for mistake in [*UNSEEN, TWO_EDITS, *BANK_MISTAKES]:
        (folder / f"{mistake.rule}__{mistake.slug}.py").write_text(mutate(solution, mistake))
    return folder, declared_environment(release, tmp_path_factory.mktemp("edits-env"))


def _self_check(python, bundle, submission, part):
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    return subprocess.Popen(
        [str(python), "-m", "pytest", "grader", "-p", "no:cacheprovider", "--submission", str(submission), "-k", part],
        cwd=bundle,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


@pytest.fixture(scope="module")
def outputs(desk):
    """Every self-check run of this module, started together: {(language, file stem): output}."""
    folder, python = desk
    runs = {}
    for mistake in [*UNSEEN, TWO_EDITS, *BANK_MISTAKES]:
        stem = f"{mistake.rule}__{mistake.slug}"
        runs[("en", stem)] = _self_check(python, folder / "en", folder / f"{stem}.py", mistake.rule)
    runs[("en", "solution")] = _self_check(python, folder / "en", folder / "solution.py", "adam or adagrad")
    stem = f"{UNSEEN[1].rule}__{UNSEEN[1].slug}"
    runs[("zh", stem)] = _self_check(python, folder / "zh", folder / f"{stem}.py", UNSEEN[1].rule)
    done = {}
    for key, process in runs.items():
        done[key], _ = process.communicate(timeout=600)
    return done


@pytest.mark.release
@pytest.mark.parametrize("mistake", UNSEEN, ids=lambda mistake: mistake.key)
def test_the_self_check_shows_the_edit_the_grader_shows(outputs, mistake):
    output = outputs[("en", f"{mistake.rule}__{mistake.slug}")]
    with i18n.speaking("en"):
        wanted = _graders_edits(mistake)
    assert len(wanted) == 1, wanted
    assert f"{HEAD} this edit gives every value your code returned: {wanted[0]}. Change your code" in output, output[
        -3000:
    ]
    assert NONE not in output


@pytest.mark.release
def test_two_edits_the_solution_and_the_banks_mistakes_show_no_edit(outputs):
    assert " passed" in outputs[("en", "solution")] and " failed" not in outputs[("en", "solution")]
    two = outputs[("en", f"{TWO_EDITS.rule}__{TWO_EDITS.slug}")]
    assert NONE in two and HEAD not in two, two[-2000:]
    for mistake in BANK_MISTAKES:
        output = outputs[("en", f"{mistake.rule}__{mistake.slug}")]
        assert "Likely mistake" in output and HEAD not in output, (mistake.key, output[-2000:])


@pytest.mark.release
def test_a_chinese_release_shows_the_edit_in_chinese(outputs):
    mistake = UNSEEN[1]
    output = outputs[("zh", f"{mistake.rule}__{mistake.slug}")]
    with i18n.speaking("zh-CN"):
        wanted = _graders_edits(mistake)
    assert re.search(r"[\u4e00-\u9fff]", wanted[0]), wanted
    assert f"{HEAD_ZH}，能得到你的代码返回的每一个值：{wanted[0]}。" in output, output[-3000:]
    assert HEAD not in output


def test_a_value_far_smaller_than_its_window_costs_a_bounded_lookup(monkeypatch):
    """x returned near 0 from an input of 50: the window allows millions of roundings of each entry; only
    MAX_KEYS of them are ever drawn for an entry, and MAX_KEYS texts made."""
    drawn = []

    def counted(*bounds):
        for number in range(*bounds):
            drawn.append(number)
            yield number

    monkeypatch.setattr(edit_lookup, "range", counted, raising=False)  # the module's own name, before builtins
    values = {"type": "Tensor", "dtype": "float32", "shape": [4], "device": "cpu"}
    spec = {
        "state": ["G"],
        "single_step": [
            {"x": {"tensor": dict(values, data=[50.0] * 4)}, "gradient_x": {"tensor": dict(values, data=[1e-5] * 4)}}
        ],
    }
    spec["single_step"][0]["state"] = [0]
    texts = edit_lookup.student_texts(spec, [[np.full(4, 1e-7), np.full(4, 1e-10)]], [2.0**-24])
    assert 0 < len(texts) <= edit_lookup.MAX_KEYS
    assert 0 < len(drawn) <= 8 * edit_lookup.MAX_KEYS  # 8 entries (4 of x, 4 of G), each its window's lowest
