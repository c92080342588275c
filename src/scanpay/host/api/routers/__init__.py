"""One router per resource of the host's HTTP API."""

__all__: list[str] = []
