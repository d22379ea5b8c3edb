"""Background jobs of this domain: the outbox's events fanned out to the hooks that hear them, and
each hook's queue of attempts delivered."""

from __future__ import annotations

from collections.abc import Mapping

from waybill.config import Settings
from waybill.core.jobs import Handler
from waybill.core.outbox import DISPATCH_JOB
from waybill.webhooks import dispatch, queue
from waybill.webhooks.payloads import Links

# Links in bodies when no public URL is configured (a job has no request to take them from).
LOCAL_BASE = "http://localhost:8000"


def job_handlers(settings: Settings) -> Mapping[str, Handler]:
    base = settings.public_url or LOCAL_BASE
    return {
        DISPATCH_JOB: dispatch.handler(Links(api=base, web=base)),
        queue.DELIVER_JOB: queue.deliver_handler(settings.webhook_allow_private),
    }
