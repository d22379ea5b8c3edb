"""Event bodies: GitHub's envelope (``action``, the object under the event's name, ``repository``,
``organization``, ``sender``) around what each event carries."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from waybill.accounts import schemas as accounts
from waybill.accounts.types import Account, Repository
from waybill.webhooks import schemas
from waybill.webhooks.types import Hook

# GitHub's ping carries a line of its zen; Waybill's says what a ping is for.
ZEN = "Keep it logically awesome."


@dataclass(frozen=True)
class Links:
    """The bases of the URLs in bodies: the API's and the web pages'."""

    api: str
    web: str


def organization(org: Account, links: Links) -> dict[str, Any]:
    """``organization-simple-webhooks``."""
    full = accounts.organization(org, links.api, links.web)
    keys = (
        "login",
        "id",
        "node_id",
        "url",
        "repos_url",
        "events_url",
        "hooks_url",
        "issues_url",
        "members_url",
        "public_members_url",
        "avatar_url",
        "description",
    )
    return {k: full[k] for k in keys}


def repository(repo: Repository, links: Links) -> dict[str, Any]:
    """``repository-webhooks``: the REST repository with the counters webhooks carry."""
    body = accounts.repository(repo, links.api, links.web)
    body.update(
        {
            "forks": 0,
            "forks_count": 0,
            "open_issues": 0,
            "open_issues_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "size": 0,
            "has_downloads": True,
            "has_issues": True,
            "has_projects": True,
            "has_wiki": True,
            "has_pages": False,
            "archived": False,
            "disabled": False,
            "pushed_at": None,
        }
    )
    return body


def envelope(
    links: Links,
    *,
    action: str | None,
    repository_: Repository | None,
    organization_: Account | None,
    sender: Account | None,
    **objects: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {} if action is None else {"action": action}
    body.update(objects)
    if repository_ is not None:
        body["repository"] = repository(repository_, links)
    if organization_ is not None and organization_.is_org:
        body["organization"] = organization(organization_, links)
    if sender is not None:
        body["sender"] = accounts.simple_user(sender, links.api, links.web)
    return body


def ping(
    links: Links, hook: Hook, owner: Account, repo: Repository | None, sender: Account | None
) -> dict[str, Any]:
    collection = (
        f"{links.api}/orgs/{owner.login}/hooks"
        if repo is None
        else f"{links.api}/repos/{repo.full_name}/hooks"
    )
    return envelope(
        links,
        action=None,
        repository_=repo,
        organization_=owner,
        sender=sender,
        zen=ZEN,
        hook_id=hook.id,
        hook=schemas.hook(hook, collection) | {"last_response": hook.last_response},
    )
