"""The self-check's language, in the kit: the kit's own language module, under the name the self-check's
modules import it by (`from .i18n import _`). Trusted side. It is not shipped: in the bundle, the package
grader/i18n/ beside the self-check is grader/i18n/__init__.py itself, copied byte for byte with the
release's compiled catalogs (grader/release/contents.py, I18N_*)."""

from grader.i18n import DEFAULT, N_, _, language, ngettext, set_language

__all__ = ["DEFAULT", "N_", "_", "language", "ngettext", "set_language"]
