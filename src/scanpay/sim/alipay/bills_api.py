"""Where a published bill is downloaded: a short-lived link, as Alipay's (30 seconds).

``GET /downloadBillFile.resource?…&token=…`` serves the zip; an expired or unknown
token is a 404 page, as Alipay's file server answers.
"""

from __future__ import annotations

import secrets
from datetime import date, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.responses import PlainTextResponse, Response

from scanpay.sim.alipay.bill import published, zip_name
from scanpay.sim.alipay.context import Sim
from scanpay.sim.alipay.store import App

__all__ = ["LINK_SECONDS", "bill_url", "bills_router"]

LINK_SECONDS = 30


def bill_url(sim: Sim, app: App, day: date, base_url: str) -> str | None:
    """A download link to the day's bill; None when it is not published."""
    now = sim.network.clock.now()
    with sim.store.transaction():
        if published(sim.store, app, day, now) is None:
            return None
        token = secrets.token_urlsafe(24)
        sim.store.add_token(
            token, app.app_id, day.isoformat(), now + timedelta(seconds=LINK_SECONDS)
        )
    query = urlencode(
        {
            "bizType": "trade",
            "userId": app.pid,
            "fileType": "csv.zip",
            "bizDates": f"{day:%Y%m%d}",
            "downloadFileName": zip_name(app, day),
            "fileId": f"%2Ftrade%2F{app.pid}%2F{day:%Y%m%d}.csv.zip",
            "timestamp": str(int(now.timestamp() * 1000)),
            "token": token,
        }
    )
    return f"{base_url.rstrip('/')}/downloadBillFile.resource?{query}"


def bills_router(sim: Sim) -> APIRouter:
    router = APIRouter()

    @router.get("/downloadBillFile.resource")
    def download(token: str = "") -> Response:
        found = sim.store.token(token) if token else None
        if found is None or found[2] <= sim.network.clock.now():
            return PlainTextResponse("file not found or link expired", status_code=404)
        app_id, day, _ = found
        data = sim.store.bill(app_id, day)
        app = sim.store.app(app_id)
        if data is None or app is None:
            return PlainTextResponse("file not found", status_code=404)
        name = zip_name(app, date.fromisoformat(day))
        return Response(
            data,
            media_type="application/zip",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return router
