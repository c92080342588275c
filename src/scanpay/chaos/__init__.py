"""Proving it: fault injection for the exactly-once invariants.

- :mod:`scanpay.chaos.proxy` - the fault-injecting HTTP proxy (exported here);
- :mod:`scanpay.chaos.harness` - ``scanpay chaos``: sales under faults, kills and
  restarts, recovery, settlement, then the invariants;
- :mod:`scanpay.chaos.invariants` and :mod:`~scanpay.chaos.network_invariants` - the
  invariants, pure checks over collected facts (:mod:`~scanpay.chaos.facts`);
- :mod:`~scanpay.chaos.config`, :mod:`~scanpay.chaos.shop`,
  :mod:`~scanpay.chaos.terminals`, :mod:`~scanpay.chaos.cashier`,
  :mod:`~scanpay.chaos.faults`, :mod:`~scanpay.chaos.network`,
  :mod:`~scanpay.chaos.rails`,
  :mod:`~scanpay.chaos.collect`, :mod:`~scanpay.chaos.report`,
  :mod:`~scanpay.chaos.customers`, :mod:`~scanpay.chaos.processes`,
  :mod:`~scanpay.chaos.postgres` - the harness's parts.

The harness is not imported here: importing the proxy stays cheap.
"""

from scanpay.chaos.proxy import Fault, FaultPlan, FaultProxy, RandomFaults, RequestInfo

__all__ = ["Fault", "FaultPlan", "FaultProxy", "RandomFaults", "RequestInfo"]
