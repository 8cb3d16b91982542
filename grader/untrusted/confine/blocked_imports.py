"""The grader's own packages refused to student code, with a clear message (inside the namespaces they are
not there at all; this also covers the fallbacks). Untrusted side.
"""

BLOCKED_PACKAGES = ("grader", "reference")


class _BlockGraderImports:
    """A meta path finder that refuses the grader's own packages to student code, with a clear message
    (inside the namespaces they are not there at all; this also covers reduced isolation)."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED_PACKAGES:
            raise ImportError(f"`{name}` is not available to submissions: write your own code")
        return None
