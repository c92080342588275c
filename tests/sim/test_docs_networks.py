"""docs/networks.md describes every route and every outcome the simulator has."""

from __future__ import annotations

import re
from pathlib import Path

from scanpay.sim.wechat import create_app
from scanpay.sim.wechat.outcomes import DESCRIPTIONS, Outcome
from support import ROOT

DOC = (ROOT / "docs" / "networks.md").read_text()


def _routes(router: object) -> list[tuple[str, set[str]]]:
    found = []
    for route in getattr(router, "routes", []):
        inner = getattr(route, "original_router", None)
        if inner is not None:
            found += _routes(inner)
        elif hasattr(route, "path"):
            found.append((route.path, set(getattr(route, "methods", None) or [])))
    return found


def _shape(text: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", text)


def test_every_route_is_documented(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    routes = _routes(app.fastapi.router)
    assert len(routes) > 30
    documented = _shape(DOC)
    for path, methods in routes:
        shaped = _shape(path)
        assert shaped in documented, path
        for method in methods - {"HEAD"}:
            # v2 is all POST, said once for its table
            v2 = path.startswith(("/pay/", "/secapi/"))
            assert v2 or f"{method} {shaped}" in documented, (method, path)
    app.state.sim.store.close()


def test_every_outcome_is_documented() -> None:
    for outcome in Outcome:
        assert f"| `{outcome.value}` |" in DOC, outcome
        assert outcome in DESCRIPTIONS
