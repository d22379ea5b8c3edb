"""What each worker process of ``waybill serve`` runs: the application behind the client layer
(``waybill.http.clients``). A worker that cannot build it says why in the log and exits as a
start-up failure, which stops the supervisor instead of starting it again in a loop."""

from __future__ import annotations

import sys
from typing import Any

from uvicorn.config import STARTUP_FAILURE

from waybill.ops import logs


def create() -> Any:
    """Factory for uvicorn (``factory=True``), once per worker process."""
    try:
        # Imported here, so that a broken installation is reported like any other failure.
        from waybill.app import create_app
        from waybill.config import Settings
        from waybill.http.clients import ClientLayer

        settings = Settings.from_env()
        return ClientLayer(create_app(settings), settings)
    except Exception as exc:
        logs.worker_failed(exc)
        sys.exit(STARTUP_FAILURE)
