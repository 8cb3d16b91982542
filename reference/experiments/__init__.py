"""Every experiment of the unit, headless and deterministic: `python -m reference.experiments --out DIR`.

1. `figures_2d`: each optimizer's trajectory on the bowl w · x², over its contour lines.
2. `figures_fitting`: each optimizer's loss per iteration and per epoch on the linear fitting data.
3. `figures_3d`: all optimizers together on three surfaces, as GIF animations and still PNGs.
4. `agreement`: how closely each optimizer follows torch.optim, as a text table.

`settings` holds every run's hyperparameters; `runs` computes what the figures show.
"""
