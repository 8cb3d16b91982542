"""Does `python -m reference.experiments --out DIR` write every figure it promises, deterministically?"""

import subprocess
import sys

import pytest
from PIL import Image

from reference.experiments import settings

pytestmark = pytest.mark.experiments  # every figure and animation of the unit drawn, twice

EXPECTED = (
    [f"trajectory_2d_{run.setting.slug}.png" for run in settings.TRAJECTORIES_2D]
    + [f"fitting_{setting.slug}.png" for setting in settings.FITTING]
    + [f"comparison_3d_{c.slug}.{suffix}" for c in settings.COMPARISONS_3D for suffix in ("gif", "png")]
    + ["torch_agreement.txt"]
)


def _run(*args):
    return subprocess.run(
        [sys.executable, "-m", "reference.experiments", *args], capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module")
def figures(tmp_path_factory):
    out = tmp_path_factory.mktemp("figures") / "nested" / "out"
    result = _run("--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result.stdout


def test_writes_every_figure_and_nothing_else(figures):
    out, _ = figures
    assert sorted(path.name for path in out.iterdir()) == sorted(EXPECTED)


def test_prints_a_progress_line_per_figure(figures):
    _, stdout = figures
    lines = stdout.splitlines()
    assert len(lines) == 14 + 1
    for name in EXPECTED:
        assert sum(name in line for line in lines[:-1]) == 1, name
    assert lines[-1].startswith("14 of 14 written to ")


def test_figures_are_real_images(figures):
    out, _ = figures
    for name in EXPECTED:
        if name.endswith(".png"):
            with Image.open(out / name) as image:
                assert image.format == "PNG" and image.width >= 400
    for comparison in settings.COMPARISONS_3D:
        with Image.open(out / f"comparison_3d_{comparison.slug}.gif") as gif:
            assert gif.format == "GIF" and gif.is_animated and gif.n_frames >= 40


def test_agreement_table_says_every_optimizer_agrees(figures):
    out, _ = figures
    rows = (out / "torch_agreement.txt").read_text().splitlines()[4:]
    assert [row.split()[0] for row in rows] == ["SGD", "AdaGrad", "RMSprop", "Momentum", "Nesterov", "Adam"]
    assert all(row.endswith("agrees") for row in rows)


def test_a_rerun_writes_the_same_bytes(figures, tmp_path):
    out, _ = figures
    result = _run("--out", str(tmp_path), "--only", "trajectories", "comparisons", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in tmp_path.iterdir())
    assert len(written) == 5 + 6
    for name in written:
        assert (tmp_path / name).read_bytes() == (out / name).read_bytes(), name


def test_rejects_a_bad_job_count(tmp_path):
    result = _run("--out", str(tmp_path), "--jobs", "0")
    assert result.returncode == 2 and "--jobs must be at least 1" in result.stderr
