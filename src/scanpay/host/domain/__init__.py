"""The host's pure domain core: rules with no I/O and no clock unless passed in.

- :mod:`~scanpay.host.domain.uscc`: merchant licence numbers (GB 32100);
- :mod:`~scanpay.host.domain.parties`: merchant and terminal states, set-up data;
- :mod:`~scanpay.host.domain.versions`: terminal software versions;
- :mod:`~scanpay.host.domain.payment_state`: the payment state machine;
- :mod:`~scanpay.host.domain.ledger`: double-entry posting rules and the ledger check;
- :mod:`~scanpay.host.domain.wallet_codes`: the built-in wallet's one-time codes;
- :mod:`~scanpay.host.domain.pin`: the PIN rule and lockout;
- :mod:`~scanpay.host.domain.risk`: risk decisions before authorisation;
- :mod:`~scanpay.host.domain.fingerprint`: request fingerprints for idempotency.
"""

__all__: list[str] = []
