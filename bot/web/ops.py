"""/healthz and /metrics (Prometheus) on the desk's port.

The figures about the bot come from the database (so a second instance or `woodpecker web`
alone reports the same); the web door counts its own requests in memory.
"""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web.auth import desk_of
from storage import health


class WebMetrics:
    """One registry per app (tests and a process may build several apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "woodpecker_web_requests",
            "Requests the desk answered.",
            ("method", "endpoint", "status"),
            registry=self.registry,
        )
        self.seconds = Histogram(
            "woodpecker_web_request_seconds",
            "Time to answer a desk request.",
            ("endpoint",),
            registry=self.registry,
        )
        self.snapshot: list = []
        self.registry.register(self)

    def collect(self):  # prometheus_client's collector protocol: the last database snapshot
        yield from self.snapshot


class CountRequests:
    """ASGI middleware: every HTTP request counted by method, endpoint and status, and timed."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            endpoint = scope.get("endpoint")
            name = getattr(endpoint, "__name__", type(endpoint).__name__ if endpoint else "none")
            self.metrics.requests.labels(scope["method"], name, str(status[0])).inc()
            self.metrics.seconds.labels(name).observe(time.perf_counter() - started)


async def healthz(request: Request) -> Response:
    deps = desk_of(request).deps
    now = deps.clock()

    async def read(s):
        await health.ping(s)
        return await health.outbox(s), await health.last_updates(s)

    try:
        (depth, oldest, dead, _failures), last = await deps.db.run(read, write=False)
    except Exception as e:  # the one thing /healthz exists to say
        return JSONResponse({"ok": False, "database": f"unreachable: {type(e).__name__}"}, 503)
    return JSONResponse(
        {
            "ok": True,
            "database": "ok",
            "outbox": {
                "depth": depth,
                "oldest_seconds": round((now - oldest).total_seconds()) if oldest else 0,
                "dead": dead,
            },
            "last_update": {p: at.isoformat() + "Z" if at else None for p, at in last.items()},
        }
    )


async def metrics(request: Request) -> Response:
    d = desk_of(request)
    deps, now = d.deps, d.deps.clock()

    async def read(s):
        return (
            await health.outbox(s),
            await health.updates(s),
            await health.tickets_by_state(s),
        )

    (depth, oldest, dead, failures), updates, states = await deps.db.run(read, write=False)
    got = CounterMetricFamily(
        "woodpecker_updates", "Platform updates processed.", labels=("platform",)
    )
    for platform, n in sorted(updates.items()):
        got.add_metric((platform,), n)
    tickets = GaugeMetricFamily("woodpecker_tickets", "Tickets by state.", labels=("state",))
    for state, n in sorted(states.items()):
        tickets.add_metric((state,), n)
    age = (now - oldest).total_seconds() if oldest else 0
    snapshot = [
        got,
        tickets,
        GaugeMetricFamily("woodpecker_outbox_depth", "Messages waiting to be sent.", depth),
        GaugeMetricFamily("woodpecker_outbox_oldest_seconds", "Age of the oldest waiting.", age),
        GaugeMetricFamily("woodpecker_outbox_dead", "Messages given up on.", dead),
        CounterMetricFamily("woodpecker_send_failures", "Failed send attempts.", failures),
    ]
    web = request.app.state.metrics
    web.snapshot = snapshot
    return Response(generate_latest(web.registry), media_type=CONTENT_TYPE_LATEST)
