"""Check many submissions at once, without pytest: `python -m grader.batch FILE... [--json OUT]` (in the bundle).

For instructors' spot checks and the kit's own tests: one process imports torch once and forks per
submission. Prints one line per submission; --json writes every verdict."""

import argparse
import json

from . import judge, runner
from .i18n import _


def check_many(paths, nesterov=False, fork=None):
    data = json.loads(runner.CASES.read_text(encoding="utf-8"))
    tests = [test for test in json.loads(runner.RUBRIC.read_text(encoding="utf-8")) if not test["bonus"] or nesterov]
    parts = list(dict.fromkeys(test["part"] for test in tests))
    reports = []
    for path, outcome in zip(paths, runner.check(paths, parts, fork=fork)):
        verdicts = []
        for test in tests:
            result = outcome.wait(test["part"])
            load = outcome.load or {}
            problem = load.get("error") or judge.judge(test["part"], test["test"], data["parts"][test["part"]], result)
            if problem and load.get("errors"):
                problem += (
                    "\n" + _("While loading: ") + "; ".join(f"{e['where']}: {e['message']}" for e in load["errors"][:3])
                )
            verdicts.append(
                {
                    "part": test["part"],
                    "test": test["test"],
                    "graded": test["graded"],
                    "points": test["points"],
                    "passed": problem is None,
                    "message": problem,
                }
            )
        score = sum(v["points"] for v in verdicts if v["graded"] and v["passed"])
        total = sum(v["points"] for v in verdicts if v["graded"])
        reports.append({"submission": str(path), "score": score, "max_score": total, "tests": verdicts})
    return reports


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m grader.batch", description=__doc__.split("\n")[0])
    parser.add_argument("submissions", nargs="+")
    parser.add_argument("--json", help="write every verdict here")
    parser.add_argument("--nesterov", action="store_true")
    args = parser.parse_args(argv)
    runner.speak_release_language()
    reports = check_many(args.submissions, args.nesterov)
    for report in reports:
        print(f"{report['score']:g} / {report['max_score']:g}  {report['submission']}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(reports, file, indent=1)
    return 0 if all(r["score"] == r["max_score"] for r in reports) else 1


if __name__ == "__main__":
    raise SystemExit(main())
