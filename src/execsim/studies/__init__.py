"""Studies built from the library: the demo's execution study."""

from execsim.studies.demo import DemoConfig, DemoResult, run_demo

__all__ = ["DemoConfig", "DemoResult", "run_demo"]
