"""A live ``waybill serve`` per backend for the real clients, shared by the tests of a module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.contract import description
from tests.live import LiveServer, live_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    if request.param == "postgresql":
        request.getfixturevalue("postgres_database")  # skips (or fails under CI) when unreachable
    with live_server(request.param, tmp_path_factory.mktemp(f"live-{request.param}")) as running:
        yield running


@pytest.fixture(scope="session")
def js_clients() -> None:
    """The npm clients (``make test`` installs them with ``npm ci``)."""
    if not description.installed():
        message = f"{description.JS_DIR}/node_modules is missing: run `make test` (it runs npm ci)"
        if description.CI:
            pytest.fail(message)
        pytest.skip(message)
