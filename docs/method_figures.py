#!/usr/bin/env python3
"""Draws the two figures of the guide's method chapter (docs/guide/method.md) from the loss's
formula alone: the Siamese pair through one network, and the contrastive loss and its force on
the two arms as functions of the distance D. The files are byte for byte the same on every run.

Usage: python docs/method_figures.py   (needs matplotlib; writes docs/guide/images/method-*.svg)
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parent / "guide" / "images"
PULL, PUSH = "#2166ac", "#b2182b"
SVG = {"metadata": {"Date": None, "Creator": None}}


def box(ax, x, y, text, colour="#f0f0f0", w=1.6, h=0.7):
    """A rounded box centred at (x, y) with `text` in it."""
    ax.add_patch(matplotlib.patches.FancyBboxPatch(
        (x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0.05", fc=colour, ec="#444444"))
    ax.text(x, y, text, ha="center", va="center", fontsize=10)


def arrow(ax, a, b, style="-|>"):
    ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": style, "color": "#444444", "lw": 1.2})


def siamese():
    """X1 and X2 through two copies of G_W that share W, their distance, the loss."""
    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.set_xlim(0, 12.8)
    ax.set_ylim(0, 4)
    ax.axis("off")
    for y, i in ((3.1, 1), (0.9, 2)):
        box(ax, 0.9, y, f"$X_{i}$", w=1.0)
        box(ax, 3.2, y, "$G_W$", colour="#dbe9f6")
        box(ax, 5.6, y, f"$G_W(X_{i})$", w=1.5)
        arrow(ax, (1.45, y), (2.35, y))
        arrow(ax, (4.05, y), (4.8, y))
    ax.annotate("", xy=(3.2, 1.3), xytext=(3.2, 2.7),
                arrowprops={"arrowstyle": "<->", "color": "#444444", "ls": "--"})
    ax.text(3.35, 2.0, "the same W", fontsize=9, va="center")
    box(ax, 8.3, 2.0, "$D_W = \\|G_W(X_1) - G_W(X_2)\\|_2$", colour="#fff7dc", w=3.4, h=0.8)
    arrow(ax, (6.4, 2.95), (7.0, 2.45))
    arrow(ax, (6.4, 1.05), (7.0, 1.55))
    box(ax, 11.7, 2.0, "$L(W, Y, X_1, X_2)$", colour="#fde0dd", w=1.9, h=0.7)
    arrow(ax, (10.05, 2.0), (10.65, 2.0))
    ax.text(11.7, 1.15, "Y = 0: neighbours\nY = 1: not", ha="center", va="top", fontsize=9)
    fig.savefig(OUT / "method-siamese.svg", bbox_inches="tight", **SVG)
    plt.close(fig)


def loss(margin=1.0):
    """L for neighbours and non-neighbours against D, and the force −∂L/∂D on each arm."""
    d = np.linspace(0, 1.6, 321)
    fig, (left, right) = plt.subplots(1, 2, figsize=(8, 3.2))
    left.plot(d, 0.5 * d**2, color=PULL, label="neighbours (Y = 0): ½ D²")
    left.plot(d, 0.5 * np.maximum(0, margin - d) ** 2, color=PUSH,
              label="non-neighbours (Y = 1): ½ max(0, m − D)²")
    left.set(xlabel="distance D in the map", ylabel="loss", title="the contrastive loss (m = 1)")
    left.legend(fontsize=8, loc="upper center")
    right.plot(d, -d, color=PULL, label="neighbours: a spring of rest length 0")
    right.plot(d, np.maximum(0, margin - d), color=PUSH, label="non-neighbours: pushed only inside m")
    right.axhline(0, color="#999999", lw=0.8)
    right.axvline(margin, color="#999999", lw=0.8, ls=":")
    right.set(xlabel="distance D in the map", ylabel="force −∂L/∂D (> 0: apart)", title="what it does")
    right.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    fig.savefig(OUT / "method-loss.svg", **SVG)
    plt.close(fig)


if __name__ == "__main__":
    plt.rcParams["svg.hashsalt"] = "drlim"
    siamese()
    loss()
    print(f"wrote {OUT / 'method-siamese.svg'} and {OUT / 'method-loss.svg'}")
