"""Background jobs of this domain, run by the database-queued worker."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.artifacts import service
from waybill.core.jobs import Handler

JOB_HANDLERS: Mapping[str, Handler] = {service.CLUSTER_JOB: service.run_cluster_job}
