"""Background jobs of this domain, run by the database-queued worker."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.core.jobs import Handler
from waybill.dependencies import service

JOB_HANDLERS: Mapping[str, Handler] = {service.REPORT_JOB: service.build_report}
