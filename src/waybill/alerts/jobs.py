"""Background jobs of this domain, run by the database-queued worker."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.alerts import service
from waybill.core.jobs import Handler

JOB_HANDLERS: Mapping[str, Handler] = {
    service.REMATCH_JOB: service.rematch,
    service.EVALUATE_JOB: service.evaluate,
}
