"""Every table, registered on the one ``metadata``: what the migrations are compared against."""

from waybill.accounts import models as accounts_models
from waybill.admission import models as admission_models
from waybill.advisories import models as advisories_models
from waybill.alerts import models as alerts_models
from waybill.apps import models as apps_models
from waybill.artifacts import models as artifacts_models
from waybill.attestations import models as attestations_models
from waybill.auth import models as auth_models
from waybill.codescanning import models as codescanning_models
from waybill.core import audit, jobs, outbox, rate_limits, signing
from waybill.core.models import metadata
from waybill.dependencies import models as dependencies_models
from waybill.publishers import models as publishers_models
from waybill.webhooks import models as webhooks_models

__all__ = [
    "accounts_models",
    "admission_models",
    "advisories_models",
    "alerts_models",
    "apps_models",
    "artifacts_models",
    "attestations_models",
    "audit",
    "auth_models",
    "codescanning_models",
    "dependencies_models",
    "jobs",
    "metadata",
    "outbox",
    "publishers_models",
    "rate_limits",
    "signing",
    "webhooks_models",
]
