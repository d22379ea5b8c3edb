"""Request and response shapes of the accounts domain, in GitHub's form."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

from waybill.accounts.types import Account, Repository
from waybill.core.clock import iso
from waybill.core.ids import node_id

Login = Annotated[str, msgspec.Meta(min_length=1, max_length=39)]


class CreateUser(msgspec.Struct, forbid_unknown_fields=True):
    login: Login
    email: str | None = None
    suspended: bool = False


class CreateOrganization(msgspec.Struct, forbid_unknown_fields=True):
    login: Login
    admin: Login
    profile_name: str | None = None


class CreateRepository(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    description: str | None = None
    private: bool = False
    visibility: Literal["public", "private", "internal"] | None = None


def root(api: str, web: str, version: str) -> dict[str, Any]:
    """GitHub's ``root`` (``GET /``): URL templates of the API, plus where Waybill's own families start.
    API version 2026-03-10 dropped ``authorizations_url`` and ``hub_url``."""
    search = "{&page,per_page,sort,order}"
    body = {
        "current_user_url": f"{api}/user",
        "current_user_authorizations_html_url": f"{web}/settings/connections/applications{{/client_id}}",
        "authorizations_url": f"{api}/authorizations",
        "code_search_url": f"{api}/search/code?q={{query}}{search}",
        "commit_search_url": f"{api}/search/commits?q={{query}}{search}",
        "emails_url": f"{api}/user/emails",
        "emojis_url": f"{api}/emojis",
        "events_url": f"{api}/events",
        "feeds_url": f"{api}/feeds",
        "followers_url": f"{api}/user/followers",
        "following_url": f"{api}/user/following{{/target}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "hub_url": f"{api}/hub",
        "issue_search_url": f"{api}/search/issues?q={{query}}{search}",
        "issues_url": f"{api}/issues",
        "keys_url": f"{api}/user/keys",
        "label_search_url": (
            f"{api}/search/labels?q={{query}}&repository_id={{repository_id}}{{&page,per_page}}"
        ),
        "notifications_url": f"{api}/notifications",
        "organization_url": f"{api}/orgs/{{org}}",
        "organization_repositories_url": f"{api}/orgs/{{org}}/repos{{?type,page,per_page,sort}}",
        "organization_teams_url": f"{api}/orgs/{{org}}/teams",
        "public_gists_url": f"{api}/gists/public",
        "rate_limit_url": f"{api}/rate_limit",
        "repository_url": f"{api}/repos/{{owner}}/{{repo}}",
        "repository_search_url": f"{api}/search/repositories?q={{query}}{search}",
        "current_user_repositories_url": f"{api}/user/repos{{?type,page,per_page,sort}}",
        "starred_url": f"{api}/user/starred{{/owner}}{{/repo}}",
        "starred_gists_url": f"{api}/gists/starred",
        "topic_search_url": f"{api}/search/topics?q={{query}}{{&page,per_page}}",
        "user_url": f"{api}/users/{{user}}",
        "user_organizations_url": f"{api}/user/orgs",
        "user_repositories_url": f"{api}/users/{{user}}/repos{{?type,page,per_page,sort}}",
        "user_search_url": f"{api}/search/users?q={{query}}{search}",
        "attestations_url": f"{api}/repos/{{owner}}/{{repo}}/attestations/{{subject_digest}}",
        "dependency_snapshots_url": f"{api}/repos/{{owner}}/{{repo}}/dependency-graph/snapshots",
        "deployment_records_url": (
            f"{api}/orgs/{{org}}/artifacts/{{subject_digest}}/metadata/deployment-records"
        ),
    }
    if version >= "2026-03-10":
        del body["authorizations_url"], body["hub_url"]
    return body


def simple_user(account: Account, api: str, web: str) -> dict[str, Any]:
    """GitHub's ``simple-user``: how an account appears inside other objects."""
    u = f"{api}/users/{account.login}"
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id(str(account.type), account.id),
        "avatar_url": f"{web}/avatars/{account.login}",
        "gravatar_id": "",
        "url": u,
        "html_url": f"{web}/{account.login}",
        "followers_url": f"{u}/followers",
        "following_url": f"{u}/following{{/other_user}}",
        "gists_url": f"{u}/gists{{/gist_id}}",
        "starred_url": f"{u}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{u}/subscriptions",
        "organizations_url": f"{u}/orgs",
        "repos_url": f"{u}/repos",
        "events_url": f"{u}/events{{/privacy}}",
        "received_events_url": f"{u}/received_events",
        "type": str(account.type),
        "user_view_type": "public",
        "site_admin": account.site_admin,
    }


def user(account: Account, api: str, web: str) -> dict[str, Any]:
    """GitHub's ``public-user`` (also what ``GET /users/{org}`` answers for an organization)."""
    return {
        **simple_user(account, api, web),
        "name": account.name,
        "company": None,
        "blog": "",
        "location": None,
        "email": account.email,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": iso(account.created_at),
        "updated_at": iso(account.updated_at),
    }


def organization(account: Account, api: str, web: str) -> dict[str, Any]:
    """GitHub's ``organization-full``."""
    o = f"{api}/orgs/{account.login}"
    return {
        "login": account.login,
        "id": account.id,
        "node_id": node_id("Organization", account.id),
        "url": o,
        "repos_url": f"{o}/repos",
        "events_url": f"{o}/events",
        "hooks_url": f"{o}/hooks",
        "issues_url": f"{o}/issues",
        "members_url": f"{o}/members{{/member}}",
        "public_members_url": f"{o}/public_members{{/member}}",
        "avatar_url": f"{web}/avatars/{account.login}",
        "description": None,
        # ``organization-full`` types name, company, location and email as plain (non-null) strings,
        # and blog as a URI, and requires none of them: an unknown value is left out, not sent as null
        # or as an empty string.
        **({"name": account.name} if account.name is not None else {}),
        "twitter_username": None,
        "is_verified": False,
        "has_organization_projects": False,
        "has_repository_projects": False,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{web}/{account.login}",
        "type": "Organization",
        "created_at": iso(account.created_at),
        "updated_at": iso(account.updated_at),
        "archived_at": None,
    }


def repository(repo: Repository, api: str, web: str, version: str = "2022-11-28") -> dict[str, Any]:
    """GitHub's ``full-repository``, with the fields a client reads (API version 2026-03-10 dropped
    ``has_downloads``)."""
    r = f"{api}/repos/{repo.full_name}"
    html = f"{web}/{repo.full_name}"
    created = iso(repo.created_at)
    body = {
        "id": repo.id,
        "node_id": node_id("Repository", repo.id),
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": simple_user(repo.owner, api, web),
        "private": repo.private,
        "visibility": repo.visibility,
        "html_url": html,
        "description": repo.description,
        "fork": False,
        "url": r,
        "archive_url": f"{r}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{r}/assignees{{/user}}",
        "blobs_url": f"{r}/git/blobs{{/sha}}",
        "branches_url": f"{r}/branches{{/branch}}",
        "collaborators_url": f"{r}/collaborators{{/collaborator}}",
        "comments_url": f"{r}/comments{{/number}}",
        "commits_url": f"{r}/commits{{/sha}}",
        "compare_url": f"{r}/compare/{{base}}...{{head}}",
        "contents_url": f"{r}/contents/{{+path}}",
        "contributors_url": f"{r}/contributors",
        "deployments_url": f"{r}/deployments",
        "downloads_url": f"{r}/downloads",
        "events_url": f"{r}/events",
        "forks_url": f"{r}/forks",
        "git_commits_url": f"{r}/git/commits{{/sha}}",
        "git_refs_url": f"{r}/git/refs{{/sha}}",
        "git_tags_url": f"{r}/git/tags{{/sha}}",
        "git_url": f"git://{html.split('://', 1)[-1]}.git",
        "issue_comment_url": f"{r}/issues/comments{{/number}}",
        "issue_events_url": f"{r}/issues/events{{/number}}",
        "issues_url": f"{r}/issues{{/number}}",
        "keys_url": f"{r}/keys{{/key_id}}",
        "labels_url": f"{r}/labels{{/name}}",
        "languages_url": f"{r}/languages",
        "merges_url": f"{r}/merges",
        "milestones_url": f"{r}/milestones{{/number}}",
        "notifications_url": f"{r}/notifications{{?since,all,participating}}",
        "pulls_url": f"{r}/pulls{{/number}}",
        "releases_url": f"{r}/releases{{/id}}",
        "ssh_url": f"git@{html.split('://', 1)[-1].split('/', 1)[0]}:{repo.full_name}.git",
        "stargazers_url": f"{r}/stargazers",
        "statuses_url": f"{r}/statuses/{{sha}}",
        "subscribers_url": f"{r}/subscribers",
        "subscription_url": f"{r}/subscription",
        "tags_url": f"{r}/tags",
        "teams_url": f"{r}/teams",
        "trees_url": f"{r}/git/trees{{/sha}}",
        "clone_url": f"{html}.git",
        "mirror_url": None,
        "hooks_url": f"{r}/hooks",
        "svn_url": html,
        "homepage": None,
        "language": None,
        "license": None,
        "forks_count": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "size": 0,
        "default_branch": repo.default_branch,
        "open_issues_count": 0,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": False,
        "has_wiki": False,
        "has_pages": False,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "pushed_at": created,
        "created_at": created,
        "updated_at": iso(repo.updated_at),
        "allow_forking": False,
        "web_commit_signoff_required": False,
        "forks": 0,
        "open_issues": 0,
        "watchers": 0,
        "network_count": 0,
        "subscribers_count": 0,
    }
    if version < "2026-03-10":
        body["has_downloads"] = False
    return body


def simple_repository(repo: Repository, api: str, web: str) -> dict[str, Any]:
    """GitHub's ``simple-repository``: the repository shape's leading fields, as alert lists embed it."""
    full = repository(repo, api, web)
    keys = [
        "id",
        "node_id",
        "name",
        "full_name",
        "owner",
        "private",
        "html_url",
        "description",
        "fork",
        "url",
        "archive_url",
        "assignees_url",
        "blobs_url",
        "branches_url",
        "collaborators_url",
        "comments_url",
        "commits_url",
        "compare_url",
        "contents_url",
        "contributors_url",
        "deployments_url",
        "downloads_url",
        "events_url",
        "forks_url",
        "git_commits_url",
        "git_refs_url",
        "git_tags_url",
        "issue_comment_url",
        "issue_events_url",
        "issues_url",
        "keys_url",
        "labels_url",
        "languages_url",
        "merges_url",
        "milestones_url",
        "notifications_url",
        "pulls_url",
        "releases_url",
        "stargazers_url",
        "statuses_url",
        "subscribers_url",
        "subscription_url",
        "tags_url",
        "teams_url",
        "trees_url",
        "hooks_url",
    ]
    return {k: full[k] for k in keys}
