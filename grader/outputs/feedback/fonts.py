"""Fonts that can draw every text of the feedback: Latin first, then the CJK fonts of the course's readers.

A page in Chinese (or an English page showing a student's name in its own script) needs a font with CJK
glyphs, or the browser draws empty boxes. The page's CSS names the usual ones of each platform after the
Latin fonts (`CSS_STACK`); the browser takes each glyph from the first font that has it. For matplotlib
(3.6 and later also fall back glyph by glyph along a list of families), `matplotlib_families()` finds the
CJK fonts installed at run time and `matplotlib_rc()` is the rcParams to draw with them. Where none is
installed, a warning says so once and the text is drawn without them. Trusted side.
"""

from __future__ import annotations

import functools
import warnings

#: CJK families, most wanted first: Debian's fonts-noto-cjk, Adobe's name for the same font, macOS,
#: Windows, Debian's fonts-wqy-microhei and fonts-wqy-zenhei, Google's web font, older Windows and macOS.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "PingFang SC",
    "Microsoft YaHei",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans SC",
    "SimHei",
    "Hiragino Sans GB",
)

#: The page's font-family: the Latin fonts the page always used, then the CJK ones, then the generic family.
CSS_STACK = 'system-ui,-apple-system,"Segoe UI",' + ",".join(f'"{family}"' for family in CJK_FAMILIES) + ",sans-serif"

#: What a CJK font file's name holds, to find one that matplotlib's font cache (built earlier) does not know.
_FILE_HINTS = ("cjk", "wqy", "sourcehan", "msyh", "yahei", "pingfang", "simhei", "hiragino", "notosanssc")


class MissingCJKFont(UserWarning):
    """No CJK font is installed: Chinese text in plots is drawn as empty boxes."""


@functools.cache
def matplotlib_families() -> tuple[str, ...]:
    """The families to draw with: matplotlib's own sans-serif font, then every installed CJK family."""
    from matplotlib import font_manager  # noqa: PLC0415 -- matplotlib only where a plot is drawn

    manager = font_manager.fontManager
    latin = font_manager.get_font(manager.findfont(font_manager.FontProperties(family=["sans-serif"]))).family_name
    found = _installed(manager)
    if not found:  # installed after matplotlib built its font cache: look on disk once
        for path in font_manager.findSystemFonts():
            if any(hint in path.lower().replace("-", "").replace("_", "") for hint in _FILE_HINTS):
                try:
                    manager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _installed(manager)
    if not found:
        warnings.warn(
            "no CJK font is installed, so Chinese text in plots shows as empty boxes; install one "
            "(Debian: apt-get install fonts-wqy-microhei or fonts-noto-cjk)",
            MissingCJKFont,
            stacklevel=2,
        )
    return (latin, *found)


def _installed(manager) -> list[str]:
    names = {font.name for font in manager.ttflist}
    return [family for family in CJK_FAMILIES if family in names]


def matplotlib_rc() -> dict:
    """rcParams for `matplotlib.rc_context`: text in any script, each glyph from the first font that has it."""
    return {"font.family": list(matplotlib_families())}
