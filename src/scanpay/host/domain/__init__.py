"""The host's pure domain core: rules with no I/O and no clock unless passed in.

- :mod:`~scanpay.host.domain.uscc`: merchant licence numbers (GB 32100);
- :mod:`~scanpay.host.domain.parties`: merchant and terminal states, set-up data;
- :mod:`~scanpay.host.domain.versions`: terminal software versions;
- :mod:`~scanpay.host.domain.payment_state`: the payment state machine;
- :mod:`~scanpay.host.domain.ledger`: double-entry posting rules and the ledger check;
- :mod:`~scanpay.host.domain.wallet_codes`: the built-in wallet's one-time codes;
- :mod:`~scanpay.host.domain.pin`: the PIN rule and lockout;
- :mod:`~scanpay.host.domain.risk`: the table-driven risk rules (limits, velocity,
  failed-code lockout, duplicates, refund share);
- :mod:`~scanpay.host.domain.fingerprint`: request fingerprints for idempotency;
- :mod:`~scanpay.host.domain.refunds`: how much may be refunded, and the payment's next state;
- :mod:`~scanpay.host.domain.orders`: merchant-presented orders: states and the QR payload;
- :mod:`~scanpay.host.domain.audit`: the audit trail's hash chain (canonical JSON);
- :mod:`~scanpay.host.domain.settlement`: business days, half-up fees, net, the CSV file;
- :mod:`~scanpay.host.domain.batch`: a terminal's day-close batch against the host's lines;
- :mod:`~scanpay.host.domain.sealing`: terminal keys and wallet secrets sealed at rest.
"""

__all__: list[str] = []
