"""Background jobs of this domain, run by the database-queued worker."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.attestations import service
from waybill.core.jobs import Handler

JOB_HANDLERS: Mapping[str, Handler] = {
    service.VERIFY_JOB: service.verify_queued,
    service.REVERIFY_JOB: service.reverify,
}
