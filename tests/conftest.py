import sys
from pathlib import Path

# tests/ holds shared helpers (kernel_cases, quick_outcomes, ...). Its folders mirror the packages (tests/theory,
# tests/numerics, tests/checks) and have no __init__.py, so with an editable install (a meta-path finder, found after
# sys.path) a bare `import theory` would resolve to the namespace folder tests/theory. The repository root goes
# first, so the real packages always win.
_TESTS = Path(__file__).resolve().parent
sys.path[:0] = [str(_TESTS.parent), str(_TESTS)]
import os

import torch
from hypothesis import HealthCheck, settings

torch.set_num_threads(1)
torch.set_default_dtype(torch.float64)

settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
