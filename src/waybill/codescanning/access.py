"""Who may see and change code scanning data, as GitHub documents it.

- The user: write access to the repository (GitHub shows a repository's code scanning alerts and
  analyses to those who can write to it); the organization list: an owner of the organization.
- Classic tokens: the ``security_events`` scope (``repo`` includes it), or ``public_repo`` when only
  public repositories are involved.
- Fine-grained tokens: the repository permission ``security_events`` ("Code scanning alerts"), read
  to list and get, write to upload, update and delete.

Visibility comes first: a private repository the caller cannot see answers 404, as everywhere.
"""

from __future__ import annotations

from waybill.auth.security_access import SecurityAccess

PERMISSION = "security_events"
ACCESS = SecurityAccess(PERMISSION)
decide = ACCESS.decide
require = ACCESS.require
readable = ACCESS.readable
organization_repositories = ACCESS.organization_repositories
