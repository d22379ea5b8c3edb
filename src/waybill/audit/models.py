"""The audit log's table. Every domain writes entries through ``waybill.core.audit``, below them all,
so the table is defined there; this domain reads and prunes it through this name."""

from __future__ import annotations

from waybill.core.audit import audit_log

__all__ = ["audit_log"]
