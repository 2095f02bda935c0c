"""Service probes for the operator: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import ipaddress
from typing import Any

from litestar import Controller, Request, get
from litestar.response import Response

from contest import operations
from contest.enums import Role
from contest.errors import DomainError, PermissionDenied
from contest.guards import require_actor
from contest.settings import get_settings
from contest.web import client_address


class OperationsApi(Controller):
    include_in_schema = False

    @get("/healthz", cache_control=None)
    async def healthz(self) -> Response[dict[str, str]]:
        """The process serves requests (nothing else is checked: restart it if this fails)."""
        return Response({"status": "ok"}, headers={"Cache-Control": "no-store"})

    @get("/readyz")
    async def readyz(self, request: Request) -> Response[dict[str, Any]]:
        """Whether to send this process traffic: the database and the storage answer. Redis is
        reported but optional (jobs wait in the outbox while it is away)."""
        link = getattr(request.app.state, "redis_link", None)
        if link is not None and link.pool is None:
            ready, report = await operations.readiness(None)
            report["redis"] = "down"
        else:
            ready, report = await operations.readiness(link.pool if link is not None else None)
        return Response({"status": "ok" if ready else "unavailable", **report}, status_code=200 if ready else 503,
                        headers={"Cache-Control": "no-store"})

    @get("/metrics")
    async def metrics(self, request: Request) -> Response[bytes]:
        """Prometheus metrics, for an administrator's token or an address in ``METRICS_ALLOW``."""
        if not metrics_allowed(request):
            raise PermissionDenied("You do not have permission to do this.")
        return Response(await operations.render_metrics(), media_type="text/plain; version=0.0.4; charset=utf-8",
                        headers={"Cache-Control": "no-store"})


def metrics_allowed(request: Request) -> bool:
    try:
        actor = require_actor(request)  # signed in, and past two-factor where it is required
    except DomainError:
        actor = None
    if actor is not None and actor.role == Role.admin:
        return True
    allowed = get_settings().metrics_allow
    if not allowed:
        return False
    try:
        address = ipaddress.ip_address(client_address(request.scope))
    except ValueError:
        return False
    return any(address in network for network in allowed)
