"""Route dependencies: the host context and the authenticated terminal.

Both are ``async``: they only read the request, and FastAPI runs a plain
function dependency in its thread pool, a hand-over to another thread and back
for every request and dependency.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from scanpay.host.api.security import HEADER_SOFTWARE_VERSION, STATE_IDENTITY
from scanpay.host.errors import HostError
from scanpay.host.services.auth import TerminalIdentity
from scanpay.host.services.context import HostContext
from scanpay.protocol.signing import HEADER_SIGNATURE_VERSION

__all__ = ["CurrentTerminal", "HostDep"]


async def _host(request: Request) -> HostContext:
    ctx: HostContext = request.app.state.ctx
    return ctx


async def _terminal(
    request: Request,
    # The four signature headers are the operation's security requirement in the
    # OpenAPI document (scanpay.host.api.openapi); SignedEnvelope has checked them.
    x_version: Annotated[
        str | None, Header(alias=HEADER_SOFTWARE_VERSION, description="Terminal software version")
    ] = None,
    x_signature_version: Annotated[
        str | None,
        Header(
            alias=HEADER_SIGNATURE_VERSION,
            description=(
                "2: the reply is signed over v2\\nSTATUS\\nTIMESTAMP\\nNONCE\\nSHA256_HEX(BODY)"
                "\\nREQUEST_SIGNATURE, bound to this request. Absent: version 1 (unbound), "
                "served until the host's legacy_signature_until, then 426 / 26"
            ),
        ),
    ] = None,
) -> TerminalIdentity:
    identity = request.scope.get("state", {}).get(STATE_IDENTITY)
    if not isinstance(identity, TerminalIdentity):  # pragma: no cover - envelope missing
        raise HostError("63")
    return identity


HostDep = Annotated[HostContext, Depends(_host)]
CurrentTerminal = Annotated[TerminalIdentity, Depends(_terminal)]
