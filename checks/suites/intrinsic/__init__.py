"""Intrinsic dynamics (INTR, Marcotte–Peyré–Gribonval; MPG-P8–P11): relaxed-balanced two-layer linear nets z = UVᵀ
and the depth-3 chain, on E8's setups. Every prediction comes from `theory.intrinsic`; the linear flows use the
engine's gradient (`numerics.loss_and_grad`, activation="linear")."""
from checks.suites.intrinsic.depth3_chain import DepthThreeChain
from checks.suites.intrinsic.linear_flow import flow
from checks.suites.intrinsic.kernel_inclusion import KernelInclusion, torch_inclusion
from checks.suites.intrinsic.relaxed_balanced_metric import IntrinsicMetric
from checks.suites.intrinsic.two_trajectories import TwoTrajectories, same_z_and_laws

__all__ = ["DepthThreeChain", "IntrinsicMetric", "KernelInclusion", "TwoTrajectories", "flow", "same_z_and_laws",
           "torch_inclusion"]
