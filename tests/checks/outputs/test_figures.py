"""Every check's figures, drawn from its quick-tier outcome: no two text boxes overlap (tick labels, axis and
colour-bar labels, titles, legends, within and across axes), and every main figure has a legend naming what it
shows. The outcome is shared with the teeth test through `quick_outcomes` (computed once per session)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from figure_overlap import overlaps  # noqa: E402
from quick_outcomes import quick_outcome  # noqa: E402

from checks.runner import api  # noqa: E402

CHECKS = [c.name for c in api.discover()]
NO_LEGEND = {".cosine"}  # heat maps: a colour bar instead of a legend


def _figures(name):
    check, d, out = quick_outcome(name)
    verdict = check.verdicts(out, "quick")[0]
    return check.figures(d, out.predicted, out.observed, verdict) or {}


@pytest.mark.parametrize("name", CHECKS)
def test_figure_text_does_not_overlap(name):
    try:
        figs = _figures(name)
        problems = {f"{name}{suffix}": overlaps(fig) for suffix, fig in figs.items()}
        legends = {f"{name}{suffix}": any(ax.get_legend() is not None for ax in fig.axes) or bool(fig.legends)
                   for suffix, fig in figs.items() if suffix not in NO_LEGEND}
    finally:
        plt.close("all")
    assert not any(problems.values()), {k: v for k, v in problems.items() if v}
    assert all(legends.values()), f"figures without a legend: {[k for k, v in legends.items() if not v]}"


def test_overlap_detector_finds_a_collision():
    fig, (a, b) = plt.subplots(1, 2, figsize=(3, 2))
    a.set_ylabel("a long label " * 3)
    b.set_ylabel("another long label " * 3)
    a.set_xticks(range(20), [f"tick {i}" for i in range(20)])
    try:
        found = overlaps(fig)
    finally:
        plt.close(fig)
    assert any("xtick" in f for f in found)
