"""From the LMS and back: realistic Canvas, Moodle and Gradescope exports run through batch, then gradebook.

Each class is graded once per module (a small rubric: Adam and the trajectory) and every file written is
validated against its importer's rules as lms-formats.md documents them (Canvas: header cells, the
`Title (id)` column, no unknown column, IDs of the export, points within the maximum; Moodle: the three
required headers, Participant ids, grades within each row's maximum, a parseable modification time,
feedback-zip entries Moodle's importziplib can split).
"""

import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.batch.runner import is_current
from grader.inputs.discover import discover
from grader.outputs.gradebook.moodle import feedback_zip

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples" / "submissions"
RIGHT = (EXAMPLES / "alice_nguyen.py").read_text()  # adam 10/10, trajectory 5/5
NO_BIAS = (EXAMPLES / "carla_mendes.py").read_text()  # Adam without bias correction: adam 0
ALIASING = (EXAMPLES / "emeka_obi.py").read_text()  # the trajectory aliasing bug: trajectory 2/5
RUBRIC = {
    "title": "Adam and the trajectory",
    "parts": [
        {"tag": "adam", "title": "Adam", "tests": {"single_step": 4, "sequence": 3, "torch_optim": 1, "invariants": 2}},
        {"tag": "trajectory", "title": "train_f trajectory", "tests": {"out_of_place": 2, "in_place": 3}},
    ],
    "examples": {"single_step": 10, "sequence": 6, "torch_optim": 4, "invariants": 3, "out_of_place": 3, "in_place": 3},
}
FORMULA = re.compile(r"[=+\-@\t\r]")  # how a spreadsheet formula (or DDE payload) starts
NUMBER = re.compile(r"-?\d+(\.\d+)?")

# Canvas "Export Entire Gradebook": BOM, a quoted comma, a name that is a formula, a fake Test Student.
CANVAS_EXPORT = (
    "\ufeffStudent,ID,SIS User ID,SIS Login ID,Section,Optimizers (1201),Quiz 1 (1202),Current Score,Final Score\r\n"
    "    Points Possible,,,,,100.00,10.00,(read only),(read only)\r\n"
    '"Müller, José",4821,S4821,jmuller,"Section A, Mon",,8,80,80\r\n'
    '"=HYPERLINK(""http://evil.example"",""Doe"")",4822,S4822,jdoe,Section A,,7,70,70\r\n'
    '"Smith, Jane",4823,S4823,jsmith,Section A,,9,90,90\r\n'
    '"Zed, Missing",4824,S4824,mzed,Section B,,6,60,60\r\n'
    '"Student, Test",9999,,,Section A,,,,\r\n'
)
# Moodle's grading worksheet: a group's two members (one named like a formula), a text-only student, a no-show,
# a maximum grade other than the rubric's, and "-" where Moodle has no date.
MOODLE_HEADER = [
    "Identifier",
    "Full name",
    "Email address",
    "Status",
    "Group",
    "Grade",
    "Maximum Grade",
    "Grade can be changed",
    "Last modified (submission)",
    "Last modified (grade)",
    "Feedback comments",
]
MOODLE_ROWS = [
    [
        "Participant 104233",
        "José Müller",
        "jose@example.edu",
        "Submitted for grading",
        "",
        "",
        "100.00",
        "Yes",
        "Monday, 30 November 2026, 9:00 AM",
        "-",
        "",
    ],
    [
        "Participant 104235",
        "Ann Lee",
        "ann@example.edu",
        "Submitted for grading",
        "Team Rocket",
        "",
        "100.00",
        "Yes",
        "Monday, 30 November 2026, 9:10 AM",
        "-",
        "",
    ],
    [
        "Participant 104236",
        "=cmd|' /C calc'!A0",
        "x@example.edu",
        "Submitted for grading",
        "Team Rocket",
        "",
        "100.00",
        "Yes",
        "Monday, 30 November 2026, 9:10 AM",
        "-",
        "",
    ],
    [
        "Participant 104237",
        "Text Only",
        "t@example.edu",
        "Submitted for grading",
        "",
        "",
        "100.00",
        "Yes",
        "Monday, 30 November 2026, 9:20 AM",
        "-",
        "",
    ],
    ["Participant 104238", "No Show", "n@example.edu", "No submission", "", "", "100.00", "Yes", "-", "-", ""],
]
GRADESCOPE_METADATA = """\
submission_301:
  :submitters:
  - :name: Bob Lee
    :sid: '20231190'
    :email: bob.lee@example.edu
  - :name: Ana Ruiz
    :sid: '20231191'
    :email: ana.ruiz@example.edu
  :created_at: 2026-11-29 10:00:00.000000000 -08:00
"""


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _run(*args, timeout=600):
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )


@pytest.fixture(scope="module")
def classes(tmp_path_factory):
    """Canvas and Moodle downloads in one folder (each item is recognised on its own), and a Gradescope
    export, each graded once with the small rubric."""
    base = tmp_path_factory.mktemp("lms")
    rubric = base / "rubric.json"
    rubric.write_text(json.dumps(RUBRIC))
    mixed = _write(
        base / "downloads",
        {
            # Canvas: an accented name, a late resubmission (`-1`), a text entry; 4824 submitted nothing.
            "müllerjosé_4821_99017_optimizers.py": RIGHT,
            "doejohn_LATE_4822_99018_optimizers-1.py": NO_BIAS,
            "smithjane_4823_text.html": "<p>my code is in the attached drive link</p>",
            # Moodle (4.1+ folders): a student, a group (folder named `<group>_<group id>`), online text only.
            "José Müller_104233_assignsubmission_file/optimizers.py": ALIASING,
            "Team Rocket_77_assignsubmission_file/optimizers.py": NO_BIAS,
            "Text Only_104237_assignsubmission_onlinetext/onlinetext.html": "<p>see attachment</p>",
        },
    )
    # The grading worksheet saved beside the download: it tells discovery that Team Rocket is a group, and who is in it.
    (mixed / "Grades-OPT101-Optimizers-42.csv").write_text(_worksheet_text(), encoding="utf-8")
    gradescope = _write(
        base / "gradescope", {"submission_metadata.yml": GRADESCOPE_METADATA, "submission_301/optimizers.py": ALIASING}
    )
    runs = {"interrupted": _interrupted_batch(mixed, base / "out-downloads", rubric)}
    for name, folder in (("downloads", mixed), ("gradescope", gradescope)):
        result = _run("batch", folder, "--out", base / f"out-{name}", "--jobs", "2", "--rubric", rubric)
        assert result.returncode == 0, result.stderr
        runs[name] = base / f"out-{name}"
        runs[f"{name}-stderr"] = result.stderr
    (base / "canvas.csv").write_bytes(CANVAS_EXPORT.encode("utf-8"))
    (base / "worksheet.csv").write_bytes(_worksheet_text().encode("utf-8"))
    return base, runs


def _worksheet_text():
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([MOODLE_HEADER, *MOODLE_ROWS])
    return "\ufeff" + buffer.getvalue()


def _interrupted_batch(folder, out, rubric):
    """Ctrl-C as a terminal sends it (SIGINT to the whole process group) once the first student is graded."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "grader",
            "batch",
            str(folder),
            "--out",
            str(out),
            "--jobs",
            "2",
            "--rubric",
            str(rubric),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    seen = []
    for line in process.stderr:
        seen.append(line)
        if "graded" in line:
            os.killpg(process.pid, signal.SIGINT)
            break
    stdout, stderr = process.communicate(timeout=120)
    return process.returncode, "".join(seen) + stderr, stdout


def _rows(path):
    text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def _no_formulas(rows, allowed_columns=()):
    for row in rows:
        for index, cell in enumerate(row):
            if index in allowed_columns or NUMBER.fullmatch(cell.strip()) or cell.strip() == "-":
                continue
            assert not FORMULA.match(cell.lstrip(" ")), f"a spreadsheet would run {cell!r}"


def validate_canvas_import(rows, export_rows, assignment_id):
    """Canvas's importer's rules (lib/gradebook_importer.rb): what makes this file import as is."""
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1]
    section = max(index for index, cell in enumerate(header) if "Section" in cell)
    assert header[: section + 1] == [cell.removeprefix("\ufeff") for cell in export_rows[0][: section + 1]]
    assert len(header) == section + 2, f"only the one assignment column may follow Section: {header}"
    match = re.fullmatch(r"(.*)\s\((\d+)\)", header[-1])
    assert match and match[2] == assignment_id
    points_rows = [row for row in rows[1:] if "Points Possible" in row[0]]
    maximum = float(points_rows[0][-1]) if points_rows else None
    export_ids = {row[1] for row in export_rows[1:]}
    students = [row for row in rows[1:] if "Points Possible" not in row[0]]
    assert len({row[1] for row in students}) == len(students)
    for row in students:
        assert len(row) == len(header) and row[1] in export_ids and row[1].isdigit()
        if row[-1] not in ("", "-", "EX"):
            assert 0 <= float(row[-1]) <= (maximum if maximum is not None else float("inf"))
    _no_formulas(rows)
    return {row[1]: row[-1] for row in students}


@pytest.mark.platforms
def test_canvas_gradebook_imports_as_is(classes):
    base, runs = classes
    result = _run(
        "gradebook", "canvas", runs["downloads"], "--export", base / "canvas.csv", "--assignment", "Optimizers"
    )
    assert result.returncode == 0, result.stderr
    written = _rows(runs["downloads"] / "canvas_grades.csv")
    grades = validate_canvas_import(written, _rows(base / "canvas.csv"), "1201")
    assert grades == {"4821": "100", "4822": "33.33", "4823": "", "4824": "", "9999": ""}
    assert written[1][0].strip() == "Points Possible" and written[1][-1] == "100.00"
    # Who has no grade, and why, is said; so is every result that no gradebook row took (the Moodle ones).
    assert "Smith, Jane (ID 4823): not graded: submitted a text entry on Canvas, not a file" in result.stderr
    assert "Zed, Missing (ID 4824): no submission" in result.stderr
    assert "jose_muller_104233" in result.stderr and "not from a Canvas download" in result.stderr


@pytest.mark.platforms
def test_canvas_missing_zero_and_a_chosen_file(classes, tmp_path):
    base, runs = classes
    target = tmp_path / "import.csv"
    result = _run(
        "gradebook",
        "canvas",
        runs["downloads"],
        "--export",
        base / "canvas.csv",
        "--assignment",
        "Optimizers (1201)",
        "--missing",
        "zero",
        "--out",
        target,
    )
    assert result.returncode == 0, result.stderr
    grades = validate_canvas_import(_rows(target), _rows(base / "canvas.csv"), "1201")
    assert grades["4823"] == grades["4824"] == "0" and grades["4821"] == "100"


@pytest.mark.platforms
@pytest.mark.parametrize(
    "assignment, problem",
    [
        ("Homework 9", "no such assignment column"),
        ("Current Score", "no such assignment column"),
    ],
)
def test_canvas_refuses_an_unknown_assignment(classes, assignment, problem):
    base, runs = classes
    result = _run("gradebook", "canvas", runs["downloads"], "--export", base / "canvas.csv", "--assignment", assignment)
    assert result.returncode == 2 and problem in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.platforms
def test_canvas_semicolons_and_duplicate_titles(classes, tmp_path):
    """A `;` export (Canvas detects it) reads the same; a title used twice needs the whole column name."""
    _base, runs = classes
    export = tmp_path / "semicolon.csv"
    export.write_text(
        "Student;ID;SIS Login ID;Section;Optimizers (1201);Optimizers (1301)\n"
        '    Points Possible;;;;46;20\n"Müller; José";4821;jm;A;;\n',
        encoding="utf-8",
    )
    ambiguous = _run("gradebook", "canvas", runs["downloads"], "--export", export, "--assignment", "Optimizers")
    assert ambiguous.returncode == 2 and "names 2 columns" in ambiguous.stderr
    chosen = _run("gradebook", "canvas", runs["downloads"], "--export", export, "--assignment", "1301")
    assert chosen.returncode == 0, chosen.stderr
    rows = _rows(runs["downloads"] / "canvas_grades.csv")
    assert rows[0] == ["Student", "ID", "SIS Login ID", "Section", "Optimizers (1301)"]
    assert rows[2] == ["Müller; José", "4821", "jm", "A", "20"]


def validate_moodle_import(rows, worksheet_rows):
    """Moodle's offline-grading import (feedback/offline/importgradeslib.php): exact headers, Participant ids."""
    header = rows[0]
    assert header == worksheet_rows[0]
    for required in ("Identifier", "Grade", "Last modified (grade)"):
        assert required in header
    column = {name: header.index(name) for name in header}
    assert [row[column["Identifier"]] for row in rows[1:]] == [row[0] for row in worksheet_rows[1:]]
    grades = {}
    for row in rows[1:]:
        assert re.fullmatch(r"Participant \d+", row[column["Identifier"]])
        grade = row[column["Grade"]]
        if grade:
            assert 0 <= float(grade) <= float(row[column["Maximum Grade"]])
            datetime.fromisoformat(row[column["Last modified (grade)"]])  # strtotime reads ISO 8601 with an offset
        grades[row[column["Identifier"]].split()[1]] = grade
    _no_formulas(rows)
    return grades


def validate_feedback_zip(path, participants):
    """Moodle's importziplib: each entry splits on `_` into name, participant id, assignfeedback, file, file name."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for name in names:
            pieces = name.split("_", 4)
            assert len(pieces) == 5 and pieces[1] in participants and pieces[2:4] == ["assignfeedback", "file"]
            assert "/" not in name and not pieces[4].startswith((".", "~"))
        found = {}
        for name in names:
            _, participant, _, _, file_name = name.split("_", 4)
            found.setdefault(participant, {})[file_name] = archive.read(name).decode("utf-8")
        return found


@pytest.mark.platforms
def test_moodle_worksheet_and_feedback_zip(classes):
    base, runs = classes
    result = _run("gradebook", "moodle", runs["downloads"], "--worksheet", base / "worksheet.csv")
    assert result.returncode == 0, result.stderr
    written = _rows(runs["downloads"] / "moodle_grades.csv")
    assert (runs["downloads"] / "moodle_grades.csv").read_bytes().startswith("\ufeff".encode())  # kept as downloaded
    grades = validate_moodle_import(written, _rows(base / "worksheet.csv"))
    # José: trajectory 2 of 5, Adam right: 12/15 of 100; the group (no bias correction): 5/15, for both members.
    assert grades == {"104233": "80", "104235": "33.33", "104236": "33.33", "104237": "", "104238": ""}
    comments = {row[0]: row[-1] for row in written[1:]}
    assert comments["Participant 104233"].startswith("optimkit: 12/15") and comments["Participant 104238"] == ""
    feedback = validate_feedback_zip(
        runs["downloads"] / "moodle_feedback.zip", {row[0].split()[1] for row in MOODLE_ROWS}
    )
    assert set(feedback) == {"104233", "104235", "104236", "104237"}  # the text-only student learns why
    report = {participant: files["optimkit-feedback.txt"] for participant, files in feedback.items()}
    assert "12 / 15 points" in report["104233"] and "FAILED" in report["104235"]
    assert "submitted online text only" in report["104237"]
    # The batch's feedback page travels with the text report: the group's page for both members.
    pages = {participant: files.get("optimkit-feedback.html") for participant, files in feedback.items()}
    assert pages["104233"].startswith("<!DOCTYPE html>") and "José" in pages["104233"]
    assert pages["104235"] == pages["104236"] is not None and "submitted online text only" in pages["104237"]
    assert "Text Only (Participant 104237): no submission" not in result.stderr  # its result says why
    assert "Text Only (Participant 104237): not graded: submitted online text only" in result.stderr
    assert "No Show (Participant 104238): no submission" in result.stderr


@pytest.mark.platforms
def test_moodle_scales_to_each_rows_maximum_and_keeps_decimal_commas(classes, tmp_path):
    _base, runs = classes
    rows = [
        MOODLE_HEADER[:7] + ["Last modified (grade)"],
        ["Participant 104233", "José Müller", "jose@example.edu", "Submitted", "", "", "20,00", "-"],
    ]
    worksheet = tmp_path / "other.csv"
    with worksheet.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file, delimiter=";").writerows(rows)
    result = _run(
        "gradebook",
        "moodle",
        runs["downloads"],
        "--worksheet",
        worksheet,
        "--out",
        tmp_path / "filled.csv",
        "--feedback-zip",
        tmp_path / "feedback.zip",
    )
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "filled.csv").read_text(encoding="utf-8")
    filled = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert filled[0] == rows[0] and filled[1][5] == "16"  # 12/15 of 20


@pytest.mark.platforms
def test_moodle_refuses_a_worksheet_without_its_required_columns(classes, tmp_path):
    _base, runs = classes
    worksheet = tmp_path / "french.csv"
    worksheet.write_text("Identifiant,Note,Dernière modification (note)\nParticipant 1,,\n", encoding="utf-8")
    result = _run("gradebook", "moodle", runs["downloads"], "--worksheet", worksheet)
    assert result.returncode == 2 and "Identifier" in result.stderr and len(result.stderr.strip().splitlines()) == 1


@pytest.mark.platforms
def test_gradescope_group_is_a_row_per_member(classes):
    _, runs = classes
    with (runs["gradescope"] / "scores.csv").open(encoding="utf-8") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert set(rows) == {"20231190", "20231191"}
    assert rows["20231190"]["name"] == "Bob Lee" and rows["20231191"]["name"] == "Ana Ruiz"
    assert rows["20231190"]["total"] == rows["20231191"]["total"] == "12"
    assert [path.name for path in (runs["gradescope"] / "results").glob("*.json")] == ["20231190.json"]  # graded once


def test_feedback_zip_carries_any_file_per_student(tmp_path):
    data = feedback_zip(
        {"104233": [("report.html", b"<p>hi</p>"), ("notes.txt", b"n")], "7": [("a.txt", b"x")]},
        {"104233": "Jane_Smith/x", "7": ""},
    )
    path = tmp_path / "f.zip"
    path.write_bytes(data)
    found = validate_feedback_zip(path, {"104233", "7"})
    assert set(found) == {"104233", "7"}
    with zipfile.ZipFile(path) as archive:
        assert "Jane Smith x_104233_assignfeedback_file_report.html" in archive.namelist()
        assert "Participant_7_assignfeedback_file_a.txt" in archive.namelist()
    for bad in ({"x1": [("a.txt", b"")]}, {"1": [("../a.txt", b"")]}, {"1": [(".hidden", b"")]}):
        with pytest.raises(ValueError):
            feedback_zip(bad)


@pytest.mark.platforms
def test_ctrl_c_says_one_line_and_a_rerun_resumes(classes):
    """Ctrl-C mid-batch: exit 130, one line (no worker's traceback), no process left; the rerun finishes."""
    _, runs = classes
    code, stderr, stdout = runs["interrupted"]
    assert code == 130, stderr
    said = [line for line in stderr.splitlines() if line.strip() and not line.startswith("[")]  # progress lines
    assert said == ["interrupted: every result written so far is complete; run the same command to resume"]
    assert stdout == ""
    assert "already graded by this grader: skipped" in runs["downloads-stderr"]


@pytest.mark.platforms
def test_a_timeout_is_not_final(classes, tmp_path):
    """A result that timed out is graded again by the next run; a graded one is not."""
    base, runs = classes
    entry = next(entry for entry in discover(base / "downloads") if entry.student == "mullerjose_4821")
    result = json.loads((runs["downloads"] / "results" / "mullerjose_4821.json").read_text())
    stamp = result["extra_data"]["fingerprint"]
    assert is_current(runs["downloads"] / "results" / "mullerjose_4821.json", entry, stamp)
    result["extra_data"]["status"] = "timeout"
    timed_out = tmp_path / "mullerjose_4821.json"
    timed_out.write_text(json.dumps(result))
    assert not is_current(timed_out, entry, stamp)


@pytest.mark.platforms
@pytest.mark.parametrize(
    "arguments, said",
    [
        (("--rubric", "{base}/missing.json"), "error: --rubric {base}/missing.json: No such file or directory"),
        (("--rubric", "{base}/canvas.csv"), "error: --rubric {base}/canvas.csv: not a JSON rubric: JSONDecodeError: "),
        (("--out", "{base}/canvas.csv"), "error: --out {base}/canvas.csv: a file, not a folder"),
    ],
)
def test_a_bad_rubric_or_out_is_one_line_and_exit_2(classes, arguments, said):
    base, _ = classes
    arguments = [argument.format(base=base) for argument in arguments]
    out = ["--out", str(base / "never")] if "--out" not in arguments else []
    result = _run("batch", base / "gradescope", *out, *arguments)
    assert result.returncode == 2 and result.stderr.startswith(said.format(base=base)), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (base / "never").exists()


@pytest.mark.parametrize("layout", ["zip given as the folder", "folder holding only the zip", "empty folder"])
def test_an_archive_or_an_empty_folder_is_refused_with_what_to_do(tmp_path, layout):
    archive = tmp_path / "OPT101-Optimizers-42.zip"
    with zipfile.ZipFile(archive, "w") as file:
        file.writestr("Jane Smith_104233_assignsubmission_file/optimizers.py", RIGHT)
    given = {
        "zip given as the folder": archive,
        "folder holding only the zip": tmp_path,
        "empty folder": tmp_path / "empty",
    }[layout]
    (tmp_path / "empty").mkdir()
    if layout == "folder holding only the zip":
        (tmp_path / "empty").rmdir()
    result = _run("batch", given, "--out", tmp_path.parent / f"{tmp_path.name}-out")
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    expected = "is empty: expected .py or .ipynb files" if layout == "empty folder" else "extract it first (e.g. `unzip"
    assert expected in result.stderr and not (tmp_path.parent / f"{tmp_path.name}-out").exists()


@pytest.mark.platforms
def test_canvas_duplicate_ids_and_stale_results(classes, tmp_path):
    """An ID on two rows gets the same grade on each (and a warning); two results for one Canvas user are refused."""
    _base, runs = classes
    out = tmp_path / "out"
    shutil.copytree(runs["downloads"] / "results", out / "results")
    export = tmp_path / "export.csv"
    export.write_text(
        'Student,ID,SIS Login ID,Section,Optimizers (1201)\n"Müller, José",4821,jm,A,\n"Müller, José",4821,jm,B,\n',
        encoding="utf-8",
    )
    twice = _run("gradebook", "canvas", out, "--export", export, "--assignment", "Optimizers")
    assert twice.returncode == 0 and "ID 4821 is on 2 rows" in twice.stderr
    assert "no points possible" in twice.stderr  # no Points Possible row: the rubric's 15 points as they are
    assert [row[-1] for row in _rows(out / "canvas_grades.csv")[1:]] == ["15", "15"]
    shutil.copy(out / "results" / "mullerjose_4821.json", out / "results" / "old_4821.json")
    stale = _run("gradebook", "canvas", out, "--export", export, "--assignment", "Optimizers")
    assert stale.returncode == 2 and "two results for Canvas user 4821" in stale.stderr


@pytest.mark.platforms
def test_a_moodle_group_is_a_row_per_member_in_scores(classes):
    """With the worksheet beside the download, the group's result is each member's line in scores.csv."""
    _, runs = classes
    with (runs["downloads"] / "scores.csv").open(encoding="utf-8") as file:
        rows = {row["student"]: row for row in csv.DictReader(file)}
    assert rows["104235"]["name"] == "Ann Lee" and rows["104236"]["name"] == "'=cmd|' /C calc'!A0"
    assert rows["104235"]["total"] == rows["104236"]["total"] == "5" and "team_rocket_77" not in rows
    assert rows["mullerjose_4821"]["total"] == "15" and rows["smithjane_4823"]["status"] == "error"


def _moodle_skips(worksheet_modified, grade_in_moodle, grade_modified_in_moodle, new_grade):
    """Moodle's offline import decision for one row (mod/assign/feedback/offline/locallib.php,
    process_import_grades, "Allow updating records modified more recently" unticked): the worksheet's
    `Last modified (grade)` is read by strtotime (here: ISO 8601 with an offset, or "-" which strtotime
    cannot read: false, that is 0); the row is skipped when the grade is unchanged, empty or negative, or
    Moodle's grade was modified more than 60 s after that date."""
    try:
        modified = datetime.fromisoformat(worksheet_modified).timestamp()
    except ValueError:
        modified = 0
    stale = grade_in_moodle is not None and grade_modified_in_moodle > modified + 60
    return (grade_in_moodle is not None and grade_in_moodle == new_grade) or new_grade is None or new_grade < 0 or stale


@pytest.mark.platforms
def test_moodle_keeps_the_worksheets_dates_so_a_later_grade_in_moodle_survives(classes, tmp_path):
    """José was given 45 in Moodle, downloaded with its date; then a teacher changed it in Moodle. The
    filled worksheet keeps the downloaded date, so Moodle's import skips the row and keeps the teacher's
    grade; the replaced 45 is said. A row with no date ("-") gets now, or Moodle would skip it."""
    _base, runs = classes
    downloaded = "2026-12-01T10:00:00+00:00"
    rows = [MOODLE_HEADER, [*MOODLE_ROWS[0][:5], "45.00", *MOODLE_ROWS[0][6:9], downloaded, ""], MOODLE_ROWS[1]]
    worksheet = tmp_path / "worksheet.csv"
    with worksheet.open("w", newline="", encoding="utf-8") as file:
        csv.writer(file).writerows(rows)
    result = _run(
        "gradebook",
        "moodle",
        runs["downloads"],
        "--worksheet",
        worksheet,
        "--out",
        tmp_path / "filled.csv",
        "--feedback-zip",
        tmp_path / "feedback.zip",
    )
    assert result.returncode == 0, result.stderr
    filled = _rows(tmp_path / "filled.csv")
    column = {name: index for index, name in enumerate(filled[0])}
    jose, ann = filled[1], filled[2]
    assert jose[column["Grade"]] == "80" and jose[column["Last modified (grade)"]] == downloaded
    assert "José Müller (Participant 104233): the worksheet's grade 45.00 is replaced by 80" in result.stderr
    assert "Ann Lee (Participant 104235): the worksheet's grade" not in result.stderr  # empty: nothing replaced
    later = datetime.fromisoformat(downloaded).timestamp() + 3600  # the teacher's change in Moodle
    assert _moodle_skips(jose[column["Last modified (grade)"]], 45.0, later, 80.0)
    # Had the worksheet been stamped with now (as before), the teacher's grade would have been replaced.
    assert not _moodle_skips(datetime.now(timezone.utc).isoformat(), 45.0, later, 80.0)
    stamped = datetime.fromisoformat(ann[column["Last modified (grade)"]])  # "-" in the worksheet: now
    assert abs(stamped.timestamp() - datetime.now(timezone.utc).timestamp()) < 600
    assert not _moodle_skips(ann[column["Last modified (grade)"]], None, 0, 33.33)
