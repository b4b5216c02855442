"""Hypothesis strategies of intrinsic instance families (public: users write their own property tests with them)."""
from __future__ import annotations

__all__: list[str] = []
