"""The one error type of `checks`: bad input to a public function, the CLI, a design or a configuration file."""
from __future__ import annotations

__all__ = ["CheckError"]


class CheckError(ValueError):
    """Raised for bad input to `checks`: the message names the argument, the expected form and the fix."""
