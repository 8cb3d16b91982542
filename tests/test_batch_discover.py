"""Does `discover` find every student of a plain folder and of each LMS export, safely and read-only?"""

import dataclasses
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grader.batch.guidance import not_a_folder, nothing_found
from grader.inputs.discover import MAX_GROUP, MAX_ID_LENGTH, DiscoveryError, Entry, discover, safe_id
from grader.outputs.members import expand

ROOT = Path(__file__).resolve().parents[1]
SAFE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
CODE = "def f():\n    return 1\n"
NOTEBOOK = '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}\n'


def build(root, files):
    """Write {relative path: text} under root (a path ending in "/" is an empty folder)."""
    for name, text in files.items():
        path = root / name
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def snapshot(root):
    """Every path under root with its bytes (None for a folder or a link): what "unchanged" compares."""
    found = {}
    for folder, folders, files in os.walk(root):
        for name in folders + files:
            path = Path(folder, name)
            content = path.read_bytes() if path.is_file() and not path.is_symlink() else None
            found[path.relative_to(root).as_posix()] = (content, path.is_symlink())
    return found


def discover_unchanged(root):
    """discover(root), checking that it left the folder byte for byte as it was."""
    before = snapshot(root)
    entries = discover(root)
    assert snapshot(root) == before
    return entries


def table(entries, root):
    """{student: (name, path relative to root or None, error, layout)}: a test reads as the expected table."""
    return {
        entry.student: (entry.name, entry.path and entry.path.relative_to(root).as_posix(), entry.error, entry.layout)
        for entry in entries
    }


def test_plain_files_and_folders_are_students(tmp_path):
    """Is each top-level .py/.ipynb a student (its stem), each sub-folder a student (its name)?"""
    root = build(
        tmp_path / "class",
        {
            "alice.py": CODE,
            "bob.ipynb": NOTEBOOK,
            "README.txt": "instructions",
            ".hidden.py": CODE,
            "carol/optimizers.py": CODE,
            "dave/a.py": CODE,
            "dave/b.ipynb": NOTEBOOK,
            "erin/notes.pdf": "pdf",
            "erin/optimizers.zip": "zip",
            "frank/__pycache__/optimizers.cpython-312.py": CODE,
            "frank/.ipynb_checkpoints/optimizers-checkpoint.ipynb": NOTEBOOK,
            "frank/.git/hook.py": CODE,
            "frank/src/optimizers.py": CODE,
            "gina/": "",
            "__MACOSX/._alice.py": CODE,
            ".ipynb_checkpoints/alice-checkpoint.py": CODE,
        },
    )
    assert table(discover_unchanged(root), root) == {
        "alice": ("alice", "alice.py", None, "plain"),
        "bob": ("bob", "bob.ipynb", None, "plain"),
        "carol": ("carol", "carol/optimizers.py", None, "plain"),
        "dave": ("dave", None, "folder holds 2 gradable files: a.py, b.ipynb", "plain"),
        "erin": ("erin", None, "folder holds no .py or .ipynb file (only notes.pdf, optimizers.zip)", "plain"),
        "frank": ("frank", "frank/src/optimizers.py", None, "plain"),
        "gina": ("gina", None, "folder holds no .py or .ipynb file", "plain"),
    }


def test_canvas_export(tmp_path):
    """Is a Canvas bulk download one student per user id, with LATE and repeated-name files too?"""
    root = build(
        tmp_path / "canvas",
        {
            "smithjane_4821_99017_optimizers.py": CODE,
            "doejohn_LATE_4822_99018_optimizers-1.ipynb": NOTEBOOK,
            "leeanna_4823_99019_optimizers.py": CODE,
            "leeanna_4823_99019_optimizers-1.py": CODE,
            "kimbo_4824_99020_optimizers.zip": "zip",
            "kimbo_4824_99020_notes.txt": "text",
            "parkmin_4825_99021_optimizers.py": CODE,
            "parkmin_4825_99021_report.pdf": "pdf",
        },
    )
    assert table(discover_unchanged(root), root) == {
        "doejohn_4822": ("doejohn", "doejohn_LATE_4822_99018_optimizers-1.ipynb", None, "canvas"),
        "kimbo_4824": (
            "kimbo",
            None,
            "submission holds no .py or .ipynb file (only kimbo_4824_99020_notes.txt, kimbo_4824_99020_optimizers.zip)",
            "canvas",
        ),
        "leeanna_4823": (
            "leeanna",
            None,
            "submission holds 2 gradable files: leeanna_4823_99019_optimizers-1.py, leeanna_4823_99019_optimizers.py",
            "canvas",
        ),
        "parkmin_4825": ("parkmin", "parkmin_4825_99021_optimizers.py", None, "canvas"),
        "smithjane_4821": ("smithjane", "smithjane_4821_99017_optimizers.py", None, "canvas"),
    }


def test_moodle_export(tmp_path):
    """Is a Moodle download one student per participant id, online text ignored unless it is all there is?"""
    root = build(
        tmp_path / "moodle",
        {
            "Jane Smith_104233_assignsubmission_file_/optimizers.py": CODE,
            "Jane Smith_104233_assignsubmission_onlinetext_/onlinetext.html": "<p>done</p>",
            "José Núñez_104234_assignsubmission_file_/homework/optimizers.ipynb": NOTEBOOK,
            "王小明_104235_assignsubmission_file_/a.py": CODE,
            "王小明_104235_assignsubmission_file_/b.py": CODE,
            "Text Only_104236_assignsubmission_onlinetext_/onlinetext.html": "<p>see attachment</p>",
            "Flat File_104237_assignsubmission_file_optimizers.py": CODE,
        },
    )
    assert table(discover_unchanged(root), root) == {
        "104235": (
            "王小明",
            None,
            "submission holds 2 gradable files: 王小明_104235_assignsubmission_file_/a.py, "
            "王小明_104235_assignsubmission_file_/b.py",
            "moodle",
        ),
        "flat_file_104237": ("Flat File", "Flat File_104237_assignsubmission_file_optimizers.py", None, "moodle"),
        "jane_smith_104233": ("Jane Smith", "Jane Smith_104233_assignsubmission_file_/optimizers.py", None, "moodle"),
        "jose_nunez_104234": (
            "José Núñez",
            "José Núñez_104234_assignsubmission_file_/homework/optimizers.ipynb",
            None,
            "moodle",
        ),
        "text_only_104236": ("Text Only", None, "submitted online text only, no .py or .ipynb file", "moodle"),
    }


GRADESCOPE_METADATA = """\
submission_101:
  :submitters:
  - :name: Jane Smith
    :sid: '20231187'
    :email: jane.smith@example.edu
  :created_at: 2025-03-01 10:00:00.000000000 -08:00
  :score: !ruby/object:BigDecimal 18:0.46e2
submission_102:
  :submitters:
  - :name: Bob Lee
    :sid: 20231190
    :email: bob.lee@example.edu
  - :name: Ana Ruiz
    :sid: '20231191'
    :email: ana.ruiz@example.edu
submission_103:
  :submitters:
  - :name: No Sid
    :email: no.sid@example.edu
submission_104:
  :submitters:
  - :name: Two Files
    :sid: '20231195'
submission_105:
  :submitters:
  - :name: Gone Missing
    :sid: '20231196'
"""


def test_gradescope_export(tmp_path):
    """Is a Gradescope export one entry per submission, named after all its submitters, keyed by sid?"""
    root = build(
        tmp_path / "gradescope",
        {
            "submission_metadata.yml": GRADESCOPE_METADATA,
            "submission_101/optimizers.py": CODE,
            "submission_102/optimizers.ipynb": NOTEBOOK,
            "submission_103/code/optimizers.py": CODE,
            "submission_104/a.py": CODE,
            "submission_104/b.py": CODE,
            "submission_106/optimizers.py": CODE,  # not in the metadata: graded under its folder's name
            "notes/optimizers.py": CODE,  # not a submission folder
        },
    )
    assert table(discover_unchanged(root), root) == {
        "20231187": ("Jane Smith", "submission_101/optimizers.py", None, "gradescope"),
        "20231190": ("Bob Lee, Ana Ruiz", "submission_102/optimizers.ipynb", None, "gradescope"),
        "20231195": ("Two Files", None, "folder submission_104 holds 2 gradable files: a.py, b.py", "gradescope"),
        "20231196": (
            "Gone Missing",
            None,
            "listed in submission_metadata.yml, but folder submission_105/ is missing",
            "gradescope",
        ),
        "no.sid": ("No Sid", "submission_103/code/optimizers.py", None, "gradescope"),
        "submission_106": ("submission_106", "submission_106/optimizers.py", None, "gradescope"),
    }


@pytest.mark.parametrize(
    "text, problem",
    [
        ("submission_1: [unclosed", "not readable YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
    ids=["bad-yaml", "not-a-mapping"],
)
def test_unreadable_gradescope_metadata_stops_discovery(tmp_path, text, problem):
    """Is metadata that cannot be read an error naming the file, not a class of nameless students?"""
    root = build(tmp_path / "gradescope", {"submission_metadata.yml": text, "submission_1/a.py": CODE})
    with pytest.raises(DiscoveryError, match=problem) as caught:
        discover(root)
    assert "submission_metadata.yml" in str(caught.value)


def test_a_mixed_plain_folder_keeps_each_items_layout(tmp_path):
    """Does a plain folder with a Canvas file and a Moodle folder dropped in still give every student?"""
    root = build(
        tmp_path / "mixed",
        {
            "alice.py": CODE,
            "bob/optimizers.py": CODE,
            "smithjane_4821_99017_optimizers.py": CODE,
            "Jane Smith_104233_assignsubmission_file_/optimizers.py": CODE,
        },
    )
    assert {entry.student: entry.layout for entry in discover_unchanged(root)} == {
        "alice": "plain",
        "bob": "plain",
        "smithjane_4821": "canvas",
        "jane_smith_104233": "moodle",
    }


def test_ids_are_safe_unique_and_deterministic(tmp_path):
    """Do awkward names become safe, distinct file names, the same on every run?"""
    names = [
        "Alice.py",
        "alice.py",
        "alice/optimizers.py",
        "alice-2.py",
        "José Núñez.py",
        "王小明.py",
        "李雷.py",
        "con.py",
        "a b (1).ipynb",
        "-dash.py",
        "x" * 200 + ".py",
        "trailing..py",
    ]
    root = build(tmp_path / "class", {name: CODE for name in names})
    entries = discover_unchanged(root)
    ids = [entry.student for entry in entries]
    assert len(entries) == len(names)
    assert all(SAFE.fullmatch(student) and len(student) <= MAX_ID_LENGTH for student in ids)
    assert len({student.casefold() for student in ids}) == len(ids)
    assert ids == sorted(ids, key=lambda student: (student.casefold(), student))
    assert discover(root) == entries
    by_path = {entry.path.relative_to(root).as_posix(): entry.student for entry in entries}
    # Equal ids in the order of their paths ("Alice.py" < "alice" < "alice.py"); alice-2 is someone's own.
    assert by_path["Alice.py"] == "Alice" and by_path["alice-2.py"] == "alice-2"
    assert by_path["alice/optimizers.py"] == "alice-3" and by_path["alice.py"] == "alice-4"
    assert by_path["José Núñez.py"] == "Jose_Nunez" and by_path["con.py"] == "con_"
    assert by_path["a b (1).ipynb"] == "a_b_1_" and by_path["trailing..py"] == "trailing"
    assert by_path["-dash.py"] == "-dash" and by_path["x" * 200 + ".py"] == "x" * MAX_ID_LENGTH
    assert by_path["王小明.py"].startswith("student-") and by_path["王小明.py"] != by_path["李雷.py"]


@given(st.text(max_size=300))
def test_safe_id_of_any_text_is_a_safe_file_name(text):
    """Is every id, whatever the name, a non-empty safe file name of bounded length?"""
    student = safe_id(text)
    assert SAFE.fullmatch(student) and len(student) <= MAX_ID_LENGTH
    assert safe_id(text) == student


def test_links_are_not_followed(tmp_path):
    """Can a symbolic link make the grader read a file outside the folder? (It is ignored.)"""
    outside = build(tmp_path / "outside", {"secret.py": CODE, "folder/secret.py": CODE})
    root = build(tmp_path / "class", {"alice/optimizers.py": CODE})
    try:
        (root / "mallory.py").symlink_to(outside / "secret.py")
        (root / "alice" / "extra.py").symlink_to(outside / "secret.py")
        (root / "trent").symlink_to(outside / "folder", target_is_directory=True)
    except OSError as error:
        pytest.skip(f"cannot make symbolic links here: {error}")
    assert table(discover_unchanged(root), root) == {"alice": ("alice", "alice/optimizers.py", None, "plain")}


def test_a_missing_folder_is_refused(tmp_path):
    with pytest.raises(NotADirectoryError, match="not a folder"):
        discover(tmp_path / "nowhere")
    (tmp_path / "file.py").write_text(CODE)
    with pytest.raises(NotADirectoryError):
        discover(tmp_path / "file.py")


def test_entries_are_frozen(tmp_path):
    (entry,) = discover(build(tmp_path / "class", {"alice.py": CODE}))
    assert isinstance(entry, Entry)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.student = "bob"


def test_the_bundled_example_class_is_all_gradable():
    """Does examples/submissions (the Quick start's class) discover as students with one file each?"""
    folder = ROOT / "examples" / "submissions"
    entries = discover_unchanged(folder)
    assert [entry.error for entry in entries] == [None] * len(entries)
    assert len(entries) >= 8 and {entry.layout for entry in entries} == {"plain"}
    assert {entry.path.suffix for entry in entries} == {".py", ".ipynb"}


def test_canvas_names_in_any_script_anonymous_downloads_and_text_entries(tmp_path):
    """Are accented and non-Latin Canvas names, `anon_` downloads, and text or URL entries each a student?"""
    root = build(
        tmp_path / "canvas",
        {
            "müllerjosé_4821_99017_optimizers.py": CODE,
            "王小明_4822_99018_optimizers.py": CODE,
            "øberg_LATE_4823_99019_optimizers-1.ipynb": NOTEBOOK,
            "smithjane_4824_text.html": "<p>my answer</p>",
            "doejohn_LATE_4825_link.html": "<a href='https://colab.example/x'>colab</a>",
            "leeanna_4826_text.html": "<p>also attached</p>",
            "leeanna_4826_99020_optimizers.py": CODE,  # a file beside the text: the file is graded
            "anon_k3Lq9_99021_optimizers.py": CODE,
            "LATE_anon_Zp0x2_99022_optimizers.py": CODE,
            "anon_Qq7aa_text.html": "<p>text</p>",
        },
    )
    entries = discover_unchanged(root)
    text = "submitted a text entry on Canvas, not a file: ask for the .py or .ipynb as a file upload"
    assert table(entries, root) == {
        "4822": ("王小明", "王小明_4822_99018_optimizers.py", None, "canvas"),
        "anon_Qq7aa": ("anon_Qq7aa", None, text, "canvas"),
        "anon_Zp0x2": ("anon_Zp0x2", "LATE_anon_Zp0x2_99022_optimizers.py", None, "canvas"),
        "anon_k3Lq9": ("anon_k3Lq9", "anon_k3Lq9_99021_optimizers.py", None, "canvas"),
        "doejohn_4825": ("doejohn", None, text.replace("a text entry", "a website URL"), "canvas"),
        "leeanna_4826": ("leeanna", "leeanna_4826_99020_optimizers.py", None, "canvas"),
        "mullerjose_4821": ("müllerjosé", "müllerjosé_4821_99017_optimizers.py", None, "canvas"),
        "berg_4823": ("øberg", "øberg_LATE_4823_99019_optimizers-1.ipynb", None, "canvas"),
        "smithjane_4824": ("smithjane", None, text, "canvas"),
    }
    ids = {entry.student: entry.lms_id for entry in entries}
    assert ids["mullerjose_4821"] == "4821" and ids["4822"] == "4822" and ids["anon_k3Lq9"] == "anon_k3Lq9"


MOODLE_WORKSHEET = (
    "\ufeffIdentifier,Full name,Email address,Status,Group,Grade,Maximum Grade,Grade can be changed,"
    "Last modified (grade)\n"
    "Participant 104233,Jane Smith,j@example.edu,Submitted,,,100.00,Yes,-\n"
    "Participant 104235,Ann Lee,a@example.edu,Submitted,Team Rocket,,100.00,Yes,-\n"
    "Participant 104236,Bo Chen,b@example.edu,Submitted,Team Rocket,,100.00,Yes,-\n"
    "Participant 77,Team Rocket,t@example.edu,Submitted,,,100.00,Yes,-\n"  # a person named like the group
)


@pytest.mark.parametrize("with_worksheet", [True, False])
def test_moodle_group_submissions_read_as_groups_when_the_worksheet_says_so(tmp_path, with_worksheet):
    """Is `{group}_{groupid}` a group with its members when the worksheet is in the folder, a participant if not?"""
    files = {
        "Jane Smith_104233_assignsubmission_file/optimizers.py": CODE,
        "Team Rocket_12_assignsubmission_file/optimizers.py": CODE,
        "Team Rocket_77_assignsubmission_file/optimizers.py": CODE,  # participant 77, who is named Team Rocket
    }
    if with_worksheet:
        files["Grades-OPT101-Optimizers-42.csv"] = MOODLE_WORKSHEET
        files["class-list.csv"] = "name,email\nJane,j@example.edu\n"  # another CSV: not a worksheet, ignored
    entries = {entry.student: entry for entry in discover_unchanged(build(tmp_path / "moodle", files))}
    assert set(entries) == {"jane_smith_104233", "team_rocket_12", "team_rocket_77"}
    group = entries["team_rocket_12"]
    assert group.group is with_worksheet and entries["team_rocket_77"].group is False
    assert not entries["jane_smith_104233"].group and entries["jane_smith_104233"].lms_id == "104233"
    if with_worksheet:
        assert [(member.name, member.id) for member in group.members] == [("Ann Lee", "104235"), ("Bo Chen", "104236")]


def test_gradescope_submitters_are_members(tmp_path):
    root = build(
        tmp_path / "gradescope",
        {
            "submission_metadata.yml": GRADESCOPE_METADATA,
            "submission_101/optimizers.py": CODE,
            "submission_102/optimizers.ipynb": NOTEBOOK,
        },
    )
    entries = {entry.student: entry for entry in discover_unchanged(root)}
    pair = entries["20231190"]
    assert pair.group and [(m.name, m.id, m.email) for m in pair.members] == [
        ("Bob Lee", "20231190", "bob.lee@example.edu"),
        ("Ana Ruiz", "20231191", "ana.ruiz@example.edu"),
    ]
    assert not entries["20231187"].group and entries["20231187"].lms_id == "submission_101"


def test_a_group_gives_each_member_a_row_with_a_unique_id():
    """Members get their own ids in the class outputs; one already taken gets a number."""
    group = {
        "score": 3,
        "extra_data": {
            "group": True,
            "members": [
                {"name": "Bob Lee", "id": "20231190", "email": ""},
                {"name": "Ana Ruiz", "id": "", "email": "ana@x.edu"},
                {"name": "Cy", "id": "20231187", "email": ""},
            ],
        },
    }
    alone = {"score": 5, "extra_data": {}}
    rows = expand([("20231187", "Jane", alone), ("20231190", "Bob Lee, Ana Ruiz, Cy", group)])
    assert [(student, name, result["score"]) for student, name, result in rows] == [
        ("20231187", "Jane", 5),
        ("20231190", "Bob Lee", 3),
        ("ana", "Ana Ruiz", 3),
        ("20231187-2", "Cy", 3),
    ]


def test_an_archive_or_an_empty_folder_says_what_was_expected(tmp_path):
    archive = tmp_path / "OPT101-Optimizers submissions.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    assert "is an archive, not a folder: extract it first (e.g. `unzip" in not_a_folder(archive)
    holder = build(tmp_path / "holder", {"export.zip": "x", ".DS_Store": ""})
    assert discover(holder) == []
    assert "holds only export.zip, no submissions: extract it first" in nothing_found(holder)
    empty = build(tmp_path / "empty", {"e/": ""})
    (empty / "e").rmdir()
    assert nothing_found(empty).endswith(
        "is empty: expected .py or .ipynb files, a folder per student, or an "
        "extracted Canvas, Moodle or Gradescope export (submission_metadata.yml "
        "and submission_<id>/ folders)"
    )
    notes = build(tmp_path / "notes", {"README.md": "x", "grades.csv": "a,b\n"})
    assert "holds no submissions (only README.md, grades.csv)" in nothing_found(notes)


# ---------------------------------------------- what an attacker who read discovery found (issue 19)


def test_a_students_uploaded_csv_is_never_the_worksheet(tmp_path):
    """In a Moodle download without folders a student's own CSV lies beside the worksheet: its Group column
    must not make a classmate's submission a group of the student's choosing."""
    hostile = "Identifier,Full name,Grade,Last modified (grade),Group\nParticipant 300,Mallory Friend,,,Jane Smith\n"
    entries = {
        entry.student: entry
        for entry in discover_unchanged(
            build(
                tmp_path / "moodle",
                {
                    "Jane Smith_101_assignsubmission_file_optimizers.py": CODE,
                    "Mallory Evil_200_assignsubmission_file_optimizers.py": CODE,
                    "Mallory Evil_200_assignsubmission_file_w.csv": hostile,
                },
            )
        )
    }
    assert not entries["jane_smith_101"].group and entries["jane_smith_101"].lms_id == "101"


def test_an_upload_name_cannot_choose_the_participant(tmp_path):
    """`x_101_assignsubmission_file_a.py` uploaded by participant 200 stays participant 200's."""
    entries = discover_unchanged(
        build(
            tmp_path / "moodle",
            {
                "Jane Smith_101_assignsubmission_file_optimizers.py": CODE,
                "Mallory Evil_200_assignsubmission_file_y_101_assignsubmission_file_optimizers.py": CODE,
            },
        )
    )
    owners = {entry.lms_id: entry for entry in entries}
    assert set(owners) == {"101", "200"} and owners["101"].path.name.startswith("Jane Smith_101_")
    assert owners["101"].error is None and owners["200"].name == "Mallory Evil"


def test_a_huge_group_or_an_expanding_id_costs_little(tmp_path):
    """20,000 colliding members (numbered in linear time, at most 50 kept) and an id of 2 million U+FDFA
    (which NFKD makes 36 million characters)."""
    group = {"score": 1, "extra_data": {"group": True, "members": [{}] * 20_000}}
    rows = expand([("alice", "Alice", {"score": 2, "extra_data": {}}), ("member", "many", group)])
    assert len(rows) == 1 + MAX_GROUP and len({student.casefold() for student, _, _ in rows}) == len(rows)
    assert len(safe_id("\ufdfa" * 2_000_000)) <= MAX_ID_LENGTH
    root = build(
        tmp_path / "gradescope",
        {
            "submission_metadata.yml": "submission_1:\n  :submitters:\n" + "  - {}\n" * 2_000,
            "submission_1/optimizers.py": CODE,
        },
    )
    (entry,) = discover_unchanged(root)
    assert len(entry.members) == MAX_GROUP


def test_a_member_never_takes_another_groups_result_name():
    """Group 1's entry is `bob` (its first submitter's e-mail); group 2's bob@gmail is another person."""
    first = {
        "score": 5,
        "extra_data": {"group": True, "members": [{"name": "Bob", "email": "bob@x.edu"}, {"name": "Al", "id": "7"}]},
    }
    second = {
        "score": 0,
        "extra_data": {
            "group": True,
            "members": [{"name": "Cy", "id": "9"}, {"name": "Bob G", "email": "bob@gmail.com"}],
        },
    }
    rows = {name: student for student, name, _ in expand([("bob", "Bob, Al", first), ("9", "Cy, Bob G", second)])}
    assert rows["Bob"] == "bob" and rows["Bob G"] == "bob-2" and rows["Cy"] == "9"
