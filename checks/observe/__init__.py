"""Observables several suites read from a trained network: `neurons` (clusters, merging, pruning)."""
