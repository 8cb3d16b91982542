"""The self-check's tests: one function per part, parametrized by the plugin with one case per rubric item."""

from .plugin import run_item


def _part_test(tag):
    def test(request, rubric_item):
        run_item(request, rubric_item)

    test.__name__ = test.__qualname__ = f"test_{tag}"
    return test


globals().update(
    {f"test_{tag}": _part_test(tag) for tag in ("adagrad", "rmsprop", "momentum", "adam", "trajectory", "nesterov")}
)
