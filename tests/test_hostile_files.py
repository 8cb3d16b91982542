"""Files that are not what their names say, metadata built to explode, and who may read what is written.

A student's "optimizers.py" can be a named pipe (reading it blocks forever), a device (`/dev/zero` is
endless; some devices act when opened), a socket, or 5 GB of zeros; an extracted tar reproduces all of
them. Each must cost that student an error verdict with a reason, never hang or crash the run, and
change nothing for a classmate. A Gradescope export's YAML can hold aliases that expand to gigabytes.
The solution, the results and the scores are readable by the grading user only. And a grader started
from inside a folder of student files imports none of them.
"""

import csv
import json
import os
import resource
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from grading_support import ROOT, rubric_for, solution_source

from grader import grading
from grader.assignment import write_assignments
from grader.explain.mistakes import find, mutate
from grader.inputs.discover import MAX_METADATA_BYTES, DiscoveryError, discover
from grader.inputs.discover import gradescope as gradescope_module
from grader.inputs.regular_files import UnreadableFile, read_regular
from grader.inputs.submission import MAX_BYTES
from grader.judge import rubric

FULL_MARKS = rubric.load().max_score  # the shipped rubric's total

BATCH_TIMEOUT = 900  # far above a normal run; a run that waits on a pipe never ends on its own


def make_fifo(path):
    os.mkfifo(path)


def make_device(path):
    """A character device with /dev/zero's numbers: reading it never ends. Needs root (CAP_MKNOD)."""
    try:
        os.mknod(path, 0o644 | stat.S_IFCHR, os.makedev(1, 5))
    except PermissionError as error:
        pytest.skip(f"cannot make a device node here (needs root / CAP_MKNOD): {error}")


def make_socket(path):
    """A bound Unix socket; bound through a relative name, since a socket's path is limited to 107 bytes."""
    where = os.getcwd()
    os.chdir(path.parent)
    try:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(path.name)
        server.close()  # the file stays: a socket nobody listens on
    finally:
        os.chdir(where)


def make_huge(path):
    """A regular file one byte over the limit (sparse: it takes no disk)."""
    with open(path, "wb") as file:
        file.truncate(MAX_BYTES + 1)


HOSTILE = {  # name: (how it is made, what its error says)
    "fifo": (make_fifo, "named pipe (FIFO), not a regular file"),
    "device": (make_device, "character device, not a regular file"),
    "sock": (make_socket, "socket, not a regular file"),
    "huge": (make_huge, f"{MAX_BYTES + 1} bytes, over the {MAX_BYTES}-byte limit"),
}


def plant(folder, kind):
    """folder/<kind>.py and folder/<kind>_dir/optimizers.py, both hostile; returns the student ids."""
    make, _ = HOSTILE[kind]
    make(folder / f"{kind}.py")
    (folder / f"{kind}_dir").mkdir()
    make(folder / f"{kind}_dir" / "optimizers.py")
    return [kind, f"{kind}_dir"]


def state(folder):
    """Each path below `folder` with its type and, for a regular file, its bytes (nothing else is opened)."""
    found = {}
    for path in sorted(folder.rglob("*")):
        info = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_BYTES else info.st_size
        found[str(path.relative_to(folder))] = (stat.S_IFMT(info.st_mode), content)
    return found


# --- reading one file ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_only_a_regular_file_within_the_limit_is_read(tmp_path, kind):
    make, message = HOSTILE[kind]
    path = tmp_path / "optimizers.py"
    make(path)
    with pytest.raises(UnreadableFile, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_regular(path, MAX_BYTES)


def test_a_link_is_not_followed(tmp_path):
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "optimizers.py").symlink_to(tmp_path / "real.py")
    with pytest.raises(UnreadableFile, match="symbolic link"):
        read_regular(tmp_path / "optimizers.py", MAX_BYTES)


def test_no_more_than_the_limit_is_read_whatever_the_size_said():
    """A file whose size says 0 but which holds more (as /proc files do, or a file that grows while it is
    read) is read only up to the limit, then refused."""
    path = Path("/proc/self/status")
    if not path.exists() or path.lstat().st_size != 0:
        pytest.skip("needs Linux's /proc, whose files report size 0")
    assert len(read_regular(path, 100_000)) > 10
    with pytest.raises(UnreadableFile, match="over the 10-byte limit"):
        read_regular(path, 10)


@pytest.mark.attacks
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_grading_a_hostile_file_is_an_error_verdict(tmp_path, zygote, kind):
    """What `check` and the batch lanes do: a verdict that says why, for every part, and no exception."""
    make, message = HOSTILE[kind]
    make(tmp_path / "optimizers.py")
    for given in (tmp_path / "optimizers.py", tmp_path):  # the file, or the folder that holds it
        report = grading.grade(given, zygote=zygote, rubric=rubric_for("adam"))
        assert report.status == "error" and report.score == 0
        assert message in report.output and all(message in test.output for test in report.tests)


@pytest.mark.attacks
def test_check_on_a_pipe_ends_with_a_clear_error(tmp_path):
    """`check` on a named pipe: before, it waited forever for a writer."""
    make_fifo(tmp_path / "student.py")
    result = subprocess.run(
        [sys.executable, "-m", "grader", "check", str(tmp_path / "student.py")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=BATCH_TIMEOUT,
    )
    assert result.returncode in (1, 2)
    assert "named pipe (FIFO), not a regular file" in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


# --- discovery ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_discovery_names_the_hostile_file_and_never_opens_it(tmp_path, kind):
    root = tmp_path / "class"
    root.mkdir()
    (root / "alice.py").write_text("x = 1\n")
    planted = plant(root, kind)
    before = state(root)
    entries = {entry.student: entry for entry in discover(root)}
    assert state(root) == before
    assert entries["alice"].path == root / "alice.py" and entries["alice"].error is None
    _, message = HOSTILE[kind]
    for student in planted:
        assert entries[student].path is None and message in entries[student].error


def gradescope(root, metadata):
    (root / "submission_1").mkdir(parents=True)
    (root / "submission_1" / "optimizers.py").write_text("x = 1\n")
    (root / "submission_metadata.yml").write_text(metadata)
    return root


def billion_laughs(levels=9):
    """Ten aliases per level: `levels` lines stand for 10**levels strings."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels + 1)]
    lines += ["submission_1:", "  :submitters:", f"  - :name: *l{levels}", "    :sid: '20231187'"]
    return "\n".join(lines) + "\n"


def _discover_bounded(root, memory=1 << 30):
    """discover(root) in a child process limited to `memory` bytes: a regression costs a MemoryError
    there, not the machine. Returns what the child printed."""
    code = (
        "import sys\nfrom grader.inputs.discover import DiscoveryError, discover\n"
        "try:\n    print(discover(sys.argv[1]))\nexcept DiscoveryError as error:\n    print('DiscoveryError:', error)\n"
    )

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    result = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=limit,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path):
    root = gradescope(tmp_path / "export", billion_laughs())
    assert (root / "submission_metadata.yml").stat().st_size < 1000
    printed = _discover_bounded(root)
    assert printed.startswith("DiscoveryError:") and "alias" in printed and "submission_metadata.yml" in printed


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
@pytest.mark.parametrize(
    "metadata, problem",
    [
        (billion_laughs(2), "found an alias"),
        (
            "base: &base {':sid': '1'}\nsubmission_1:\n  :submitters:\n  - <<: *base\n    :name: Merged\n",
            "found an alias",
        ),
        ("submission_1: " + "[" * 200 + "]" * 200 + "\n", "nesting"),
        ("submission_1:\n  :submitters:\n  - :name: Big\n    :sid: " + "9" * 5000 + "\n", "digits"),
        ("".join(f"submission_{i}: x\n" for i in range(20_001)), "more than the 20000 submissions"),
    ],
    ids=["aliases", "merge-key", "deep", "huge-int", "too-many"],
)
def test_metadata_beyond_its_bounds_is_a_clear_discovery_error(tmp_path, monkeypatch, libyaml, metadata, problem):
    gradescope_module._metadata_loader.cache_clear()
    if not libyaml:
        monkeypatch.setitem(sys.modules, "yaml.cyaml", None)  # as if PyYAML had been built without libyaml
    try:
        root = gradescope(tmp_path / "export", metadata)
        with pytest.raises(DiscoveryError, match=problem) as caught:
            discover(root)
        assert "submission_metadata.yml" in str(caught.value)
    finally:
        gradescope_module._metadata_loader.cache_clear()


def test_metadata_of_countless_tiny_values_is_refused(tmp_path, monkeypatch):
    """`[a,a,a,...]`: two bytes of file per value, hundreds of bytes of memory per value once parsed."""
    monkeypatch.setattr(gradescope_module, "MAX_METADATA_VALUES", 100)  # the real bound takes seconds to reach
    root = gradescope(tmp_path / "export", "submission_1: [" + "a," * 150 + "a]\n")
    with pytest.raises(DiscoveryError, match="more than 100 values"):
        discover(root)
    (root / "submission_metadata.yml").write_text("submission_1: [" + "a," * 50 + "a]\n")
    assert [entry.student for entry in discover(root)] == ["submission_1"]


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_a_real_export_still_reads_with_either_parser(tmp_path, monkeypatch, libyaml):
    """Gradescope's own shape, anchors-free as Psych writes it, with a history entry and a Ruby tag."""
    gradescope_module._metadata_loader.cache_clear()
    if not libyaml:
        monkeypatch.setitem(sys.modules, "yaml.cyaml", None)
    metadata = """---
submission_1:
  :submitters:
  - :name: Jane Smith
    :sid: '06758767'
    :email: jane@example.edu
  - :name: Bob Lee
    :sid: 06754968
    :email: bob@example.edu
  :created_at: 2023-12-02 02:52:07.938335000 Z
  :score: !ruby/object:BigDecimal 18:0.1e2
  :status: processed
  :results:
    score: 0.0
    tests: []
    extra_data:
  :history:
  - :submitters: []
    :created_at: 2023-12-01 06:59:12.419858000 Z
    :id: 216688425
"""
    try:
        (entry,) = discover(gradescope(tmp_path / "export", metadata))
    finally:
        gradescope_module._metadata_loader.cache_clear()
    assert (entry.student, entry.name, entry.error) == ("06758767", "Jane Smith, Bob Lee", None)


@pytest.mark.parametrize("make", [make_fifo, make_socket, "link", "huge"], ids=["fifo", "socket", "link", "huge"])
def test_metadata_that_is_not_a_small_regular_file_is_refused_unread(tmp_path, make):
    root = gradescope(tmp_path / "export", "")
    metadata = root / "submission_metadata.yml"
    metadata.unlink()
    if make == "link":
        (tmp_path / "elsewhere.yml").write_text("submission_1: {}\n")
        metadata.symlink_to(tmp_path / "elsewhere.yml")
    elif make == "huge":
        with open(metadata, "wb") as file:
            file.truncate(MAX_METADATA_BYTES + 1)
    else:
        make(metadata)
    with pytest.raises(DiscoveryError, match=r"not a regular file|over the") as caught:
        discover(root)
    assert "submission_metadata.yml" in str(caught.value)


@pytest.mark.attacks
def test_the_batch_says_what_is_wrong_with_the_metadata(tmp_path):
    """The command line on an alias bomb: exit 2, one line naming the file, no traceback."""
    root = gradescope(tmp_path / "export", billion_laughs())

    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    result = subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(root), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        preexec_fn=limit,
        timeout=300,
    )
    assert result.returncode == 2
    assert "submission_metadata.yml" in result.stderr and "alias" in result.stderr
    assert "Traceback" not in result.stderr


# --- a class with hostile files -----------------------------------------------------------------------


def _batch(submissions, out):
    return subprocess.run(
        [sys.executable, "-m", "grader", "batch", str(submissions), "--out", str(out), "--jobs", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=BATCH_TIMEOUT,
    )


def _honest(folder):
    folder.mkdir()
    source = solution_source()
    (folder / "alice.py").write_text(source)
    (folder / "bob.py").write_text(mutate(source, find("adam", "no_bias_correction")))


def _verdicts(result):
    return (
        result["score"],
        [(test["name"], test["score"], test["status"], test["output"]) for test in result["tests"]],
    )


@pytest.fixture(scope="module")
def hostile_class(tmp_path_factory):
    """The same two honest students graded alone, and beside every kind of hostile file."""
    base = tmp_path_factory.mktemp("hostile")
    _honest(base / "clean")
    clean = _batch(base / "clean", base / "clean-out")
    _honest(base / "class")
    planted = {}
    for kind in HOSTILE:
        try:
            planted[kind] = plant(base / "class", kind)
        except pytest.skip.Exception as skipped:
            planted[kind] = str(skipped)
    before = state(base / "class")
    # An OUT that exists, shared (0755), with a results/ folder of an older run: files must still be private.
    (base / "out" / "results").mkdir(parents=True)
    (base / "out").chmod(0o755)
    (base / "out" / "results").chmod(0o755)
    graded = _batch(base / "class", base / "out")
    return base, clean, graded, planted, before


@pytest.mark.attacks
def test_a_hostile_file_costs_its_student_an_error_and_no_one_else_anything(hostile_class):
    base, clean, graded, planted, before = hostile_class
    assert clean.returncode == 0, clean.stderr[-3000:]
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert "Traceback" not in graded.stderr
    scores = {row["student"]: row for row in csv.DictReader((base / "out" / "scores.csv").open())}
    for kind, students in planted.items():
        if isinstance(students, str):
            continue  # could not be made here (the reason is in the skip of the test below)
        _, message = HOSTILE[kind]
        for student in students:
            result = json.loads((base / "out" / "results" / f"{student}.json").read_text())
            assert scores[student]["status"] == "error" and result["score"] == 0
            assert message in result["output"]
    for student in ("alice", "bob"):
        alone = json.loads((base / "clean-out" / "results" / f"{student}.json").read_text())
        beside = json.loads((base / "out" / "results" / f"{student}.json").read_text())
        assert _verdicts(beside) == _verdicts(alone)
    assert scores["alice"]["total"] == f"{FULL_MARKS:g}" and scores["bob"]["status"] == "graded"
    assert state(base / "class") == before  # nothing in the input folder changed, nothing was consumed


@pytest.mark.attacks
def test_every_kind_of_hostile_file_was_planted(hostile_class):
    _, _, _, planted, _ = hostile_class
    missing = {kind: reason for kind, reason in planted.items() if isinstance(reason, str)}
    if missing:
        pytest.skip(f"not made here: {missing}")


@pytest.mark.attacks
def test_a_rerun_beside_hostile_files_finishes_and_changes_nothing(hostile_class):
    base, _, _, planted, _ = hostile_class
    before = {path.name: path.read_bytes() for path in (base / "out" / "results").iterdir()}
    again = _batch(base / "class", base / "out")
    assert again.returncode == 0, again.stderr[-3000:]
    students = 2 + sum(len(value) for value in planted.values() if not isinstance(value, str))
    assert f"{students} of {students} already graded" in again.stderr
    assert {path.name: path.read_bytes() for path in (base / "out" / "results").iterdir()} == before


@pytest.mark.attacks
def test_what_the_batch_writes_is_private(hostile_class):
    base, _, _, _, _ = hostile_class
    assert stat.S_IMODE((base / "clean-out").stat().st_mode) == 0o700  # made by the batch
    assert stat.S_IMODE((base / "out").stat().st_mode) == 0o755  # the user's own folder keeps its mode
    for out in (base / "clean-out", base / "out"):
        assert stat.S_IMODE((out / "results").stat().st_mode) == 0o700
        files = [path for path in out.rglob("*") if path.is_file()]
        assert len(files) > 5
        assert {str(path.relative_to(out)): stat.S_IMODE(path.stat().st_mode) for path in files} == {
            str(path.relative_to(out)): 0o600 for path in files
        }


# --- the solution -------------------------------------------------------------------------------------


@pytest.mark.attacks
def test_the_solution_is_private_whatever_the_umask(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    old = os.umask(0)  # the most permissive a user can have
    try:
        new = write_assignments(tmp_path / "new" / "solutions", solution=True)
        existing = write_assignments(shared, solution=True)
        stub = write_assignments(tmp_path / "stub")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new" / "solutions").stat().st_mode) == 0o700
    assert stat.S_IMODE(shared.stat().st_mode) == 0o777  # a folder that exists keeps its mode
    assert [stat.S_IMODE(path.stat().st_mode) for path in new + existing] == [0o600] * 4
    assert all(stat.S_IMODE(path.stat().st_mode) == 0o666 for path in stub)  # what students receive: as usual
    assert new[0].read_text() == existing[0].read_text() != stub[0].read_text()


# --- the current folder -------------------------------------------------------------------------------

PLANTED_MODULES = ("json", "numpy", "torch", "hypothesis", "random", "yaml", "nbformat", "subprocess")


def _plant_modules(folder, marker):
    for name in PLANTED_MODULES:
        (folder / f"{name}.py").write_text(
            f"open({str(marker / name)!r}, 'w').close()\nraise ImportError('the student\\'s own {name}.py')\n"
        )


@pytest.mark.attacks
def test_python_m_grader_imports_nothing_from_the_folder_it_is_started_in(tmp_path):
    folder, marker = tmp_path / "student", tmp_path / "imported"
    folder.mkdir()
    marker.mkdir()
    _plant_modules(folder, marker)
    (folder / "student.py").write_text(solution_source())
    result = subprocess.run(
        [sys.executable, "-m", "grader", "check", "student.py"],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=BATCH_TIMEOUT,
    )
    assert sorted(path.name for path in marker.iterdir()) == []
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{FULL_MARKS:g} / {FULL_MARKS:g} points" in result.stdout


@pytest.mark.attacks
def test_the_console_script_imports_nothing_from_the_current_folder(tmp_path):
    """`optimkit` never has the current folder on sys.path: not even a `grader/` there is imported,
    which `python -m grader` cannot avoid (Python finds the package itself there)."""
    script = Path(sys.executable).parent / "optimkit"
    if not script.exists():
        pytest.skip(f"the console script is not installed next to {sys.executable}")
    folder, marker = tmp_path / "student", tmp_path / "imported"
    folder.mkdir()
    marker.mkdir()
    _plant_modules(folder, marker)
    (folder / "grader").mkdir()
    (folder / "grader" / "__init__.py").write_text(f"open({str(marker / 'grader')!r}, 'w').close()\n")
    (folder / "student.py").write_text(solution_source())
    result = subprocess.run(
        [str(script), "check", "student.py"],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=BATCH_TIMEOUT,
    )
    assert sorted(path.name for path in marker.iterdir()) == []
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"{FULL_MARKS:g} / {FULL_MARKS:g} points" in result.stdout
