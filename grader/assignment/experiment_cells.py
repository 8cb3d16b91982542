"""The code that only the assignment has: the notebook cells that run the experiments, and the student
file's `__main__` block that does the same from a terminal.

Both only call what the reference's experiments define (`draw_trajectory`, `draw_fitting`,
`draw_comparison` and the run settings), so the figures are the reference's figures, drawn with the
student's optimizers. Each cell that computes anything is a loop, so a grader that loads the notebook
as a module without running loops runs no experiment.
"""

from grader.i18n import N_

NOTEBOOK_FRAMES = 20  # per animation in the notebook: about 2 s each instead of 5 s for 50 frames

SHOW = '''\
from pathlib import Path

FIGURES = Path("figures")  # every figure is saved here too


def show(path):
    """Show a saved figure (a PNG, or an animated GIF) in the notebook."""
    from IPython.display import Image, display

    display(Image(filename=str(path)))'''

TRAJECTORIES = """\
for run in TRAJECTORIES_2D:
    FIGURES.mkdir(exist_ok=True)
    path = FIGURES / f"trajectory_2d_{run.setting.slug}.png"
    draw_trajectory(run, path)
    show(path)"""

FITTING = """\
for setting in FITTING:
    FIGURES.mkdir(exist_ok=True)
    path = FIGURES / f"fitting_{setting.slug}.png"
    draw_fitting(setting, path)
    show(path)"""

COMPARISONS = f"""\
for comparison in COMPARISONS_3D:
    FIGURES.mkdir(exist_ok=True)
    gif = FIGURES / f"comparison_3d_{{comparison.slug}}.gif"
    draw_comparison(comparison, gif, gif.with_suffix(".png"), max_frames={NOTEBOOK_FRAMES})
    show(gif)"""

#: The comment of the student file's `__main__` block: a message, translated with the reference's comments.
SCRIPT_MAIN_NOTE = N_(
    "`python optimizers.py [FOLDER]` runs every experiment with these optimizers and saves the figures.\n"
    "A method that is still blank stops it with NotImplementedError, naming the method."
)

SCRIPT_MAIN = (
    'if __name__ == "__main__":\n'
    + "".join(f"    # {line}\n" for line in SCRIPT_MAIN_NOTE.split("\n"))
    + """\
    import sys
    from pathlib import Path

    out = Path(sys.argv[1] if len(sys.argv) > 1 else "figures")
    out.mkdir(parents=True, exist_ok=True)
    for run in TRAJECTORIES_2D:
        draw_trajectory(run, out / f"trajectory_2d_{run.setting.slug}.png")
    for setting in FITTING:
        draw_fitting(setting, out / f"fitting_{setting.slug}.png")
    for comparison in COMPARISONS_3D:
        gif = out / f"comparison_3d_{comparison.slug}.gif"
        draw_comparison(comparison, gif, gif.with_suffix(".png"))
        print(f"drew {comparison.slug}", flush=True)
    print(f"every figure is in {out}/")"""
)
