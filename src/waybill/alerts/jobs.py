"""Background jobs of this domain, run by the database-queued worker."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.alerts import service
from waybill.core.jobs import Handler
from waybill.dependencies.service import GRAPH_CHANGED_JOB

JOB_HANDLERS: Mapping[str, Handler] = {
    service.REMATCH_JOB: service.rematch,
    GRAPH_CHANGED_JOB: service.evaluate,
}
