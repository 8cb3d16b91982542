"""What every figure shares: headless figures, a fixed palette, masking of points that left the plot."""

import numpy as np

# One colour per optimizer, the same in every figure.
COLORS = {
    "SGD": "#1f77b4",
    "AdaGrad": "#ff7f0e",
    "RMSprop": "#2ca02c",
    "Momentum": "#d62728",
    "Nesterov": "#9467bd",
    "Adam": "#8c564b",
}

# No timestamps in the files, so the same run writes the same bytes.
PNG_METADATA = {"Software": None}


def new_figure(width=6.4, height=4.8, dpi=100):
    """A figure on the Agg canvas, made without pyplot: no window, no global state, nothing to close."""
    # Imported here, not at the top: importing matplotlib loads (and the first time writes) its font
    # cache, and the student file built from these modules must import without side effects.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def save_png(figure, path):
    figure.savefig(path, format="png", metadata=PNG_METADATA)


def inside(points, domain):
    """Numpy copy of points [n, 2] where any point that is not finite or lies outside the domain is NaN.

    matplotlib breaks a line at NaN, so a diverging trajectory is drawn up to where it leaves the box.
    """
    points = np.array(points, dtype=np.float64)
    (low1, high1), (low2, high2) = domain
    with np.errstate(invalid="ignore"):
        keep = (
            np.isfinite(points).all(axis=1)
            & (low1 <= points[:, 0]) & (points[:, 0] <= high1)
            & (low2 <= points[:, 1]) & (points[:, 1] <= high2)
        )
    points[~keep] = np.nan
    return points


def first_exit(points, domain):
    """Index of the first point outside the domain (or not finite), or None if it never leaves."""
    outside = np.isnan(inside(points, domain)).any(axis=1)
    return int(np.argmax(outside)) if outside.any() else None


def grid(domain, n):
    """Meshgrid of n x n points over the domain, as float64 arrays (x1, x2)."""
    (low1, high1), (low2, high2) = domain
    return np.meshgrid(np.linspace(low1, high1, n), np.linspace(low2, high2, n))
