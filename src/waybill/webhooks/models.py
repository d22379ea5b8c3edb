"""Tables of this domain.

A hook belongs to an organization (``repository_id`` NULL) or to one repository; ``owner_id`` is the
organization, or the repository's owner, so that both kinds are found from the account an event
names. Which hooks hear which events is mirrored in core's ``event_subscriptions`` (active hooks
only), the table the writes probe.

A delivery row is one attempt to send one event to one hook. An event's attempts share its ``guid``
and its ``sequence`` (the id of its first attempt), which orders a hook's queue: a retry keeps its
event's place, so a hook receives its events in the order they were written.
"""

from sqlalchemy import Boolean, Column, Float, ForeignKey, Index, Integer, String, Table, Text

from waybill.core.models import BigId, Json, UTCDateTime, metadata

hooks = Table(
    "webhooks",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("owner_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("repository_id", BigId, ForeignKey("repositories.id", ondelete="CASCADE"), nullable=True),
    Column("name", String(16), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("events", Json, nullable=False),
    Column("url", String(2048), nullable=False),
    Column("content_type", String(8), nullable=False),
    # Kept as given: it signs every delivery. Never serialised (responses show a mask).
    Column("secret", String(256), nullable=True),
    Column("insecure_ssl", String(1), nullable=False),
    # The latest attempt's outcome: GitHub's ``hook-response`` (code, status, message).
    Column("last_response", Json, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_webhooks_owner_id_repository_id", "owner_id", "repository_id"),
)

deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("hook_id", BigId, ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("guid", String(36), nullable=False),
    Column("sequence", BigId, nullable=True),
    Column("event", String(64), nullable=False),
    Column("action", String(64), nullable=True),
    Column("repository_id", BigId, nullable=True),
    Column("redelivery", Boolean, nullable=False),
    # The event's body; each attempt sends it as it was when the event was written.
    Column("payload", Json, nullable=False),
    # A ``DeliveryState``.
    Column("state", String(16), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    # While being sent: the time after which another worker may take it again.
    Column("lease_until", UTCDateTime, nullable=True),
    # When the event's first attempt was due: retries stop a day after it.
    Column("first_due_at", UTCDateTime, nullable=False),
    Column("url", String(2048), nullable=False),
    Column("status", String(255), nullable=True),
    Column("status_code", Integer, nullable=False),
    Column("duration", Float, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("request_headers", Json, nullable=True),
    Column("response_headers", Json, nullable=True),
    Column("response_body", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    # A hook's deliveries, newest first; and its queue, in order.
    Index("ix_webhook_deliveries_hook_id_id", "hook_id", "id"),
    Index("ix_webhook_deliveries_hook_id_state_sequence", "hook_id", "state", "sequence"),
)
