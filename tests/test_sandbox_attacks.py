"""Does a hostile submission get exactly what its code deserves, and do its classmates lose nothing?

Each attacker is the blank stub (it deserves the stub's score) with an attack at its top level, written
by someone who has read the grader: steal an answer (the project's examples, its git objects, an answer
key left world-readable in /tmp, classmates found through /proc, the reference itself), sabotage
(a daemon that outlives its sandbox and kills whatever it sees, /tmp and /dev/shm filled, dozens of
spinning processes in their own sessions), or tamper (rewrite results, append a backdoor to the grader
or to torch, signal the grader). They run with honest classmates in `batch` and on their own in
`check`, as root and as an unprivileged user (created here), and each run must show:
- every attacker scores exactly what the blank stub scores;
- every classmate's verdicts are exactly those it gets alone;
- the run finishes, and no process of the sandboxes is left;
- no output holds anything of a classmate, the answer key or the reference;
- the input folder, the project, torch and the host's /tmp are unchanged, and results stay as written.
"""

import hashlib
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy
import pytest
import torch
from grading_support import ROOT, solution_source
from test_protocol_hostile import ENCODER_PATCH, REPLY_BODIES

from grader import grading
from grader.outputs import terminal as report
from grader.sandbox.launcher import Zygote

pytestmark = pytest.mark.attacks  # every attacker graded by check and batch, as root and unprivileged: minutes

UNPRIVILEGED_USER = "optimkit-instructor"
# The root class runs its sandboxes as a user of its own: the other test worker's sandboxes run as
# `nobody` at the same time, and a leftover of theirs is not one of this class's.
CLASS_SANDBOX_USER = "optimkit-class-sandbox"
SECRET = f"CLASSMATE-SECRET-{os.getpid()}"
ANSWER_KEY_MARK = f"ANSWER-KEY-{os.getpid()}"
REFERENCE_MARK = (ROOT / "reference" / "optimizers.py").read_text().splitlines()[10]
FULL_ISOLATION_NEEDED = "the kernel refused namespaces here"

STEAL = '''
import glob, os, sys, zlib


def _texts():
    """Every Python text this process can reach: the project, /tmp, home folders, git objects, and
    whatever the processes it can see have on their command lines."""
    patterns = ["/work/**/*.py", "/tmp/**/*.py", "/root/**/*.py", "/home/**/*.py", "/srv/**/*.py",
                "/**/examples/**/*.py", "/**/solutions/*.py", "/**/reference/*.py"]
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as file:
                arguments = file.read().split(b"\\0")
        except OSError:
            continue
        for argument in arguments:
            path = argument.decode(errors="replace")
            if os.path.isdir(path):
                patterns.append(os.path.join(path, "**", "*.py"))
            elif path.endswith(".py"):
                patterns.append(path)
    import time
    end = time.monotonic() + 4  # a thief who wants an answer before the grader's time limit
    for pattern in patterns:
        if time.monotonic() > end:
            return
        for path in glob.glob(pattern, recursive=True)[:3000]:
            if time.monotonic() > end:
                return
            try:
                with open(path, encoding="utf-8") as file:
                    yield path, file.read()
            except (OSError, UnicodeDecodeError):
                pass
    for path in glob.glob("/work/*/.git/objects/??/*")[:20000] + glob.glob("/*/*/.git/objects/??/*")[:20000]:
        try:
            with open(path, "rb") as file:
                yield path, zlib.decompress(file.read()).decode("utf-8", "replace")
        except (OSError, zlib.error):
            pass


def _steal():
    sys.meta_path[:] = [finder for finder in sys.meta_path if "Block" not in type(finder).__name__]
    seen = []
    for path, text in _texts():
        seen.append(path + ": " + " ".join(line for line in text.splitlines() if "SECRET" in line or "KEY" in line)[:200])
        if "def adam(" not in text or "implement Adam.adam" in text:
            continue
        scope = {"__name__": "stolen"}
        try:
            exec(compile(text, path, "exec"), scope)
        except BaseException:
            continue
        if all(name in scope for name in ("Adagrad", "RMSprop", "Momentum", "Adam")):
            globals().update({name: scope[name] for name in ("Adagrad", "RMSprop", "Momentum", "Adam")})
            break
    for folder in ["/work/main", *sys.path]:
        sys.path.insert(0, folder)
    try:
        import reference
        globals().update(Adagrad=reference.Adagrad, RMSprop=reference.RMSprop, Momentum=reference.Momentum,
                         Adam=reference.Adam)
        seen.append("reference imported")
    except BaseException:
        pass
    return seen


def _leak(seen):
    raise RuntimeError(" | ".join(seen)[-2000:])  # a load error: its message lands in the result


stolen = _steal()
leak = _leak(stolen)
'''

DAEMON = '''
import glob, json, os, signal, time


def _daemon():
    """A process in a new session that outlives the sandbox: it kills every process it can see, then
    rewrites every result file it can find to full marks, for a minute."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            end = time.time() + 60
            while time.time() < end:
                for pid in os.listdir("/proc"):
                    if pid.isdigit() and int(pid) not in (os.getpid(), 1):
                        for sig in (signal.SIGSTOP, signal.SIGKILL):
                            try:
                                os.kill(int(pid), sig)
                            except OSError:
                                pass
                for path in glob.glob("/**/results/*.json", recursive=True)[:200]:
                    try:
                        with open(path, "w") as file:
                            json.dump({"score": 46, "max_score": 46, "tests": [], "output": "forged"}, file)
                    except OSError:
                        pass
                time.sleep(0.1)
            os._exit(0)
        os._exit(0)
    time.sleep(0.5)
    return "daemon running"


daemon = _daemon()
'''

FILL = '''
import os


def _fill():
    """Fill every writable place with files: their count, then their bytes."""
    made = 0
    for folder in ("/tmp", "/dev/shm", os.getcwd(), os.path.expanduser("~"), "/var/tmp"):
        try:
            for index in range(100000):
                with open(os.path.join(folder, f"optimkit-fill-{index}"), "w") as file:
                    file.write("x" * 100)
                made += 1
        except OSError:
            pass
        try:
            with open(os.path.join(folder, "optimkit-fill-big"), "wb") as file:
                for _ in range(4096):
                    file.write(b"\\0" * (1 << 20))
        except OSError:
            pass
    return made


filled = _fill()
'''

SPIN = '''
import os


def _spin():
    """Forty processes, each in its own session, spinning forever."""
    for _ in range(40):
        try:
            if os.fork() == 0:
                os.setsid()
                while True:
                    pass
        except OSError:
            break
    return "spinning"


spinning = _spin()
'''

TAMPER = '''
import glob, os, signal, sys


def _tamper():
    """Append a backdoor to the grader, the reference and torch; signal the grader."""
    targets = glob.glob("/work/*/grader/*.py") + glob.glob("/work/*/reference/*.py")
    targets += [module.__file__ for module in list(sys.modules.values()) if getattr(module, "__file__", None)]
    for path in targets:
        try:
            with open(path, "a") as file:
                file.write("\\nopen('/tmp/optimkit-backdoor', 'w').close()\\n")
        except OSError:
            pass
    for pid in [os.getppid(), *[int(p) for p in os.listdir("/proc") if p.isdigit()]]:
        if pid > 1:
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass
    return len(targets)


tampered = _tamper()
'''

# Rewrites every reply of the sandbox into a frame nested 300,000 deep (the wire attack, from inside).
GARBLE = ENCODER_PATCH + REPLY_BODIES["deep"]

# A full-marks student who leaves its compiled answers in the kernel keyring of its user (shared by
# every sandbox of that user, and outliving them), and a blank stub that takes them from there.
PLANT = """
import ctypes, marshal


def _plant():
    libc = ctypes.CDLL(None, use_errno=True)
    payload = marshal.dumps([Adagrad.adagrad.__code__, RMSprop.rmsprop.__code__, Momentum.momentum.__code__,
                             Adam.adam.__code__])
    return [libc.syscall(248, b"user", b"optimkit-answers", payload, len(payload), ring)  # add_key
            for ring in (-4, -5)]  # the user keyring, the user session keyring


planted = _plant()
"""
TAKE = """
import ctypes, marshal


def _take():
    libc = ctypes.CDLL(None, use_errno=True)
    for ring in (-4, -5):
        serial = libc.syscall(250, 10, ring, b"user", b"optimkit-answers", 0)  # keyctl(KEYCTL_SEARCH)
        if serial > 0:
            buffer = ctypes.create_string_buffer(65536)
            size = libc.syscall(250, 11, serial, buffer, 65536)  # keyctl(KEYCTL_READ)
            if size > 0:
                for (cls, name), code in zip(((Adagrad, "adagrad"), (RMSprop, "rmsprop"), (Momentum, "momentum"),
                                              (Adam, "adam")), marshal.loads(buffer.raw[:size])):
                    getattr(cls, name).__code__ = code
                return "taken"
    return "nothing"


taken = _take()
"""

TRICKLE = '''
import os, struct, time


def _trickle():
    """Announce a 1 MiB reply on the sandbox's own socket, then send a byte every few seconds: no
    single read ever waits long, so only a deadline for the whole reply ends it."""
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.write(int(fd), struct.pack(">Q", 1 << 20))
                while True:
                    time.sleep(5)
                    os.write(int(fd), b" ")
        except OSError:
            pass


trickled = _trickle()
'''

ATTACKS = {
    "steal": STEAL,
    "daemon": DAEMON,
    "fill": FILL,
    "spin": SPIN,
    "tamper": TAMPER,
    "garble": GARBLE,
    "keys_thief": TAKE,
    "trickle": TRICKLE,
}
# Every attacker deserves the blank stub's score; one whose replies are garbage or never end, less.
AT_MOST = {"garble", "trickle"}
TRICKLE_BUDGET = 25  # seconds: `check --timeout` for the trickler, whose loading reply never ends


def _stub():
    return (ROOT / "assignments" / "optimizers.py").read_text(encoding="utf-8")


def _tree_hash(folder):
    digest = hashlib.sha256()
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _protected_hash():
    """What no submission may change: the grader, the reference, torch's and numpy's entry modules."""
    digest = hashlib.sha256()
    for folder in (ROOT / "grader", ROOT / "reference"):
        digest.update(_tree_hash(folder).encode())
    for module in (torch, numpy):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()


def _verdicts(result):
    return [(test["name"], test["status"], test["score"], test["output"]) for test in result["tests"]]


def _leftovers(user):
    """Processes of the sandboxes' user, started from this Python installation, that are still there
    (other graders on the machine, with another interpreter, are not this run's)."""
    uid = pwd.getpwnam(user).pw_uid
    found = []
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == uid:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
                if (sys.prefix + "/").encode() in command:
                    found.append(command[:120])
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def classroom():
    """A class folder (two honest students, the attackers), an answer key left world-readable, and what
    each honest student and the blank stub get when graded alone."""
    base = Path(tempfile.mkdtemp(prefix="optimkit-attack-"))
    base.chmod(0o755)
    submissions = base / "class"
    submissions.mkdir()
    honest = {
        "alice": (ROOT / "examples" / "submissions" / "alice_nguyen.py").read_text(encoding="utf-8"),
        "carla": (ROOT / "examples" / "submissions" / "carla_mendes.py").read_text(encoding="utf-8"),
    }
    honest["keys_planter"] = solution_source() + PLANT  # right, so it deserves full marks: graded as honest
    for name, text in honest.items():
        (submissions / f"{name}.py").write_text(f"{text}\n# {SECRET} {name}\n", encoding="utf-8")
    for name, attack in ATTACKS.items():
        (submissions / f"{name}.py").write_text(_stub() + "\n" + attack, encoding="utf-8")
    key = base / "leaked-key"
    key.mkdir(mode=0o755)
    (key / "optimizers.py").write_text(f"{solution_source()}\n# {ANSWER_KEY_MARK}\n", encoding="utf-8")
    (key / "optimizers.py").chmod(0o644)
    for path in submissions.iterdir():
        path.chmod(0o644)
    os.mkfifo(submissions / "fifo.py")  # an extracted archive can hold one: never opened, never waited on
    yield {"base": base, "submissions": submissions, "honest": list(honest)}
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def alone(classroom, zygote):
    """The verdicts each honest student and the blank stub get, graded on their own."""
    stub = classroom["base"] / "stub.py"
    stub.write_text(_stub(), encoding="utf-8")
    graded = {
        name: grading.grade(classroom["submissions"] / f"{name}.py", zygote=zygote).to_dict()
        for name in classroom["honest"]
    }
    graded["stub"] = grading.grade(stub, zygote=zygote).to_dict()
    if graded["stub"]["extra_data"]["isolation"]["level"] != "full":
        pytest.skip(FULL_ISOLATION_NEEDED)
    return graded


@pytest.fixture(scope="module")
def unprivileged():
    """A user without privileges to grade as (created when we are root), or skip with the reason."""
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    return _system_user(UNPRIVILEGED_USER)


def _system_user(name):
    """A system user called `name`, created when missing (we are root), or skip with the reason."""
    for tool in ("unshare", "useradd", "mount"):
        if shutil.which(tool) is None:
            pytest.skip(f"`{tool}` is missing: cannot set up an unprivileged user here")
    try:
        pwd.getpwnam(name)
    except KeyError:
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"cannot create an unprivileged user here: {made.stderr.strip()}")
    return name


def _run(command, user=None, folders=(), timeout=600, env=None):
    """Run a grader command as ourselves, or as `user` (through run_unprivileged.py) when we are root."""
    if user is not None and os.geteuid() == 0:
        command = [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            str(ROOT / "tests" / "run_unprivileged.py"),
            user,
            *map(str, folders),
            str(ROOT),
            "--",
            *command,
        ]
    started = time.monotonic()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env)
    return done, time.monotonic() - started


def _expect_deserved(name, result, alone):
    if name in AT_MOST:
        assert result["score"] <= alone["stub"]["score"], (name, result["output"])
    else:
        assert result["score"] == alone["stub"]["score"], (name, result["output"])


def _expect_nothing_leaked(folder):
    for path in Path(folder).rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            for mark in (SECRET, ANSWER_KEY_MARK, REFERENCE_MARK):
                assert mark not in text, f"{path.name} holds {mark!r}"


def _expect_host_untouched(before):
    assert _protected_hash() == before["protected"], "the grader, the reference or torch was changed"
    assert not list(Path("/tmp").glob("optimkit-fill-*")) and not list(Path("/dev/shm").glob("optimkit-fill-*"))
    assert not Path("/tmp/optimkit-backdoor").exists()


def _grade_class(classroom, alone, user, sandbox_user=None):
    """Grade the class as root (user None, its sandboxes run as `sandbox_user`) or as `user`."""
    out = classroom["base"] / f"out-{user or 'root'}"
    env = None if sandbox_user is None else {**os.environ, "OPTIMKIT_WORKER_USER": sandbox_user}
    before = {"input": _tree_hash(classroom["submissions"]), "protected": _protected_hash()}
    if user is not None:
        work = classroom["base"] / f"work-{user}"
        work.mkdir()
        shutil.chown(work, user)
        out = work / "out"
    command = [sys.executable, "-m", "grader", "batch", str(classroom["submissions"]), "--out", str(out)]
    done, seconds = _run(command, user, folders=[out.parent, classroom["submissions"]], env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    results = {path.stem: json.loads(path.read_text()) for path in (out / "results").glob("*.json")}
    assert set(results) == set(classroom["honest"]) | set(ATTACKS) | {"fifo"}
    assert results["fifo"]["extra_data"]["status"] == "error" and "FIFO" in results["fifo"]["output"]
    for name in classroom["honest"]:
        assert _verdicts(results[name]) == _verdicts(alone[name]), name
    for name in ATTACKS:
        _expect_deserved(name, results[name], alone)
        assert results[name]["extra_data"]["isolation"]["level"] == "full"
    assert _tree_hash(classroom["submissions"]) == before["input"]
    _expect_nothing_leaked(out)
    _expect_host_untouched(before)
    time.sleep(2)  # a daemon that outlived its sandbox would rewrite results now
    assert not _leftovers(user or sandbox_user)
    after = {path.stem: json.loads(path.read_text()) for path in (out / "results").glob("*.json")}
    assert after == results
    rerun, _ = _run(command, user, folders=[out.parent, classroom["submissions"]], env=env)
    assert rerun.returncode == 0
    assert {path.stem: json.loads(path.read_text()) for path in (out / "results").glob("*.json")} == results
    return seconds


@pytest.mark.skipif(os.geteuid() != 0, reason="this case is the grader running as root; the next runs as anyone")
def test_a_class_with_attackers_as_root(classroom, alone):
    """Do attackers get the stub's score and classmates their own, when the grader runs as root?"""
    _grade_class(classroom, alone, None, sandbox_user=_system_user(CLASS_SANDBOX_USER))


def test_a_class_with_attackers_without_root(classroom, alone, unprivileged):
    """The same, when an instructor without root runs the grader (user namespaces)."""
    _grade_class(classroom, alone, unprivileged if os.geteuid() == 0 else None)


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_each_attacker_checked_alone_as_root(classroom, alone, zygote, attack):
    """Does `check` give each attacker the stub's score, with nothing leaked and nothing changed?"""
    before = {"protected": _protected_hash()}
    # The trickler holds its loading reply open for good: `check`'s budget, shortened here, is what ends it.
    budget = TRICKLE_BUDGET if attack == "trickle" else None
    result = grading.grade(classroom["submissions"] / f"{attack}.py", zygote=zygote, budget=budget).to_dict()
    _expect_deserved(attack, result, alone)
    for mark in (SECRET, ANSWER_KEY_MARK, REFERENCE_MARK):
        assert mark not in json.dumps(result)
    _expect_host_untouched(before)


def test_every_attacker_checked_without_root(classroom, alone, unprivileged):
    """`python -m grader check` on each attacker, as an unprivileged user."""
    user = unprivileged if os.geteuid() == 0 else None
    work = classroom["base"] / "check-work"
    work.mkdir(exist_ok=True)
    if user is not None:
        shutil.chown(work, user)
    before = {"protected": _protected_hash()}
    script = "; ".join(
        f"{sys.executable} -m grader check {classroom['submissions'] / (name + '.py')} "
        f"--json {work / (name + '.json')}" + (f" --timeout {TRICKLE_BUDGET}" if name == "trickle" else "")
        for name in sorted(ATTACKS)
    )
    _done, _ = _run(["sh", "-c", script], user, folders=[work, classroom["submissions"]])
    for name in ATTACKS:
        result = json.loads((work / f"{name}.json").read_text())
        _expect_deserved(name, result, alone)
        assert result["extra_data"]["isolation"]["level"] == "full"
    _expect_nothing_leaked(work)
    _expect_host_untouched(before)


def test_reduced_isolation_is_said_plainly_and_the_thief_is_real(classroom, alone, monkeypatch):
    """Without namespaces (turned off here, as a kernel that refuses them would), does every result say
    so, in the JSON and in the printed report? And is the thief above a real one: does it then steal?"""
    monkeypatch.setenv("OPTIMKIT_NAMESPACES", "off")
    monkeypatch.setenv("OPTIMKIT_LANDLOCK", "off")  # Landlock is the next wall; tests/test_docker_container.py has it
    with Zygote() as reduced:
        stub = grading.grade(classroom["base"] / "stub.py", zygote=reduced)
        thief = grading.grade(classroom["submissions"] / "steal.py", zygote=reduced)
    isolation = stub.to_dict()["extra_data"]["isolation"]
    assert isolation["level"] == "reduced" and "OPTIMKIT_NAMESPACES=off" in isolation["summary"]
    assert "OPTIMKIT_LANDLOCK=off" in isolation["summary"]
    printed = report.render(stub)
    assert "isolation: REDUCED" in printed and "can read every file" in printed
    if os.geteuid() == 0:  # as nobody, it reads what every user may read: the project's examples
        assert thief.score > alone["stub"]["score"]
