#!/usr/bin/env bash
# optimkit's Gradescope runner: Gradescope runs this as root, from /autograder, for each submission.
# Whatever happens it leaves results/results.json: a grader that cannot start scores 0 and says so.
root="${OPTIMKIT_AUTOGRADER_ROOT:-/autograder}"
python="${OPTIMKIT_PYTHON:-/opt/optimkit/bin/python}"
results="$root/results/results.json"

mkdir -p "$root/results"
rm -f "$results"  # never report a file that was there before this run
cd "$root" || exit 1  # `python -m` looks in the current folder first: here only the platform's folders are
OPTIMKIT_AUTOGRADER_ROOT="$root" "$python" -m grader.platforms.gradescope
status=$?
if [ ! -s "$results" ]; then
    printf '{"score": 0, "output": "The autograder could not start (exit status %d), so this submission was not graded. This is not a verdict on your code; tell your instructor.", "output_format": "text", "tests": []}\n' \
        "$status" > "$results"
fi
exit 0
