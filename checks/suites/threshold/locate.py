"""The n* locator of the threshold checks: the smallest grid n from which the median train MSE stays above a
stated fraction of σ²."""
from __future__ import annotations

INTERPOLATING = 0.1  # tolerance: below n* the median train MSE is ≤ 0.1 σ² ("interpolates")


def locate_threshold(ns, train_med, sigma2, fraction):
    """(n*, lower bracket): the smallest grid n from which the median train MSE stays ≥ fraction·σ²."""
    above = [t >= fraction * sigma2 for t in train_med]
    for i in range(len(ns)):
        if all(above[i:]):
            return ns[i], (ns[i - 1] if i > 0 else None)
    return None, ns[-1]
