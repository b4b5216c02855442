"""F1.6 in polar form (theory.polar): symbolic derivations, the λ-exponent reader, wrong formulas rejected."""
import dataclasses

import numpy as np
import pytest
import sympy as sp

from theory import polar
from theory.errors import TheoryError
from theory.network import is_zero


def test_every_polar_identity_verifies():
    out = polar.verify()
    assert out and all(out.values()), {k: v for k, v in out.items() if not v}


def test_scale_exponents():
    assert polar.scale_exponent(polar.ratio_a()) == 1
    assert polar.scale_exponent(polar.ratio_rho()) == 1
    assert polar.scale_exponent(polar.angular_speed()) == 0
    assert polar.scale_exponent(polar.grad_phi()) == 2  # the raw angular gradient is O(λ²)


def test_scale_exponent_rejects_non_homogeneous():
    f = dataclasses.replace(polar.ratio_a(), rhs=polar.ratio_a().rhs + 1)
    with pytest.raises(TheoryError):
        polar.scale_exponent(f)


def test_derived_gradients_differ_from_wrong_forms():
    (d_rho, d_phi, d_a), _ = polar._polar_gradients()
    assert not is_zero(d_phi + polar.grad_phi().rhs)  # the sign is fixed by θ = φ − ψ
    assert not is_zero(d_rho - polar.grad_a().rhs)


def test_numeric_ratio_matches_finite_differences():
    """Chain rule by central differences on L = −a w·m (fixed gating and residual, F1.1)."""
    rng = np.random.default_rng(0)
    m = rng.standard_normal(2)
    rho, phi, a = 0.3, 1.1, 0.2
    L = lambda rho, phi, a: -a * rho * (np.cos(phi) * m[0] + np.sin(phi) * m[1])  # noqa: E731
    h = 1e-6
    g_phi = (L(rho, phi + h, a) - L(rho, phi - h, a)) / (2 * h)
    g_a = (L(rho, phi, a + h) - L(rho, phi, a - h)) / (2 * h)
    theta = phi - np.arctan2(m[1], m[0])
    pred = polar.ratio_a().numeric()(a, rho, np.linalg.norm(m), theta)
    assert abs(abs(g_phi / g_a) - pred) < 1e-7
    assert sp.simplify(polar.fig3_target_angle() - 3 * sp.pi / 4) == 0
