"""Machine learning for execution: policies and cost models fitted on simulated data."""

from execsim.ml.cost_policy import CostAwarePolicy, ExplorePolicy, training_examples

__all__ = ["CostAwarePolicy", "ExplorePolicy", "training_examples"]
