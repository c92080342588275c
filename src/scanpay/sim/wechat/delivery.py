"""How a WeChat reply leaves: the outcome a test chose (SLOW, CHARGED_NO_REPLY) applied
by :func:`scanpay.sim.common.delivery.deliver`, or at once."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from scanpay.sim.common import delivery
from scanpay.sim.wechat.outcomes import Chosen, Outcome

__all__ = ["deliver"]


async def deliver(request: Request, response: Response, chosen: Chosen | None) -> Response:
    """``response``, sent as ``chosen`` (SLOW, CHARGED_NO_REPLY) says, or at once."""
    if chosen is None:
        return response
    return await delivery.deliver(
        request,
        response,
        late=chosen.delay if chosen.outcome is Outcome.SLOW else None,
        drop_after=chosen.delay if chosen.outcome is Outcome.CHARGED_NO_REPLY else None,
    )
