"""Who signed: the identity Fulcio wrote into the signing certificate, and the policy it is held to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat import asn1

# Fulcio's certificate extensions: https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md
_FULCIO = "1.3.6.1.4.1.57264.1."
# The first extensions (1 to 6) hold the raw string; those from 8 on hold a DER UTF8String.
_LEGACY_ISSUER = x509.ObjectIdentifier(_FULCIO + "1")
_LEGACY_WORKFLOW = {
    "github_workflow_trigger": 2,
    "github_workflow_sha": 3,
    "github_workflow_name": 4,
    "github_workflow_repository": 5,
    "github_workflow_ref": 6,
}
_ISSUER = x509.ObjectIdentifier(_FULCIO + "8")
_DER_FIELDS = {
    "build_signer_uri": 9,
    "build_signer_digest": 10,
    "runner_environment": 11,
    "source_repository_uri": 12,
    "source_repository_digest": 13,
    "source_repository_ref": 14,
    "source_repository_identifier": 15,
    "source_repository_owner_uri": 16,
    "source_repository_owner_identifier": 17,
    "build_config_uri": 18,
    "build_config_digest": 19,
    "build_trigger": 20,
    "run_invocation_uri": 21,
    "source_repository_visibility_at_signing": 22,
}


@dataclass(frozen=True)
class SignerIdentity:
    """The signing certificate's identity; fields a certificate does not carry are None."""

    san: str | None
    issuer: str | None
    build_signer_uri: str | None = None
    build_signer_digest: str | None = None
    runner_environment: str | None = None
    source_repository_uri: str | None = None
    source_repository_digest: str | None = None
    source_repository_ref: str | None = None
    source_repository_identifier: str | None = None
    source_repository_owner_uri: str | None = None
    source_repository_owner_identifier: str | None = None
    build_config_uri: str | None = None
    build_config_digest: str | None = None
    build_trigger: str | None = None
    run_invocation_uri: str | None = None
    source_repository_visibility_at_signing: str | None = None
    github_workflow_trigger: str | None = None
    github_workflow_sha: str | None = None
    github_workflow_name: str | None = None
    github_workflow_repository: str | None = None
    github_workflow_ref: str | None = None

    def as_dict(self) -> dict[str, str]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def _extension_bytes(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> bytes | None:
    try:
        value = certificate.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None
    return value.value if isinstance(value, x509.UnrecognizedExtension) else None


def _der_string(certificate: x509.Certificate, number: int) -> str | None:
    raw = _extension_bytes(certificate, x509.ObjectIdentifier(f"{_FULCIO}{number}"))
    if raw is None:
        return None
    try:
        value: str = asn1.decode_der(str, raw)
    except ValueError:
        return None
    return value


def _raw_string(certificate: x509.Certificate, oid: x509.ObjectIdentifier) -> str | None:
    raw = _extension_bytes(certificate, oid)
    if raw is None:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _san(certificate: x509.Certificate) -> str | None:
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    for kind in (x509.UniformResourceIdentifier, x509.RFC822Name, x509.DNSName):
        values = names.get_values_for_type(kind)
        if values:
            return str(values[0])
    for other in names.get_values_for_type(x509.OtherName):
        try:
            value: str = asn1.decode_der(str, other.value)
        except ValueError:
            continue
        return value
    return None


def signer_identity(certificate: x509.Certificate) -> SignerIdentity:
    fields: dict[str, Any] = {name: _der_string(certificate, number) for name, number in _DER_FIELDS.items()}
    fields.update(
        {
            name: _raw_string(certificate, x509.ObjectIdentifier(f"{_FULCIO}{number}"))
            for name, number in _LEGACY_WORKFLOW.items()
        }
    )
    issuer = _der_string(certificate, 8) or _raw_string(certificate, _LEGACY_ISSUER)
    return SignerIdentity(san=_san(certificate), issuer=issuer, **fields)


def _same_uri(left: str, right: str) -> bool:
    # GitHub owner and repository names are case-insensitive.
    return left.rstrip("/").casefold() == right.rstrip("/").casefold()


def _workflow_allowed(signer: str, allowed: str) -> bool:
    """An allowed entry with ``@ref`` must match exactly; without one it allows every ref."""
    if "@" in allowed:
        return signer.casefold() == allowed.casefold()
    return signer.split("@", 1)[0].casefold() == allowed.casefold()


@dataclass(frozen=True)
class IdentityPolicy:
    """What an operator expects of a signer. Unset parts are not checked.

    ``source_repository`` is a repository URI (``https://github.com/OWNER/REPO``). Each entry of
    ``signer_workflows`` is a workflow URI (``https://github.com/OWNER/REPO/.github/workflows/F.yml``),
    optionally with ``@REF``; it is compared with the certificate's build signer URI, which is the
    reusable workflow when one signed.
    """

    source_repository: str | None = None
    signer_workflows: Sequence[str] = field(default_factory=tuple)
    issuer: str | None = None

    def violation(self, identity: SignerIdentity) -> str | None:
        """Why ``identity`` does not satisfy the policy, or None when it does."""
        if self.issuer is not None and identity.issuer != self.issuer:
            return f"OIDC issuer is {identity.issuer or 'absent'}, expected {self.issuer}"
        if self.source_repository is not None:
            actual = identity.source_repository_uri
            if actual is None:
                return "the certificate names no source repository"
            if not _same_uri(actual, self.source_repository):
                return f"source repository is {actual}, expected {self.source_repository}"
        if self.signer_workflows:
            signer = identity.build_signer_uri
            if signer is None:
                return "the certificate names no signer workflow"
            if not any(_workflow_allowed(signer, allowed) for allowed in self.signer_workflows):
                return f"signer workflow {signer} is not one of the allowed workflows"
        return None
