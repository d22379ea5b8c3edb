"""Background jobs of this domain, run by the database-queued worker."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.codescanning import service
from waybill.core.jobs import Handler

JOB_HANDLERS: Mapping[str, Handler] = {service.PROCESS_JOB: service.process}
