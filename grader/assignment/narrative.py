r"""The words around the code: the student file's header and the notebook's explanations (markdown).

The code itself comes from the reference; only prose lives here. `{exercises}` and `{bonus}` are filled
in from the solution regions actually found, so the text cannot list a method that is not blank.

Each text is a message of the "assignment" catalog (marked `N_`), translated where it is rendered
(`script`, `notebook`, `arrange`) into the language the process speaks; formulas, code spans and
commands stay as they are in every language.
"""

from grader.i18n import N_

TITLE = N_("Optimizers: AdaGrad, RMSprop, Momentum and Adam (NNDL 7.3)")

SOLUTION_NOTE = N_("SOLUTION: the reference with every body filled in, for instructors. Do not hand it out.")

SCRIPT_HEADER = N_("""\
{title}

Write the bodies of the methods that raise NotImplementedError:

{exercises}

Each docstring writes out the update rule. Everything else is given and works: the framework,
SimpleBatchGD, every step() loop, train_f and train, the functions, and the experiments.{bonus}

Keep every class and function name as it is. Return new tensors (`x = x - ...`) and never change an
argument in place; epsilon goes inside the square root, as in the book.

    pytest grader                        {check}
    python optimizers.py [FOLDER]        run every experiment with your optimizers and save the figures
                                         in FOLDER (default: figures/)

{generated}""")

# Two lines of the header on their own, so that the release can find them in any language and replace them
# (the bundle's stub names its own file, and students do not have the kit's commands).
CHECK_LINE = N_("check assignments/optimizers.py (--submission FILE: another file)")
GENERATED = N_("Generated from the reference solution by `python -m grader assign`.")
#: What the release's stub says instead of CHECK_LINE: the bundle's file sits beside grader/ (grader/release/bundle.py).
RELEASE_CHECK_LINE = N_("check optimizers.py (--submission FILE: another file)")

NOTEBOOK_INTRO = N_("""\
Write the bodies of the methods that raise `NotImplementedError`, in the cells marked **Exercise**:

{exercises}

Each docstring writes out the update rule, and the text above each cell explains it. Everything else is
given and works: the framework, `SimpleBatchGD`, every `step()` loop, `train_f` and `train`, the
functions, and the experiments at the end, which run *your* optimizers.{bonus}

Run the cells from the top (*Run All*). Until a method is written, the first experiment that needs it
stops with `NotImplementedError: implement ...`, naming it. Keep every class and function name as it
is: the grader calls them. The last cell says how to check your work.""")

BONUS = N_("Bonus (optional): {names} is given; replace its body with your own to practise.")

IMPORTS = N_("Run this cell first.")

FRAMEWORK = N_(r"""The book's small framework, without autograd. An `Op` is a differentiable piece: calling it runs
`forward`, and its `backward` writes the gradient of each parameter by hand. An op that has parameters
keeps two dicts with the same keys: `params` (name → tensor) and `grads` (name → tensor).

An `Optimizer` keeps the learning rate `init_lr` and the `model`; its `step()` updates every entry of
`model.params` from `model.grads`.""")

FUNCTIONS = N_(r"""The functions the experiments optimise. Each keeps the current point as `params['x']` and writes
its analytic gradient into `grads['x']` in `backward()`.

| class | $f(x)$ | $\nabla f(x)$ |
|---|---|---|
| `OptimizedFunction(w)` | $w_1 x_1^2 + w_2 x_2^2$ | $2\, w \odot x$ |
| `TiltedCubic()` | $x_1^2 + x_2^2 + x_2^3 + x_1 x_2$ | $(2 x_1 + x_2,\ 2 x_2 + 3 x_2^2 + x_1)$ |
| `NarrowBowl()` | $x_1^2 / 20 + x_2^2$ | $(x_1 / 10,\ 2 x_2)$ |
| `Saddle()` | $-x_1^2 / 2 + x_2^2$ | $(-x_1,\ 2 x_2)$ |""")

LINEAR = N_(r"""The fitting experiment: data $y = 0.5\, x_1 + 0.8\, x_2 + 0.01\, u$ with $u \sim U(0, 1)$, and the
model $\hat y = X W + b$. `Linear.backward` writes the gradient of half the mean squared error over the
$K$ rows of the batch:

$$\nabla_W = \frac{1}{K} X^\top (\hat y - y), \qquad \nabla_b = \frac{1}{K} \sum_{k=1}^{K} (\hat y_k - y_k)$$""")

SGD = N_(r"""Plain gradient descent: $x \leftarrow x - \eta\, g$, where $\eta$ is `init_lr` and $g$ is
`model.grads[key]`.

Every optimizer below has the same shape. A per-key method takes one parameter `x`, its gradient
`gradient_x` and its state, and **returns** the new parameter and the new state; the given `step()`
loops over the keys, calls it, and stores the results. The state starts as the Python int `0`, which
broadcasts against a tensor of any shape the first time. In the methods you write:

- return new tensors (`x = x - ...`); never change `x`, `gradient_x` or the state in place (`x -= ...`,
  `G += ...`): `gradient_x` *is* `model.grads[key]`, and the state is the int `0` at first;
- keep the dtype and the device of `x`;
- $\epsilon$ goes **inside** the square root, as in the book (torch.optim adds it outside).

$\odot$ is the elementwise product; squares, square roots and divisions are elementwise too.""")

ADAGRAD = N_(r"""AdaGrad divides each coordinate's step by the root of the sum of its squared gradients, so
coordinates with large gradients take smaller steps:

$$G \leftarrow G + g \odot g, \qquad x \leftarrow x - \frac{\eta}{\sqrt{G + \epsilon}} \odot g$$

Write `Adagrad.adagrad(x, gradient_x, G, init_lr)`; it returns `(x, G)`. The hyperparameter is
`self.epsilon`.""")

RMSPROP = N_(r"""RMSprop replaces AdaGrad's ever-growing sum by an exponential moving average, so the steps do not
shrink to nothing:

$$G \leftarrow \beta\, G + (1 - \beta)\, g \odot g, \qquad x \leftarrow x - \frac{\eta}{\sqrt{G + \epsilon}} \odot g$$

Write `RMSprop.rmsprop(x, gradient_x, G, init_lr)`; it returns `(x, G)`. The hyperparameters are
`self.beta` and `self.epsilon`.""")

MOMENTUM = N_(r"""Momentum keeps a velocity $\Delta x$, a decaying sum of the past steps, and moves by it:

$$\Delta x \leftarrow \rho\, \Delta x - \eta\, g, \qquad x \leftarrow x + \Delta x$$

Write `Momentum.momentum(x, gradient_x, delta_x, init_lr)`; it returns `(x, delta_x)`. The
hyperparameter is `self.rho`.""")

NESTEROV = N_(r"""Nesterov's accelerated gradient looks ahead along the velocity. In the form that needs the gradient
at $x$ only:

$$\Delta x_{\mathrm{prev}} = \Delta x, \qquad \Delta x \leftarrow \rho\, \Delta x - \eta\, g, \qquad
x \leftarrow x - \rho\, \Delta x_{\mathrm{prev}} + (1 + \rho)\, \Delta x$$

This one is given, so that the 3D comparison can run it. To practise, replace its body with your own.""")

ADAM = N_(r"""Adam combines momentum on the gradient ($M$) with RMSprop on its square ($G$), and corrects both for
starting at zero. At step $t$, which starts at 1:

$$M \leftarrow \beta_1 M + (1 - \beta_1)\, g, \qquad G \leftarrow \beta_2 G + (1 - \beta_2)\, g \odot g$$

$$\hat M = \frac{M}{1 - \beta_1^{\,t}}, \qquad \hat G = \frac{G}{1 - \beta_2^{\,t}}, \qquad
x \leftarrow x - \frac{\eta}{\sqrt{\hat G + \epsilon}} \odot \hat M$$

Write `Adam.adam(x, gradient_x, G, M, t, init_lr)`; it returns `(x, G, M, t + 1)`. The hyperparameters
are `self.beta1`, `self.beta2` and `self.epsilon`. The given `step()` calls it for every key with the
same `t` and advances `self.t` once per step (the book advanced it once per *key*, so with `W` and `b`
the two keys saw different values of $t$).""")

TRAINING = N_(r"""`train_f(model, optimizer, x_init, epoch)` runs `epoch` steps on a 2D function and returns the
points it visited and their losses; `train(data, model, optimizer, loss_fn, epochs, batch_size)` trains
the linear model in mini-batches.

`train_f` records a real copy (`clone`) of the point at each step. The book appended the tensor itself:
an optimizer that updates in place (`x -= ...`) keeps changing that one tensor, so every recorded point
became the last one and the plotted trajectory collapsed to a dot.""")

EXPERIMENT_CODE = N_(r"""Every run's hyperparameters, the computations behind each figure, and the drawing code. The
figures are drawn headless (without `pyplot`) and saved as files in `figures/`; the cells below show
them. Outside Jupyter, `python optimizers.py` draws them all.""")

TRAJECTORIES = N_(r"""Each optimizer on the bowl $f(x) = 0.2\, x_1^2 + 2\, x_2^2$ from $(3, 4)$, over its contour lines.
If a cell stops with `NotImplementedError: implement ...`, the method it names is still blank: write it,
then run the cells again.""")

FITTING = N_(r"""Each optimizer training the linear model: the loss per iteration and the mean loss per epoch, 30
epochs of batch 64 on the fitting data, every run starting from `torch.manual_seed(0)`.""")

COMPARISONS = N_(r"""All the optimizers on one surface, as an animation:

- **Tilted cubic** $x_1^2 + x_2^2 + x_2^3 + x_1 x_2$ from $(2, 3)$: a minimum at 0 and a saddle at
  $(0.25, -0.5)$. Momentum, and Nesterov with these settings, run past the saddle and off to
  $-\infty$; the legend says at which step a trajectory left the plot.
- **Narrow bowl** $x_1^2 / 20 + x_2^2$ from $(-7, 2)$.
- **Saddle** $-x_1^2 / 2 + x_2^2$ from $(10^{-5}, 0.5)$: plain gradient descent stays stuck at the
  saddle; the adaptive methods and Momentum escape along $x_1$.

The notebook draws 20 frames per animation to stay quick; `python optimizers.py` draws 50.""")

SELF_CHECK = N_(r"""From the project folder:

```bash
pytest grader                                            # checks assignments/optimizers.py
pytest grader --submission assignments/optimizers.ipynb  # checks this notebook instead
```

Each part (AdaGrad, RMSprop, Momentum, Adam, and the trajectory) passes or fails on its own. For a
part that fails, the grader shows the smallest input on which your code goes wrong, and the mistake it
most likely is. Only the classes and functions count, not the outputs of these cells.""")
