"""Training loop: records, early exit, divergence errors, init schemes, invariants."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import numerics
from numerics import data
from numerics.train import DivergenceError, checkpoint_steps
from numerics.validate import InputError


def _problem(seed=0, n=20, d=5):
    ds = data.gaussian_regression(n=n, d=d, seed=seed)
    return torch.tensor(ds.X), torch.tensor(ds.y)


def test_record_shapes_and_time():
    X, y = _problem()
    W, a = numerics.init_params(6, 5, scale=0.5, seed=1)
    tr = numerics.train(X, y, W, a, lr=0.01, horizon=1.0, n_checkpoints=10, stop_tol=0)
    assert tr.step[0] == 0 and tr.step[-1] == 100
    np.testing.assert_allclose(tr.time, tr.step * 0.01)
    assert tr.W.shape == (len(tr), 6, 5) and tr.a.shape == (len(tr), 6)
    assert tr.patterns.shape == (len(tr), 20, 6)
    np.testing.assert_allclose(tr.w_norm, np.linalg.norm(tr.W, axis=-1))
    assert tr.loss[-1] < tr.loss[0]


def test_checkpoints_log_and_linear():
    c = checkpoint_steps(1000, n_log=5, linear_every=250, extra=[7])
    assert {0, 1, 7, 250, 500, 750, 1000} <= set(c.tolist())
    assert np.all(np.diff(c) > 0)


def test_divergence_names_step_size():
    X, y = _problem()
    W, a = numerics.init_params(6, 5, scale=3.0, scheme="gaussian", seed=1)
    with pytest.raises(DivergenceError, match=r"lr=50.*smaller"):
        numerics.train(X * 10, y, W, a, lr=50.0, steps=200)


def test_early_exit_when_parameters_stop():
    X, y = _problem()
    W, a = torch.zeros(3, 5), torch.zeros(3)  # a saddle: the gradient is exactly zero
    tr = numerics.train(X, y, W, a, lr=0.1, steps=10_000)
    assert tr.stopped_early and tr.step[-1] == 1


@pytest.mark.parametrize("opt", ["sgd", "adam"])
def test_other_optimizers_reduce_loss(opt):
    X, y = _problem()
    W, a = numerics.init_params(10, 5, scale=0.5, seed=2)
    tr = numerics.train(X, y, W, a, lr=0.02, steps=300, optimizer=opt, batch_size=5, seed_batch=3)
    assert tr.loss[-1] < tr.loss[0]


def test_sgd_batch_seed_is_reproducible_and_separate():
    X, y = _problem()
    W, a = numerics.init_params(4, 5, scale=0.5, seed=2)
    runs = [numerics.train(X, y, W, a, lr=0.05, steps=50, optimizer="sgd", batch_size=4, seed_batch=s).W[-1]
            for s in (0, 0, 1)]
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])


@given(st.integers(1, 30), st.integers(1, 6), st.sampled_from([None, 2]), st.integers(0, 1000))
def test_init_schemes(m, d, k, seed):
    W, a = numerics.init_params(m, d, scale=0.1, scheme="balanced", k=k, seed=seed)
    an = a.abs() if k is None else a.norm(dim=-1)
    torch.testing.assert_close(an, W.norm(dim=-1))
    W, a = numerics.init_params(m, d, scale=0.1, scheme="dominated", k=k, seed=seed)
    an = a.abs() if k is None else a.norm(dim=-1)
    assert bool((an >= W.norm(dim=-1) - 1e-15).all())
    W2, a2 = numerics.init_params(m, d, scale=0.1, scheme="dominated", k=k, seed=seed)
    assert torch.equal(W, W2) and torch.equal(a, a2)


@given(st.integers(0, 10_000), st.sampled_from(["balanced", "dominated"]))
def test_sign_of_a_frozen_under_balanced_or_dominated_init(seed, scheme):
    """BF-P3 / F3.1 corollary: |a_j| ≥ ‖w_j‖ keeps sign(a_j) fixed (GD, small step)."""
    X, y = _problem(seed)
    W, a = numerics.init_params(8, 5, scale=0.3, scheme=scheme, seed=seed)
    tr = numerics.train(X, y, W, a, lr=0.01, horizon=3.0, n_checkpoints=20)
    assert np.all(np.sign(tr.a) == np.sign(tr.a[0]))


def test_batched_seeds_equal_loop():
    X, y = _problem()
    W, a = numerics.init_params(5, 5, scale=0.3, seed=10, n_seeds=3)
    tb = numerics.train(X, y, W, a, lr=0.05, steps=40, stop_tol=0)
    for s in range(3):
        Ws, as_ = numerics.init_params(5, 5, scale=0.3, seed=10 + s)
        ts = numerics.train(X, y, Ws, as_, lr=0.05, steps=40, stop_tol=0)
        np.testing.assert_allclose(tb.W[:, s], ts.W, rtol=1e-12, atol=1e-14)


@settings(max_examples=6)
@given(st.integers(1, 4), st.integers(2, 30), st.integers(1, 12), st.booleans(), st.integers(0, 10_000))
def test_per_seed_data_batch_equals_loop(seeds, n, m, vector, seed):
    """Any seed count and size: S data sets X (S, n, d) trained in one batched run give each seed's own run."""
    rng = np.random.default_rng(seed)
    Xs = rng.standard_normal((seeds, n, 3))
    ys = rng.standard_normal((seeds, n, 2) if vector else (seeds, n))
    W, a = numerics.init_params(m, 3, scale=0.5, scheme="gaussian", seed=seed, n_seeds=seeds, k=2 if vector else None)
    tb = numerics.train(Xs, ys, W, a, lr=0.05, steps=30, stop_tol=0, progress=False)
    for s in range(seeds):
        ts = numerics.train(Xs[s], ys[s], W[s], a[s], lr=0.05, steps=30, stop_tol=0, progress=False)
        np.testing.assert_allclose(tb.W[:, s], ts.W, rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(tb.loss[:, s], ts.loss, rtol=1e-11, atol=1e-15)
        assert np.array_equal(tb.patterns[:, s], ts.patterns)


def test_per_seed_data_shape_errors_name_the_fix():
    X, y = np.zeros((2, 5, 3)), np.zeros((2, 5))
    W, a = numerics.init_params(4, 3, scale=0.5, seed=0, n_seeds=3)
    with pytest.raises(numerics.InputError, match=r"per-seed data for 2 seeds needs W of shape \(2, m, d\)"):
        numerics.train(X, y, W, a, lr=0.1, steps=2)
    W, a = numerics.init_params(4, 3, scale=0.5, seed=0, n_seeds=2)
    with pytest.raises(numerics.InputError, match=r"y must have shape \(2, n\)"):
        numerics.train(X, y[0], W, a, lr=0.1, steps=2)
    with pytest.raises(numerics.InputError, match="sgd"):
        numerics.train(X, y, W, a, lr=0.1, steps=2, optimizer="sgd")


@pytest.mark.parametrize("kwargs, match", [
    (dict(lr=0.0), "lr must be"), (dict(lr=-1.0), "lr must be"), (dict(lr=float("nan")), "lr must be"),
    (dict(lr=0.1, horizon=1.0, steps=3), "exactly one"), (dict(lr=0.1, steps=3, optimizer="lbfgs"), "optimizer="),
])
def test_bad_training_arguments(kwargs, match):
    X, y = _problem()
    W, a = numerics.init_params(3, 5, scale=0.1)
    kwargs.setdefault("steps", None) if "horizon" in kwargs else kwargs.setdefault("steps", 3)
    with pytest.raises(InputError, match=match):
        numerics.train(X, y, W, a, **kwargs)


def test_bad_data_shapes():
    W, a = numerics.init_params(3, 5, scale=0.1)
    with pytest.raises(InputError, match="X has n=4 rows but y has 3"):
        numerics.train(torch.ones(4, 5), torch.ones(3), W, a, lr=0.1, steps=1)
    with pytest.raises(InputError, match="NaN"):
        numerics.train(torch.full((4, 5), float("nan")), torch.ones(4), W, a, lr=0.1, steps=1)
    with pytest.raises(InputError, match="d=4"):
        numerics.train(torch.ones(4, 4), torch.ones(4), W, a, lr=0.1, steps=1)
    with pytest.raises(InputError, match="scale"):
        numerics.init_params(3, 5, scale=0.0)


def test_sign_invariant_is_checked_on_every_run():
    """Dominated init at λ = 1 with a large step: GD flips protected signs and the run warns, naming lr."""
    ds = data.stewart(n=40, seed=0)
    W, a = numerics.init_params(200, 2, scale=1.0, scheme="dominated", seed=0)
    with pytest.warns(RuntimeWarning, match="lr=0.05"):
        tr = numerics.train(ds.inputs, ds.y, W, a, lr=0.05, horizon=40.0, record_patterns=False)
    assert tr.frozen_sign_violations() > 0
    W, a = numerics.init_params(200, 2, scale=0.1, scheme="dominated", seed=0)
    assert numerics.train(ds.inputs, ds.y, W, a, lr=0.05, horizon=40.0).frozen_sign_violations() == 0


def test_strict_signs_raises_at_first_flip():
    ds = data.stewart(n=40, seed=0)
    W, a = numerics.init_params(200, 2, scale=1.0, scheme="dominated", seed=0)
    with pytest.raises(numerics.SignFlipError, match=r"lr=0.05.*smaller"):
        numerics.train(ds.inputs, ds.y, W, a, lr=0.05, horizon=40.0, strict_signs=True)


def test_protected_mask_tolerates_roundoff_of_balanced_init():
    from numerics.record import protected

    W, a = numerics.init_params(500, 3, scale=0.1, scheme="balanced", seed=1)
    assert protected(W.numpy(), a.numpy()).all()
    W, a = numerics.init_params(500, 3, scale=0.1, scheme="gaussian", seed=1)
    assert not protected(W.numpy(), a.numpy()).all()


@pytest.mark.parametrize("optimizer, vector, seeds", [("gd", False, None), ("gd", True, None), ("gd", False, 3),
                                                      ("sgd", False, None), ("adam", True, None)])
def test_recorded_grads_and_outputs_are_the_engine_gradient_and_forward(optimizer, vector, seeds):
    """record=("grads", "outputs"): at every checkpoint, the full-batch loss_and_grad and forward at its parameters."""
    ds = data.gaussian_regression(n=15, d=4, k=2 if vector else None, seed=3)
    X, y = torch.tensor(ds.X), torch.tensor(ds.y)
    W, a = numerics.init_params(5, 4, scale=0.7, scheme="gaussian", seed=4, k=2 if vector else None, n_seeds=seeds)
    tr = numerics.train(X, y, W, a, lr=0.05, steps=40, n_checkpoints=6, optimizer=optimizer, batch_size=4,
                        stop_tol=0, record=("grads", "outputs"), progress=False)
    assert tr.grad_W.shape == tr.W.shape and tr.grad_a.shape == tr.a.shape
    assert tr.outputs.shape == (len(tr),) + ((seeds,) if seeds else ()) + tuple(y.shape)
    for c in range(len(tr)):
        Wc, ac = torch.tensor(tr.W[c]), torch.tensor(tr.a[c])
        lg = numerics.loss_and_grad(Wc, ac, X, y)
        np.testing.assert_allclose(tr.grad_W[c], lg.grad_W.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr.grad_a[c], lg.grad_a.numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr.outputs[c], numerics.forward(Wc, ac, X).numpy(), rtol=0, atol=1e-12)
        np.testing.assert_allclose(tr.loss[c], lg.loss.numpy(), rtol=1e-12, atol=0)


def test_record_default_stores_nothing_extra_and_single_name_is_accepted():
    X, y = _problem()
    W, a = numerics.init_params(4, 5, scale=0.5, seed=1)
    tr = numerics.train(X, y, W, a, lr=0.05, steps=5, progress=False)
    assert tr.grad_W is None and tr.grad_a is None and tr.outputs is None and tr.events is None
    tr = numerics.train(X, y, W, a, lr=0.05, steps=5, record="outputs", progress=False)
    assert tr.outputs.shape == (len(tr), 20) and tr.grad_W is None


@pytest.mark.parametrize("record", [("grad",), ("grads", "patterns"), 3])
def test_bad_record_names_the_argument_and_the_valid_values(record):
    X, y = _problem()
    W, a = numerics.init_params(3, 5, scale=0.1)
    with pytest.raises(InputError, match=r"record.*grads.*outputs"):
        numerics.train(X, y, W, a, lr=0.1, steps=2, record=record)


def test_submodules_load_on_attribute_access():
    import subprocess
    import sys

    code = ("import sys, numerics; assert 'numerics.flow' not in sys.modules; "
            "numerics.flow.event_flow; numerics.fidelity.step_halving; numerics.sweep.run_sweep; "
            "numerics.data.stewart; "
            "assert not any(m == 'sympy' or m.startswith(('theory', 'checks')) for m in sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_memory_guard_refuses_before_allocating(monkeypatch):
    """#17 item 3: the estimate, the available memory and the fix, before any step (fast: a tiny limit)."""
    from numerics import memory

    X, y = _problem()
    W, a = numerics.init_params(50, 5, scale=0.5, seed=1, n_seeds=4)
    monkeypatch.setattr(memory, "available_bytes", lambda: 10**6)
    monkeypatch.setattr(numerics.model, "loss_and_grad", None)  # a step taken would fail with another error
    with pytest.raises(InputError, match=r"155 checkpoints × 4 seed\(s\) .* about 4\.13 MiB \(4329920 bytes\), "
                                         r"above the memory limit of 781 KiB \(977 KiB available; "
                                         r"NUMERICS_MEMORY_LIMIT .*"
                                         r"record_patterns=False .* fewer seeds"):
        numerics.train(X, y, W, a, lr=0.01, steps=10_000, n_checkpoints=200, progress=False)
    monkeypatch.setenv("NUMERICS_MEMORY_LIMIT", "0.001")  # a fraction of the available memory: 1000 bytes
    assert memory.limit_bytes() == 1000
    monkeypatch.setenv("NUMERICS_MEMORY_LIMIT", "5e5")  # bytes
    assert memory.limit_bytes() == 500_000
    for bad in ("lots", "-1", "0", "inf"):
        monkeypatch.setenv("NUMERICS_MEMORY_LIMIT", bad)
        with pytest.raises(InputError, match="NUMERICS_MEMORY_LIMIT must be"):
            memory.limit_bytes()
    monkeypatch.delenv("NUMERICS_MEMORY_LIMIT")
    monkeypatch.setattr(memory, "available_bytes", lambda: None)  # unknown: no check
    assert memory.limit_bytes() is None
    memory.check(10**15, "x", "y")


def test_memory_estimate_covers_the_record():
    """The estimate is twice the stored record (lists + stacked copy) plus a working set, and scales with what is
    recorded."""
    from numerics import memory

    X, y = _problem()
    W, a = numerics.init_params(7, 5, scale=0.5, seed=1, n_seeds=3)
    tr = numerics.train(X, y, W, a, lr=0.01, steps=100, n_checkpoints=20, record=("grads", "outputs"),
                        stop_tol=0, progress=False)
    held = sum(getattr(tr, f).nbytes for f in ("loss", "W", "a", "patterns", "grad_W", "grad_a", "outputs"))
    kw = dict(checkpoints=len(tr), seeds=3, n=20, m=7, d=5, k=1)
    est = memory.train_bytes(patterns=True, grads=True, outputs=True, **kw)
    assert 2 * held <= est <= 2 * held + 3 * 8 * (4 * 42 + 2 * 20 * 7 + 20) + 8 * 20 * 6  # params m·d + m·k = 42
    assert memory.train_bytes(patterns=False, grads=False, outputs=False, **kw) < est
    assert memory.available_bytes() is None or memory.available_bytes() > 0
