"""Public Hypothesis strategies of the instance families the checks draw from.

Each strategy draws instances inside a theorem's hypotheses (any Assumption-3 data set, any fixed gating, any
teacher β*, any small architecture, any relaxed-balanced init, any cone problem). The checks use them through their
`family`; use them in your own property tests:

    from hypothesis import given
    from checks import strategies

    @given(strategies.small_architectures())
    def test_my_claim(arch): ...
"""
from checks.strategies.conservation import *  # noqa: F401,F403
from checks.strategies.early_alignment import *  # noqa: F401,F403
from checks.strategies.intrinsic import *  # noqa: F401,F403
from checks.strategies.conservation import *  # noqa: F401,F403
from checks.strategies.racing import *  # noqa: F401,F403
from checks.strategies.threshold import *  # noqa: F401,F403
from checks.strategies import conservation, early_alignment, intrinsic, racing, threshold

__all__ = sorted({*conservation.__all__, *early_alignment.__all__, *intrinsic.__all__, *racing.__all__,
                  *threshold.__all__})
