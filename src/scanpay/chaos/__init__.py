"""Proving it: fault injection for the exactly-once invariants."""

from scanpay.chaos.proxy import Fault, FaultPlan, FaultProxy, RandomFaults, RequestInfo

__all__ = ["Fault", "FaultPlan", "FaultProxy", "RandomFaults", "RequestInfo"]
