"""The engine's own fidelity: the discrete run tracks the gradient flow at the order of its integrator."""
