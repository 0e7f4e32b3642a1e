"""HTTP server for any scenario or task: ``invmgmt-marl serve`` (FastAPI + uvicorn, the ``server`` extra).

- :func:`create_app` builds the FastAPI app from :class:`Settings` (limits: sessions, idle expiry,
  body size, episode length).
- :class:`~invmgmt_marl.server.client.Client` talks to it over HTTP (httpx).

Endpoints, limits and the choice made about the OpenEnv protocol: docs/server.md.
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "invmgmt_marl.server needs FastAPI and uvicorn: pip install 'invmgmt-marl[server]'"
    ) from err

from invmgmt_marl.server.app import create_app
from invmgmt_marl.server.sessions import Session, SessionStore
from invmgmt_marl.server.settings import Settings

__all__ = ["Session", "SessionStore", "Settings", "create_app"]
