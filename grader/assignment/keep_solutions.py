"""Solution step: keep every solution, and drop the marker lines, which mean nothing to a reader.

Must run after `find_regions` (it needs the file's own line numbers) and before `arrange`.
"""

from dataclasses import replace

from .markers import rewrite_regions


def keep_solutions(draft):
    """Pipeline step: each region becomes its own lines without the two markers."""
    return replace(draft, modules=tuple(rewrite_regions(module, _without_markers) for module in draft.modules))


def _without_markers(region, lines):
    return lines[1:-1]
