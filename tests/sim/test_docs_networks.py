"""docs/networks.md describes every route and every outcome the simulator has."""

from __future__ import annotations

from pathlib import Path

from scanpay.sim.wechat import create_app
from scanpay.sim.wechat.outcomes import DESCRIPTIONS, Outcome
from sim.common_kit import path_shape, routes_of
from support import ROOT

DOC = (ROOT / "docs" / "networks.md").read_text()


def test_every_route_is_documented(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    routes = routes_of(app.fastapi.router)
    assert len(routes) > 30
    documented = path_shape(DOC)
    for path, methods in routes:
        shaped = path_shape(path)
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
