"""The two training loops of the unit: `train_f` on a 2D function, `train` on the fitting data."""

import torch


def train_f(model, optimizer, x_init, epoch):
    """Run `epoch` optimizer steps on `model` from `x_init`; return (trajectory, losses).

    trajectory: tensor [epoch, *x.shape], the point before each step (the first is x_init);
    losses: tensor [epoch], f at those points.

    Each recorded point is a real copy (`clone`). The book appended the live tensor, which an optimizer
    that updates in place (`x -= ...`) keeps changing, so every recorded point became the last one and
    the plotted trajectory collapsed. x_init is cloned too, so the caller's tensor is never updated.
    """
    x = x_init.clone()
    points, losses = [], []
    for _ in range(epoch):
        points.append(x.detach().clone())
        losses.append(torch.as_tensor(model(x)).detach().clone())
        model.backward()
        optimizer.step()
        x = model.params["x"]
    return torch.stack(points), torch.stack(losses)


def train(data, model, optimizer, loss_fn, epochs=30, batch_size=64):
    """Mini-batch training on rows [features..., label], in order (no shuffling).

    Returns (iteration_losses, epoch_losses): the loss of every batch, and each epoch's mean of them.
    """
    iteration_losses, epoch_losses = [], []
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, data.shape[0], batch_size):
            batch = data[start : start + batch_size]
            inputs, labels = batch[:, :-1], batch[:, -1:]
            outputs = model(inputs)
            batch_losses.append(float(loss_fn(outputs, labels)))
            model.backward(labels)
            optimizer.step()
        iteration_losses.extend(batch_losses)
        epoch_losses.append(sum(batch_losses) / len(batch_losses))
    return iteration_losses, epoch_losses
