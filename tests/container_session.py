"""Inside an emulated container (tests/docker_container.py), as its PID 1: grade attackers with `check`,
`batch` and Gradescope's run, and look, after each, at what they left (test set-up only).

Usage: python container_session.py CONFIG.json; writes CONFIG's "out"/report.json.

What is looked at must be looked at from inside: when PID 1 ends, the kernel ends every process of the
container, so a daemon that outlived its sandbox is only seen here. After each grading run, and a pause
in which such a daemon would act, the report records the processes left in the container, the files
named `optimkit-litter-*`, `optimkit-fill-*` or `optimkit-backdoor` in /tmp, /dev/shm and /var/tmp, and the results as they then are; then it
ends those processes and removes those files, so that each run starts clean.
"""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

LITTER = ("/tmp", "/dev/shm", "/var/tmp")
PAUSE = 2.0  # seconds after a run: a daemon that forges results does it every 0.2 s


def _left():
    processes = []
    for name in os.listdir("/proc"):
        if name.isdigit() and int(name) != os.getpid():
            try:
                command = Path(f"/proc/{name}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                state = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                processes.append({"pid": int(name), "command": command[:200]})
    litter = sorted(
        path
        for folder in LITTER
        for pattern in ("optimkit-litter-*", "optimkit-fill-*", "optimkit-backdoor")
        for path in glob.glob(f"{folder}/{pattern}")
    )
    return {"processes": processes, "litter": litter}


def _clean(left):
    for process in left["processes"]:
        try:
            os.kill(process["pid"], signal.SIGKILL)
        except OSError:
            pass
    for path in left["litter"]:
        try:
            os.unlink(path)
        except OSError:
            pass
    try:
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass
    except ChildProcessError:
        pass


def _score(path):
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return {
            "score": data.get("score"),
            "output": str(data.get("output", ""))[:4000],
            "isolation": (data.get("extra_data") or {}).get("isolation"),
        }
    except (OSError, ValueError):
        return {"score": None, "output": "", "isolation": None}


def _run(command, environment, cwd):
    try:
        done = subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=300)
        return {"returncode": done.returncode, "stderr": done.stderr[-2000:], "stdout": done.stdout[-3000:]}
    except subprocess.TimeoutExpired:
        return {"returncode": "timeout", "stderr": "", "stdout": ""}


def _settle(entry, results):
    time.sleep(PAUSE)
    left = _left()
    entry.update(left=left, after={name: _score(path) for name, path in results.items()})
    _clean(left)
    return entry


def main(config_path):
    config = json.loads(Path(config_path).read_text(encoding="utf-8"))
    out, python, project = Path(config["out"]), config["python"], config["project"]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    report = {"check": {}, "batch": None, "gradescope": {}}
    for name in config.get("check", ()):
        target = out / "check" / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        entry = _run(
            [python, "-m", "grader", "check", config["submissions"][name], "--json", str(target), "--timeout", "90"],
            environment,
            project,
        )
        report["check"][name] = _settle(entry, {name: target})
    if config.get("batch"):
        batch_out = out / "batch"
        entry = _run(
            [python, "-m", "grader", "batch", config["batch"], "--out", str(batch_out), "--jobs", "1"],
            environment,
            project,
        )
        results = {Path(path).stem: path for path in glob.glob(str(batch_out / "results" / "*.json"))}
        report["batch"] = _settle(entry, results)
    for name in config.get("gradescope", ()):
        root = Path(config["gradescope_root"])
        shutil.rmtree(root / "results", ignore_errors=True)
        shutil.rmtree(root / "submission", ignore_errors=True)
        (root / "submission").mkdir()
        shutil.copyfile(config["submissions"][name], root / "submission" / "optimizers.py")
        # run_autograder as the zip has it, started as Gradescope starts it (from the root folder).
        entry = _run(
            ["bash", str(root / "run_autograder")],
            {**environment, "OPTIMKIT_AUTOGRADER_ROOT": str(root), "OPTIMKIT_PYTHON": python},
            str(root),
        )
        report["gradescope"][name] = _settle(entry, {name: root / "results" / "results.json"})
    (out / "report.json").write_text(json.dumps(report, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
