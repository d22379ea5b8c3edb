"""The compatibility table (operation x client) as these tests measure it, in Markdown:

    python -m tests.clients.table

A mark means the operation has a passing test with that client in ``make test`` (both backends;
githubkit, Octokit and gh under both API versions); "no method" means the pinned client offers
no call for the operation (measured by ``test_octokit.test_operations_without_a_method``)."""

from __future__ import annotations

from tests.clients import test_gh, test_github_apps, test_githubkit, test_octokit
from tests.contract import registry

# Operations the Actions libraries perform, each covered by a test in test_actions_toolkits.py.
ACTIONS_ATTEST = {"repos/create-attestation", "orgs/create-artifact-storage-record"}
SUBMISSION_TOOLKIT = {"dependency-graph/create-repository-snapshot"}
# What `gh attestation verify/download` call (--repo and --owner), in test_gh_attestation.py.
GH_ATTESTATION = {"repos/list-attestations", "orgs/list-attestations"}


def rows() -> list[list[str]]:
    out = []
    for op in registry.implemented():
        octokit = (
            "yes"
            if op in test_octokit.OPERATIONS
            else ("no method" if op in test_octokit.WITHOUT_METHOD else "")
        )
        out.append(
            [
                f"`{op}`",
                "yes",
                "yes",
                "yes" if op in test_githubkit.OPERATIONS else "",
                octokit,
                "yes" if op in test_gh.OPERATIONS else "",
                "yes" if op in GH_ATTESTATION else "",
                "yes" if op in ACTIONS_ATTEST else "",
                "yes" if op in SUBMISSION_TOOLKIT else "",
                ", ".join(name for name, ops in test_github_apps.OPERATIONS.items() if op in ops),
            ]
        )
    return out


def main() -> None:
    header = [
        "operation",
        "contract",
        "schemathesis",
        "githubkit 0.16.1",
        "Octokit (core 7.0.8, rest-endpoint-methods 18.0.0)",
        "gh api 2.103.3",
        "gh attestation 2.103.3",
        "@actions/attest 3.2.0",
        "dependency-submission-toolkit 2.0.5",
        "as a GitHub App (githubkit, @octokit/auth-app 8.3.1, deployment-tracker)",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows():
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
