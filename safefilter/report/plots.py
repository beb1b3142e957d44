"""Plots as inline PNG data URIs (matplotlib, Agg backend): the page needs no network to show them."""
from __future__ import annotations

import base64
import io
from typing import Mapping, Sequence

__all__ = ["bar_chart", "histogram", "binned_histograms"]


def _png(fig) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(height: float):
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(6, height))


def bar_chart(labels: Sequence[str], values: Sequence[int], title: str) -> str | None:
    """Horizontal bars, largest on top; None when there is nothing to draw."""
    if not labels:
        return None
    fig, ax = _figure(0.6 + 0.3 * len(labels))
    ax.barh(list(reversed(labels)), list(reversed(values)), color="#c0392b")
    ax.set_title(title)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return _png(fig)


def histogram(values: Sequence[float], title: str, bins: int = 20) -> str | None:
    if not values:
        return None
    fig, ax = _figure(2.6)
    ax.hist(values, bins=bins, range=(0.0, 1.0), color="#2c3e50")
    ax.set_title(title)
    ax.set_xlabel("score")
    ax.set_ylabel("findings")
    return _png(fig)


def binned_histograms(counts: Mapping[str, Sequence[int]], title: str) -> str | None:
    """Already-binned counts over [0, 1], one step line per category, log scale: clean trajectories
    pile up near 0 and would flatten the tail that matters."""
    if not counts or not any(sum(v) for v in counts.values()):
        return None
    fig, ax = _figure(2.8)
    for category, values in counts.items():
        bins = len(values)
        edges = [i / bins for i in range(bins + 1)]
        ax.stairs(list(values), edges, label=category, linewidth=1.6)
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlim(0, 1)
    ax.set_title(title)
    ax.set_xlabel("highest score over the trajectory's actions")
    ax.set_ylabel("trajectories")
    ax.legend(fontsize=8, frameon=False)
    return _png(fig)
