"""The discrete-event kernel: a deterministic, totally ordered timeline per simulation."""

from execsim.kernel.core import Kernel, KernelError, ScheduledEvent

__all__ = ["Kernel", "KernelError", "ScheduledEvent"]
