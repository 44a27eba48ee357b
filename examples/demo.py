"""Run the user service and the application together, send a few requests, print the outcomes.

stdout gets one line per simulated HTTP request, in a fixed format the README
shows verbatim; stderr gets the JSON log lines (times and durations vary).
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Mapping

from examples.api import HttpRequest, HttpResponse, UserApi
from examples.user_server import UserService, UserStore, running
from examples.wiring import build_application, configure_logging

ADA: Mapping[str, str | int] = {"name": "Ada Lovelace", "email": "ada@example.com", "age": 36}
ALAN: Mapping[str, str | int] = {"name": "Alan Turing", "email": "alan@example.com", "age": 41}


def _request(
    trace_id: str,
    method: str,
    path: str,
    *,
    query: Mapping[str, str] | None = None,
    body: Mapping[str, str | int] | None = None,
) -> HttpRequest:
    """An incoming request as a web framework would hand it over, trace id header included."""
    headers = {"x-trace-id": trace_id, "x-forwarded-for": "203.0.113.7"}
    return HttpRequest(method, path, headers, query or {}, body or {})


def _show(request: HttpRequest, response: HttpResponse) -> None:
    query = "?" + "&".join(f"{k}={v}" for k, v in request.query.items()) if request.query else ""
    line = f"{request.method} {request.path}{query}"
    body = json.dumps(response.body, separators=(",", ":"))
    print(f"[{request.headers['x-trace-id']}] {line:<24} -> {response.status} {body}", flush=True)


def run() -> int:
    """The whole example; 0 when every request got the answer it should."""
    configure_logging()
    service = UserService(UserStore())
    with running(service) as target:
        environ = {**os.environ, "USER_SERVICE_URL": target}
        print("user service started; USER_SERVICE_URL points the application at it")
        app = build_application(environ)
        try:
            statuses = _send_requests(app.api)
        finally:
            app.close()
    print(f"trace ids seen by the user service: {' '.join(service.trace_ids)}")
    expected = [201, 201, 200, 404, 400, 200]
    print("ok" if statuses == expected else f"unexpected statuses: {statuses}")
    return 0 if statuses == expected else 1


def _send_requests(api: UserApi) -> list[int]:
    sync_requests = [
        _request("trace-1", "POST", "/users", body=ADA),
        _request("trace-2", "POST", "/users", body=ALAN),
        _request("trace-3", "GET", "/users/u-1"),  # first read: pushed back, then retried
        _request("trace-4", "GET", "/users/u-9"),
        _request("trace-5", "POST", "/users", body={"name": "Nobody"}),
    ]
    statuses = []
    for request in sync_requests:
        response = api.handle(request)
        _show(request, response)
        statuses.append(response.status)
    # u-2 has not been read yet: one of the two concurrent calls is pushed back and retried.
    # asyncio.run() gives the client a loop of its own; closing that loop at the end takes
    # the client's channels for it along, and app.close() closes the sync ones.
    batch = _request("trace-6", "GET", "/users", query={"ids": "u-1,u-2"})
    response = asyncio.run(api.handle_async(batch))
    _show(batch, response)
    statuses.append(response.status)
    return statuses
