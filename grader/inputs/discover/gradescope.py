"""A Gradescope export: `submission_metadata.yml`, read within bounds, and a `submission_<id>/` folder each.

Trusted side: the metadata is read as a regular file of bounded size, and parsed with aliases refused and
nesting and the number of values bounded (see `_read_metadata`).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

from grader.inputs.regular_files import UnreadableFile, read_regular

from .entries import DiscoveryError, Member, _children, _files_below, _Found, _sanitise

GRADESCOPE_METADATA = "submission_metadata.yml"


# Bounds on the metadata, checked before and while it is parsed. A real export is about 1 kB per
# submission, more with autograder output and resubmissions; parsing costs about 15x its size in memory.
MAX_METADATA_BYTES = 32 * 2**20


MAX_METADATA_DEPTH = 32  # a real export: 8 levels (submission, :history, entry, :results, tests, test, value)


MAX_METADATA_SUBMISSIONS = 20_000


MAX_GROUP = 50  # submitters kept of one submission (Gradescope's groups are a few students)


# Each value costs about 400 bytes once parsed, whatever its length: "[a,a,a,...]" would turn 32 MB into
# 6 GB. A real export has some 30 values per submission, a few hundred more with autograder results.
MAX_METADATA_VALUES = 1_000_000


_GRADESCOPE_FOLDER = re.compile(r"submission_\d+")


def _gradescope(folder: Path) -> list[_Found]:
    """One entry per `submission_<id>/` folder, and per metadata entry whose folder is missing."""
    metadata = _read_metadata(folder / GRADESCOPE_METADATA)
    found = []
    folders = {
        child.name: child for child in _children(folder) if child.is_dir() and _GRADESCOPE_FOLDER.fullmatch(child.name)
    }
    listed = {key for key in metadata if isinstance(key, str) and _GRADESCOPE_FOLDER.fullmatch(key)}
    for key in sorted(set(folders) | listed):
        base_id, name, members = _submitters(key, metadata.get(key))
        who: dict = {"lms_id": key, "members": members, "group": len(members) > 1}
        if key not in folders:
            found.append(
                _Found(
                    base_id,
                    name,
                    "gradescope",
                    key,
                    problem=f"listed in {GRADESCOPE_METADATA}, but folder {key}/ is missing",
                    **who,
                )
            )
            continue
        gradable, others, problem = _files_below(folders[key])
        found.append(
            _Found(
                base_id,
                name,
                "gradescope",
                key,
                gradable,
                others,
                root=folders[key],
                holder=f"folder {key}",
                problem=problem,
                **who,
            )
        )
    return found


def _read_metadata(path: Path) -> dict:
    """Gradescope's metadata as a dict; unknown YAML tags (Ruby objects) read as plain values.

    Bounded before anything is parsed: a regular file of at most MAX_METADATA_BYTES; and while it is
    parsed: no alias (`*name`, which a real export never holds, and which could make a small file expand
    to gigabytes: the "billion laughs"), nesting at most MAX_METADATA_DEPTH deep, at most
    MAX_METADATA_VALUES values in all, at most MAX_METADATA_SUBMISSIONS entries.
    """
    try:
        import yaml  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    except ImportError:
        raise DiscoveryError(f"{path}: reading a Gradescope export needs PyYAML (pip install pyyaml)") from None
    try:
        data = read_regular(path, MAX_METADATA_BYTES)
    except UnreadableFile as error:
        raise DiscoveryError(f"{path} {error.reason}") from None
    try:
        metadata = yaml.load(data.decode("utf-8", errors="replace"), Loader=_metadata_loader())
    except yaml.YAMLError as error:
        raise DiscoveryError(f"{path}: not readable YAML: {error}") from None
    except ValueError as error:  # an integer of more digits than Python converts (sys.set_int_max_str_digits)
        raise DiscoveryError(f"{path}: not readable YAML: {error}") from None
    if not isinstance(metadata, dict):
        raise DiscoveryError(
            f"{path}: expected a mapping from submission_<id> to its submitters, got {type(metadata).__name__}"
        )
    if len(metadata) > MAX_METADATA_SUBMISSIONS:
        raise DiscoveryError(
            f"{path}: {len(metadata)} entries, more than the {MAX_METADATA_SUBMISSIONS} "
            "submissions a class export holds"
        )
    return metadata


@functools.cache
def _metadata_loader():
    """A YAML loader built from PyYAML's own parts: libyaml's parser where installed (ten times faster),
    PyYAML's composer with aliases refused and nesting bounded, the safe constructor, tags read as plain."""
    import yaml  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.composer import Composer, ComposerError  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.constructor import SafeConstructor  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.events import AliasEvent  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    from yaml.resolver import Resolver  # noqa: PLC0415 -- PyYAML only for a Gradescope export

    try:
        from yaml.cyaml import CParser as Parser  # noqa: PLC0415 -- PyYAML only for a Gradescope export
    except ImportError:  # PyYAML built without libyaml
        from yaml.parser import Parser as EventParser  # noqa: PLC0415 -- PyYAML only for a Gradescope export
        from yaml.reader import Reader  # noqa: PLC0415 -- PyYAML only for a Gradescope export
        from yaml.scanner import Scanner  # noqa: PLC0415 -- PyYAML only for a Gradescope export

        class Parser(Reader, Scanner, EventParser):
            def __init__(self, stream):
                Reader.__init__(self, stream)
                Scanner.__init__(self)
                EventParser.__init__(self)

    class BoundedComposer(Composer):
        """PyYAML's composer, refusing what could make the document far larger than the file."""

        depth = values = 0

        def compose_node(self, parent, index):
            if self.check_event(AliasEvent):  # raised before the alias is resolved: nothing expands
                raise ComposerError(
                    None,
                    None,
                    "found an alias (*name); aliases are not accepted here, "
                    "since they can expand a small file to gigabytes",
                    self.peek_event().start_mark,
                )
            if self.depth >= MAX_METADATA_DEPTH:
                raise ComposerError(
                    None, None, f"found nesting deeper than {MAX_METADATA_DEPTH} levels", self.peek_event().start_mark
                )
            self.values += 1
            if self.values > MAX_METADATA_VALUES:
                raise ComposerError(
                    None, None, f"found more than {MAX_METADATA_VALUES} values", self.peek_event().start_mark
                )
            self.depth += 1
            try:
                return super().compose_node(parent, index)
            finally:
                self.depth -= 1

    # The composer comes first, so that its methods, not the C parser's own composer, build the nodes.
    class MetadataLoader(BoundedComposer, Parser, SafeConstructor, Resolver):
        def __init__(self, stream):
            Parser.__init__(self, stream)
            BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    def plain(loader, _suffix, node):
        """A tagged node (`!ruby/object:BigDecimal 18:0.1e2`) as its plain value."""
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node)
        return loader.construct_scalar(node)

    MetadataLoader.add_multi_constructor("!", plain)
    return MetadataLoader


def _submitters(key: str, info: object) -> tuple[str, str, tuple[Member, ...]]:
    """(base id, display name, submitters) of a Gradescope submission from its metadata entry (or its
    folder name); every submitter is a Member, so that a group's second member gets a grade too."""
    submitters = info.get(":submitters") if isinstance(info, dict) else None
    people = [person for person in submitters if isinstance(person, dict)] if isinstance(submitters, list) else []

    def field(person, name):
        value = person.get(f":{name}")
        if value is None or isinstance(value, (dict, list)):
            return ""
        try:
            return str(value).strip()
        except ValueError:  # an integer too long to print (sys.get_int_max_str_digits)
            return ""

    if not people:
        return key, key, ()
    if len(people) > MAX_GROUP:  # a Gradescope group has a handful; each member is a row, and maybe a page
        people = people[:MAX_GROUP]
    first = people[0]
    sid, email = field(first, "sid"), field(first, "email")
    base_id = _sanitise(sid) or _sanitise(email.partition("@")[0]) or key
    names = [field(person, "name") or field(person, "sid") or field(person, "email") for person in people]
    members = tuple(
        Member(name=name, id=field(person, "sid"), email=field(person, "email")) for name, person in zip(names, people)
    )
    return base_id, ", ".join(name for name in names if name) or key, members
