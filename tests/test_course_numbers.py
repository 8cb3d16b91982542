"""Do the numbers the course prints reproduce, and do its experiments' findings hold?"""

import pytest
import torch

from reference import Linear, SimpleBatchGD, make_fitting_data
from reference.experiments import runs, settings
from reference.torch_check import linear_sgd_step_against_torch

# The course prints float32 values to 7-8 significant digits; 1e-6 relative covers the last digit shown.
PRINTED = dict(rtol=1e-6, atol=0)


def test_fitting_data_first_row():
    data = make_fitting_data()
    assert data.shape == (1000, 3) and data.dtype == torch.float32
    torch.testing.assert_close(data[0, :2], torch.tensor([-1.1258398, -1.1523602]), **PRINTED)
    torch.testing.assert_close(data[0, 2:], torch.tensor([-1.4770346]), **PRINTED)


def test_fitting_data_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make_fitting_data()
    assert torch.equal(torch.rand(3), expected)


def test_linear_initial_weights():
    torch.manual_seed(0)
    model = Linear(2)
    torch.testing.assert_close(model.params["W"], torch.tensor([[1.5409961], [-0.2934289]]), **PRINTED)
    assert torch.equal(model.params["b"], torch.zeros(1))


def test_one_sgd_step_on_the_first_row():
    torch.manual_seed(0)
    model = Linear(2)
    row = make_fitting_data()[:1]
    model(row[:, :2])
    model.backward(row[:, 2:])
    SimpleBatchGD(0.01, model).step()
    torch.testing.assert_close(model.params["W"], torch.tensor([[1.5418997], [-0.29250407]]), **PRINTED)


def test_the_torch_check_done_right_agrees():
    """The book compared against an nn.Linear whose bias it never copied; synced, the two agree."""
    for rows in (1, 64):
        ours, theirs = linear_sgd_step_against_torch(make_fitting_data()[:rows])
        # One SGD step, two orders of summation: a few ulps.
        torch.testing.assert_close(ours, theirs, rtol=4 * 2**-24, atol=4 * 2**-24)


def _escapes(points, bound=10.0):
    return not bool(torch.isfinite(points).all()) or points.abs().max().item() > bound


def test_tilted_cubic_only_the_momentum_methods_escape():
    """The course's finding, as the math has it: Momentum runs off past the saddle at (0.25, -0.5).

    The course says only Momentum escapes, but Nesterov with its stated settings (lr 0.1, rho 0.9)
    jumps past the saddle on its first step (x2: 3 -> -3.65) and diverges too. The other four settle
    near the minimum at 0.
    """
    comparison = settings.COMPARISONS_3D[0]
    trajectories = runs.comparison_trajectories(comparison)
    escaped = {name for name, points in trajectories.items() if _escapes(points)}
    assert escaped == {"Momentum", "Nesterov"}
    assert not torch.isfinite(trajectories["Momentum"][-1]).all(), "Momentum should overflow to inf/nan"
    for name in trajectories.keys() - escaped:
        assert trajectories[name][-1].norm().item() < 0.2, name


def test_saddle_only_sgd_stays_stuck():
    comparison = settings.COMPARISONS_3D[2]
    trajectories = runs.comparison_trajectories(comparison)
    assert abs(trajectories["SGD"][-1, 0].item()) < 0.01
    for name in ("AdaGrad", "RMSprop", "Adam", "Momentum"):
        assert trajectories[name][-1, 0].item() > 1.0, name


def test_narrow_bowl_runs_approach_the_minimum():
    trajectories = runs.comparison_trajectories(settings.COMPARISONS_3D[1])
    for name, points in trajectories.items():
        f_start = points[0, 0] ** 2 / 20 + points[0, 1] ** 2
        f_end = points[-1, 0] ** 2 / 20 + points[-1, 1] ** 2
        assert f_end < f_start / 10, name


@pytest.mark.parametrize("run", settings.TRAJECTORIES_2D, ids=lambda run: run.setting.name)
def test_bowl_runs_descend(run):
    points, losses = runs.bowl_trajectory(run)
    assert points.shape == (run.steps, 2)
    assert torch.equal(points[0], torch.tensor(settings.BOWL_START))
    assert losses[-1] < losses[0] / 5


@pytest.mark.parametrize("setting", settings.FITTING, ids=lambda setting: setting.name)
def test_fitting_runs_learn(setting):
    iteration_losses, epoch_losses = runs.fitting_losses(setting)
    assert len(iteration_losses) == settings.FITTING_EPOCHS * 16  # ceil(1000 / 64) batches an epoch
    assert len(epoch_losses) == settings.FITTING_EPOCHS
    assert epoch_losses[-1] < epoch_losses[0] / 10
