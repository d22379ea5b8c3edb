"""Every table, registered on the one ``metadata``: what the migrations are compared against."""

from waybill.accounts import models as accounts_models
from waybill.auth import models as auth_models
from waybill.core import jobs
from waybill.core.models import metadata

__all__ = ["accounts_models", "auth_models", "jobs", "metadata"]
