"""Overlapping text in a matplotlib figure: every pair of visible text boxes that intersect.

Boxes come from `get_window_extent` after a draw: titles, axis labels, tick labels, offset texts, legends (the
legend frame as one box) and figure texts, of every axes (colour bars are axes too). Pairs within one axis's
tick labels, across the axes of a figure, and between a legend and any text outside it are all compared; a
margin of `pad` pixels lets boxes touch.
"""
from __future__ import annotations

import itertools


def _visible(t) -> bool:
    return t.get_visible() and bool(t.get_text().strip()) and t.get_alpha() != 0


def text_boxes(fig, dpi: float = 110) -> list[tuple[str, object]]:
    """(label, Bbox) of every visible text element of `fig`, in display pixels, laid out as one draw at `dpi`
    (what `checks.outputs.io.save_figure` writes: one savefig draw at 110 dpi)."""
    fig.set_dpi(dpi)
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    out = []
    for i, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        name = f"axes{i}" + (f"({ax.get_label()})" if ax.get_label() and not ax.get_label().startswith("<") else "")
        texts = [("title", t) for t in (ax.title, ax._left_title, ax._right_title)]
        texts += [("xlabel", ax.xaxis.label), ("ylabel", ax.yaxis.label),
                  ("xoffset", ax.xaxis.get_offset_text()), ("yoffset", ax.yaxis.get_offset_text())]
        for axis, which in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            lo, hi = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                loc = tick.get_loc()
                if loc is None or not (lo - 1e-12 * abs(hi - lo) <= loc <= hi + 1e-12 * abs(hi - lo)):
                    continue
                for lab in (tick.label1, tick.label2):
                    if lab.get_visible():
                        texts.append((f"{which}tick {lab.get_text()!r}", lab))
        texts += [("text " + repr(t.get_text()[:20]), t) for t in ax.texts]
        for label, t in texts:
            if _visible(t):
                out.append((f"{name} {label}", t.get_window_extent(r)))
        leg = ax.get_legend()
        if leg is not None and leg.get_visible():
            out.append((f"{name} legend", leg.get_window_extent(r)))
    for t in fig.texts:
        if _visible(t) and t is not getattr(fig, "_suptitle", None):
            out.append((f"figure text {t.get_text()[:20]!r}", t.get_window_extent(r)))
    if getattr(fig, "_suptitle", None) is not None and _visible(fig._suptitle):
        out.append(("suptitle", fig._suptitle.get_window_extent(r)))
    for leg in fig.legends:
        out.append(("figure legend", leg.get_window_extent(r)))
    return out


def overlaps(fig, pad: float = 1.0) -> list[str]:
    """Descriptions of the intersecting pairs of text boxes of `fig` (empty when nothing collides)."""
    boxes = text_boxes(fig)
    found = []
    for (la, a), (lb, b) in itertools.combinations(boxes, 2):
        if a.width <= 0 or a.height <= 0 or b.width <= 0 or b.height <= 0:
            continue
        w = min(a.x1, b.x1) - max(a.x0, b.x0)
        h = min(a.y1, b.y1) - max(a.y0, b.y0)
        if w > pad and h > pad:
            found.append(f"{la} × {lb} ({w:.0f}×{h:.0f} px)")
    return found


def drawn(path, min_px: tuple = (300, 200), min_ink: float = 0.01) -> bool:
    """Whether the PNG at `path` is a real figure: it decodes, is at least `min_px` (width, height) pixels, and more
    than `min_ink` of its pixels differ from the background (the corner pixel) — not an empty or blank canvas."""
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(str(path))
    h, w = img.shape[:2]
    ink = float(np.mean(np.any(np.abs(img[..., :3] - img[0, 0, :3]) > 0.02, axis=-1)))
    return w >= min_px[0] and h >= min_px[1] and ink > min_ink
