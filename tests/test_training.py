"""Does train_f record a real trajectory, whatever the optimizer does to the parameter?"""

import torch

from reference import OptimizedFunction, Optimizer, SimpleBatchGD, train_f


class InPlaceGD(Optimizer):
    """Updates with `x -= ...`, the style that exposed the course's aliasing bug."""

    def step(self):
        for key in self.model.params:
            self.model.params[key] -= self.init_lr * self.model.grads[key]


def test_in_place_updates_do_not_collapse_the_trajectory(device):
    x_init = torch.tensor([3.0, 4.0], device=device)
    model = OptimizedFunction([0.2, 2.0])
    in_place, _ = train_f(model, InPlaceGD(0.1, model), x_init, 10)
    model = OptimizedFunction([0.2, 2.0])
    out_of_place, _ = train_f(model, SimpleBatchGD(0.1, model), x_init, 10)
    assert torch.equal(in_place, out_of_place)
    assert len(torch.unique(in_place, dim=0)) == 10


def test_x_init_is_never_updated():
    x_init = torch.tensor([3.0, 4.0])
    model = OptimizedFunction([0.2, 2.0])
    train_f(model, InPlaceGD(0.1, model), x_init, 5)
    assert torch.equal(x_init, torch.tensor([3.0, 4.0]))


def test_trajectory_starts_at_x_init_and_has_one_point_per_step():
    model = OptimizedFunction([0.2, 2.0])
    points, losses = train_f(model, SimpleBatchGD(0.2, model), torch.tensor([3.0, 4.0]), 20)
    assert points.shape == (20, 2) and losses.shape == (20,)
    assert torch.equal(points[0], torch.tensor([3.0, 4.0]))
    # Each loss is f at the recorded point, before that step.
    torch.testing.assert_close(losses, model.f(points))
    # The next recorded point is one SGD step from the previous one.
    torch.testing.assert_close(points[1:], points[:-1] - 0.2 * model.gradient(points[:-1]))
