"""The one error type of `theory`: bad input to a public function (names the argument, the expected form, the fix)."""
from __future__ import annotations

__all__ = ["TheoryError"]


class TheoryError(ValueError):
    """Raised for bad input to `theory`: the message names the argument, the expected form and the fix."""
