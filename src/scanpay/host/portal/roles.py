"""Who may do what in the merchant portal: roles, permissions and the rules between them.

Pure. A merchant's users are ``owner`` (everything for their merchant, refunds
and terminal keys included), ``accountant`` (reads and exports) and
``read_only`` (reads); the acquirer's ``operator`` reviews applications and
merchants, sets limits and fee rates, and checks the audit trail. Merchant
pages are for merchant users only, operator pages for operators only.

>>> can(Role.OWNER, Permission.REFUND), can(Role.ACCOUNTANT, Permission.REFUND)
(True, False)
>>> parse_role("read-only")
<Role.READ_ONLY: 'read_only'>
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["MERCHANT_ROLES", "Permission", "Role", "can", "parse_role"]


class Role(StrEnum):
    OWNER = "owner"
    ACCOUNTANT = "accountant"
    READ_ONLY = "read_only"
    OPERATOR = "operator"


class Permission(StrEnum):
    #: The merchant's pages: today, transactions, orders, refunds, settlements, terminals.
    VIEW = "view"
    #: CSV/XLSX exports and settlement files.
    EXPORT = "export"
    #: Refund a payment.
    REFUND = "refund"
    #: Rotate a terminal's key.
    MANAGE_TERMINALS = "manage_terminals"
    #: The acquirer's pages: applications, merchants, limits, fee rates, audit.
    OPERATE = "operate"


#: The roles of a merchant's users (an operator belongs to no merchant).
MERCHANT_ROLES: frozenset[Role] = frozenset({Role.OWNER, Role.ACCOUNTANT, Role.READ_ONLY})

_GRANTS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(
        {Permission.VIEW, Permission.EXPORT, Permission.REFUND, Permission.MANAGE_TERMINALS}
    ),
    Role.ACCOUNTANT: frozenset({Permission.VIEW, Permission.EXPORT}),
    Role.READ_ONLY: frozenset({Permission.VIEW}),
    Role.OPERATOR: frozenset({Permission.OPERATE}),
}


def can(role: Role | str, permission: Permission) -> bool:
    """Whether ``role`` grants ``permission`` (an unknown role grants nothing)."""
    try:
        return permission in _GRANTS[Role(role)]
    except ValueError:
        return False


def parse_role(text: str) -> Role:
    """A role from what a person types (``read-only``, ``readonly``, ``Owner``...).

    Raises :class:`ValueError` for anything else.
    """
    key = text.strip().lower().replace("-", "_")
    if key == "readonly":
        key = "read_only"
    try:
        return Role(key)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r} (one of {names})") from None
