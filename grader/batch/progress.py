"""The batch's progress line: counts and an ETA on stderr, for the local batch and the cluster driver alike."""

import sys
import time

from grader.outputs.terminal import printable


class Progress:
    """Counts and an ETA on stderr: one line rewritten in place on a terminal, a line each otherwise."""

    def __init__(self, stream=sys.stderr):
        self.stream, self.tty = stream, stream.isatty()
        self.total = self.done = self.skipped = 0
        self.counts = {}
        self.started = time.monotonic()

    def start(self, total, skipped):
        self.total, self.skipped, self.done = total, skipped, skipped
        self.started = time.monotonic()
        if skipped:
            self._print(f"{skipped} of {total} already graded by this grader: skipped (--force regrades)", final=True)

    def advance(self, student, status):
        self.done += 1
        self.counts[status] = self.counts.get(status, 0) + 1
        graded = self.done - self.skipped
        elapsed = time.monotonic() - self.started
        eta = elapsed / graded * (self.total - self.done) if graded else 0
        counts = ", ".join(f"{count} {name}" for name, count in sorted(self.counts.items()))
        self._print(
            f"[{self.done}/{self.total}] {100 * self.done // max(self.total, 1)}% | {counts} | "
            f"{elapsed / max(graded, 1):.2f} s each | ETA {int(eta) // 60}:{int(eta) % 60:02d} | {printable(student)}",
            final=self.done == self.total,
        )

    def _print(self, text, final=False):
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
