#!/usr/bin/env bash
# optimkit's PrairieLearn entry point: the grading container runs this, as root, for each submission.
# Whatever happens it leaves /grade/results/results.json: a grader that cannot start says so, and the
# submission is not gradable (the student keeps the attempt).
root="${OPTIMKIT_GRADE_ROOT:-/grade}"
python="${OPTIMKIT_PYTHON:-python3}"
results="$root/results/results.json"

mkdir -p "$root/results"
rm -f "$results"  # never report a file that was there before this run
cd "$root" || exit 1  # `python -m` looks in the current folder first: here only the platform's folders are
OPTIMKIT_GRADE_ROOT="$root" "$python" -m grader.platforms.prairielearn
status=$?
if [ ! -s "$results" ]; then
    printf '{"gradable": false, "score": 0.0, "format_errors": ["The grader could not start (exit status %d), so this submission was not graded. This is not a verdict on your code; tell your instructor."], "message": "The grader could not start."}\n' \
        "$status" > "$results"
fi
exit 0
