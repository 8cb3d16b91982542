"""What the pipeline's steps pass along: each step takes a Draft and returns a new one."""

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Draft:
    """The assignment being built. Steps fill the fields in order (see `pipeline.STUB_STEPS`)."""

    reference: Path  #: the reference package's folder
    solution: bool  #: keep the solutions (the instructors' version) instead of blanking them
    outline: tuple  #: the sections (`outline.OUTLINE`)
    modules: tuple = ()  #: parsed reference modules (`source.read_reference`), regions (`markers.find_regions`)
    imports: tuple = ()  #: the merged import lines (`imports.merge_imports`)
    parts: tuple = ()  #: the sections with their code resolved (`arrange.arrange`)

    @property
    def regions(self) -> tuple:
        return tuple(region for module in self.modules for region in module.regions)
