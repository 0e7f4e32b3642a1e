"""Fixtures of the server tests: an in-process app (FastAPI's TestClient) and a real uvicorn server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

try:
    import fastapi  # noqa: F401
    import httpx  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError:  # the server extra is not installed (pip install -e '.[server]'): not collected
    collect_ignore_glob = ["test_*.py"]


class FakeClock:
    """A clock the test moves by hand (idle expiry without sleeping)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(clock: FakeClock) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from invmgmt_marl.server import Settings, create_app

    with TestClient(create_app(Settings(max_sessions=8, idle_timeout=60.0, clock=clock))) as c:
        yield c


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live_server() -> Iterator[str]:
    """A real uvicorn server on a free localhost port, in a background thread; yields its base URL."""
    import uvicorn

    from invmgmt_marl.server import Settings, create_app

    port = free_port()
    app = create_app(Settings(max_sessions=64, idle_timeout=600.0))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20.0
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 20 s")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10.0)


def zeros_for(spaces: dict[str, Any]) -> dict[str, list[float]]:
    """An all-zero action for every agent of a ``/spaces`` answer."""
    return {a: [0.0] * int(s["shape"][0]) for a, s in spaces["action_spaces"].items()}
