"""What every route shares: the runtime the app was built with."""

from __future__ import annotations

from fastapi import Request

from newsletter.runtime import Runtime


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime
