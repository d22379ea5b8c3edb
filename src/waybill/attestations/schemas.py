"""Request shapes of the attestations API, parsed at the edge into typed values, and the response
builders for both API versions.

A posted Sigstore bundle becomes a ``Bundle``: the bytes as received (stored and served unchanged),
its media type, and what the in-toto statement inside its DSSE envelope says (predicate type and
every subject digest). Anything that is not such a bundle is refused with a 422 naming the field.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

import msgspec

from waybill.attestations.types import (
    AttestationVerification,
    StoredAttestation,
    VerificationDetail,
    VerificationState,
)
from waybill.core import clock
from waybill.core.errors import FieldError, ValidationFailed
from waybill.core.types import Digest
from waybill.http.body import decode, field_error

RESOURCE = "Attestation"


class MediaType(StrEnum):
    """The JSON Sigstore bundle media types: v0.1 and v0.2 carry the version as a parameter; v0.3
    has both spellings in the wild."""

    V0_1 = "application/vnd.dev.sigstore.bundle+json;version=0.1"
    V0_2 = "application/vnd.dev.sigstore.bundle+json;version=0.2"
    V0_3 = "application/vnd.dev.sigstore.bundle+json;version=0.3"
    V0_3_SHORT = "application/vnd.dev.sigstore.bundle.v0.3+json"


class StatementType(StrEnum):
    V0_1 = "https://in-toto.io/Statement/v0.1"
    V1 = "https://in-toto.io/Statement/v1"


IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
MAX_PREDICATE_TYPE = 1024


# Shapes, decoded by msgspec: every part optional so that all missing parts are reported at once.


class _Certificate(msgspec.Struct, rename="camel"):
    raw_bytes: str | None = None


class _CertificateChain(msgspec.Struct):
    certificates: list[_Certificate] | None = None


class _VerificationMaterial(msgspec.Struct, rename="camel"):
    certificate: _Certificate | None = None
    x509_certificate_chain: _CertificateChain | None = None
    public_key: dict[str, Any] | None = None
    tlog_entries: list[dict[str, Any]] | None = None
    timestamp_verification_data: dict[str, Any] | None = None


class _Signature(msgspec.Struct):
    sig: str | None = None
    keyid: str | None = None


class _Envelope(msgspec.Struct, rename="camel"):
    payload: str | None = None
    payload_type: str | None = None
    signatures: list[_Signature] | None = None


class _BundleShape(msgspec.Struct, rename="camel"):
    media_type: str | None = None
    verification_material: _VerificationMaterial | None = None
    dsse_envelope: _Envelope | None = None
    message_signature: dict[str, Any] | None = None


class _Subject(msgspec.Struct):
    name: str | None = None
    # Values checked below, so that an error can name the algorithm.
    digest: dict[str, Any] | None = None


class _Statement(msgspec.Struct, rename={"type_": "_type", "predicate_type": "predicateType"}):
    type_: str | None = None
    subject: list[_Subject] | None = None
    predicate_type: str | None = None


class CreateAttestation(msgspec.Struct):
    # Raw: the bundle is stored byte for byte as received, and parsed separately below.
    bundle: msgspec.Raw


DigestList = Annotated[list[str], msgspec.Meta(min_length=1, max_length=1024)]
IdList = Annotated[list[int], msgspec.Meta(min_length=1, max_length=1024)]


class BulkList(msgspec.Struct):
    subject_digests: DigestList
    predicate_type: str | None = None


class BulkDelete(msgspec.Struct):
    subject_digests: DigestList | None = None
    attestation_ids: IdList | None = None


@dataclass(frozen=True)
class Bundle:
    raw: bytes
    media_type: MediaType
    statement_type: StatementType
    predicate_type: str
    # ``alg:value``, algorithm lower-cased, hex lower-cased; unique and sorted.
    subject_digests: tuple[str, ...]
    # SHA-256 of the canonical JSON (sorted keys, no whitespace): equal for the same bundle re-sent.
    content_hash: str


# Digests.


def parse_digest(raw: str, field: str = "subject_digest", index: int | None = None) -> Digest:
    digest = Digest.parse(raw)
    if digest is None:
        raise ValidationFailed(
            [
                FieldError(
                    RESOURCE,
                    field,
                    "invalid",
                    f"{field} must be algorithm:hex, e.g. sha256:<64 hex digits>",
                    raw,
                    index,
                )
            ]
        )
    return digest


def parse_digests(raw: Sequence[str]) -> list[Digest]:
    return [parse_digest(d, "subject_digests", i) for i, d in enumerate(raw)]


# Predicate type filters.


class PredicateShorthand(StrEnum):
    PROVENANCE = "provenance"
    SBOM = "sbom"
    RELEASE = "release"


SLSA_PROVENANCE = ("https://slsa.dev/provenance/v0.2", "https://slsa.dev/provenance/v1")
_SPDX = "https://spdx.dev/Document"
_CYCLONEDX = "https://cyclonedx.org/bom"
_RELEASE = "https://in-toto.io/attestation/release/v0.1"


@dataclass(frozen=True)
class PredicateFilter:
    """Predicate types that match: these exactly, or any ``<prefix>/...`` (versioned SBOM types)."""

    exact: tuple[str, ...]
    versioned: tuple[str, ...] = ()


def predicate_filter(raw: str | None) -> PredicateFilter | None:
    if raw is None or raw == "":
        return None
    try:
        shorthand = PredicateShorthand(raw)
    except ValueError:
        if len(raw) > MAX_PREDICATE_TYPE:
            raise ValidationFailed.one(
                RESOURCE, "predicate_type", "invalid", "predicate_type is too long", raw
            ) from None
        return PredicateFilter((raw,))
    match shorthand:
        case PredicateShorthand.PROVENANCE:
            return PredicateFilter(SLSA_PROVENANCE)
        case PredicateShorthand.SBOM:
            return PredicateFilter((_SPDX, _CYCLONEDX), (_SPDX, _CYCLONEDX))
        case PredicateShorthand.RELEASE:
            return PredicateFilter((_RELEASE,))


# Bundles.

_shape_decoder = msgspec.json.Decoder(_BundleShape)
_statement_decoder = msgspec.json.Decoder(_Statement)
_any_decoder = msgspec.json.Decoder()
_canonical = msgspec.json.Encoder(order="sorted")


def _error_at(exc: msgspec.ValidationError, prefix: str) -> FieldError:
    """A msgspec error inside a nested document, with its path rebased under ``prefix``."""
    text = str(exc)
    if " - at `$" in text:
        text = text.replace(" - at `$", f" - at `$.{prefix}", 1)
    else:
        text = f"{text} - at `$.{prefix}`"
    return field_error(text, RESOURCE)


def _invalid(field: str, message: str, value: Any = None) -> FieldError:
    return FieldError(RESOURCE, field, "invalid", message, value)


def _missing(field: str, message: str | None = None) -> FieldError:
    return FieldError(RESOURCE, field, "missing_field", message or f"{field} is missing")


def _b64(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not (protobuf JSON accepts all four)."""
    try:
        normalized = text.replace("-", "+").replace("_", "/")
        return base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def parse_create(body: bytes) -> Bundle:
    """The request body of ``POST /repos/{owner}/{repo}/attestations`` as a ``Bundle``."""
    raw = bytes(decode(body, CreateAttestation, RESOURCE).bundle)
    return parse_bundle(raw)


def parse_bundle(raw: bytes) -> Bundle:
    try:
        shape = _shape_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise ValidationFailed([_error_at(exc, "bundle")]) from None
    errors: list[FieldError] = []

    media_type: MediaType | None = None
    if shape.media_type is None:
        errors.append(_missing("bundle.mediaType"))
    else:
        try:
            media_type = MediaType(shape.media_type)
        except ValueError:
            accepted = ", ".join(m.value for m in MediaType)
            errors.append(
                _invalid(
                    "bundle.mediaType",
                    f"bundle.mediaType must be a Sigstore JSON bundle media type ({accepted})",
                    shape.media_type,
                )
            )

    errors += _check_verification_material(shape.verification_material)

    statement: tuple[StatementType, str, tuple[str, ...]] | None = None
    envelope = shape.dsse_envelope
    if envelope is None:
        if shape.message_signature is not None:
            errors.append(
                _missing(
                    "bundle.dsseEnvelope",
                    "bundle.dsseEnvelope is missing: this bundle holds a messageSignature over a blob, "
                    "not an attestation (a DSSE envelope with an in-toto statement)",
                )
            )
        else:
            errors.append(_missing("bundle.dsseEnvelope"))
    else:
        envelope_errors, statement = _check_envelope(envelope)
        errors += envelope_errors

    if errors:
        raise ValidationFailed(errors)
    assert media_type is not None
    assert statement is not None
    statement_type, predicate_type, digests = statement
    return Bundle(
        raw=raw,
        media_type=media_type,
        statement_type=statement_type,
        predicate_type=predicate_type,
        subject_digests=digests,
        content_hash=hashlib.sha256(_canonical.encode(_any_decoder.decode(raw))).hexdigest(),
    )


def _check_verification_material(material: _VerificationMaterial | None) -> list[FieldError]:
    field = "bundle.verificationMaterial"
    if material is None:
        return [_missing(field)]
    if material.certificate is not None:
        raw = material.certificate.raw_bytes
        if not raw or not _b64(raw):
            return [
                _invalid(f"{field}.certificate.rawBytes", f"{field}.certificate.rawBytes must be base64 DER")
            ]
        return []
    if material.x509_certificate_chain is not None:
        certificates = material.x509_certificate_chain.certificates
        if not certificates:
            return [_missing(f"{field}.x509CertificateChain.certificates")]
        for i, certificate in enumerate(certificates):
            if not certificate.raw_bytes or not _b64(certificate.raw_bytes):
                name = f"{field}.x509CertificateChain.certificates[{i}].rawBytes"
                return [_invalid(name, f"{name} must be base64 DER")]
        return []
    # GitHub's attestations are signed with short-lived Fulcio certificates that name the workflow;
    # a bare public key identifies no signer that clients could check.
    return [
        _missing(
            f"{field}.certificate",
            f"{field} must carry the signing certificate (certificate, or x509CertificateChain "
            "before bundle v0.3)",
        )
    ]


def _check_envelope(
    envelope: _Envelope,
) -> tuple[list[FieldError], tuple[StatementType, str, tuple[str, ...]] | None]:
    field = "bundle.dsseEnvelope"
    errors: list[FieldError] = []
    if not envelope.signatures:
        errors.append(_missing(f"{field}.signatures", f"{field}.signatures must hold at least one signature"))
    else:
        for i, signature in enumerate(envelope.signatures):
            if not signature.sig or not _b64(signature.sig):
                name = f"{field}.signatures[{i}].sig"
                errors.append(_invalid(name, f"{name} must be a base64 signature"))
    if envelope.payload_type is None:
        errors.append(_missing(f"{field}.payloadType"))
        return errors, None
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        errors.append(
            _invalid(
                f"{field}.payloadType",
                f"{field}.payloadType must be {IN_TOTO_PAYLOAD_TYPE}: an attestation is an in-toto statement",
                envelope.payload_type,
            )
        )
        return errors, None
    if envelope.payload is None:
        errors.append(_missing(f"{field}.payload"))
        return errors, None
    payload = _b64(envelope.payload)
    if not payload:
        errors.append(_invalid(f"{field}.payload", f"{field}.payload must be base64"))
        return errors, None
    statement_errors, statement = _check_statement(payload, f"{field}.payload")
    return errors + statement_errors, statement


def _check_statement(
    payload: bytes, field: str
) -> tuple[list[FieldError], tuple[StatementType, str, tuple[str, ...]] | None]:
    try:
        statement = _statement_decoder.decode(payload)
    except msgspec.ValidationError as exc:
        return [_error_at(exc, field)], None
    except msgspec.DecodeError:
        return [_invalid(field, f"{field} must be a JSON in-toto statement")], None
    errors: list[FieldError] = []
    statement_type: StatementType | None = None
    if statement.type_ is None:
        errors.append(_missing(f"{field}._type"))
    else:
        try:
            statement_type = StatementType(statement.type_)
        except ValueError:
            accepted = " or ".join(t.value for t in StatementType)
            errors.append(_invalid(f"{field}._type", f"{field}._type must be {accepted}", statement.type_))
    if not statement.predicate_type:
        errors.append(_missing(f"{field}.predicateType"))
    elif len(statement.predicate_type) > MAX_PREDICATE_TYPE:
        errors.append(_invalid(f"{field}.predicateType", f"{field}.predicateType is too long"))
    digests: set[str] = set()
    if not statement.subject:
        errors.append(_missing(f"{field}.subject", f"{field}.subject must name at least one subject"))
    else:
        for i, subject in enumerate(statement.subject):
            name = f"{field}.subject[{i}].digest"
            if not subject.digest:
                errors.append(_missing(name, f"{name} must hold at least one digest"))
                continue
            for algorithm, value in subject.digest.items():
                digest = Digest.of(algorithm, value) if isinstance(value, str) else None
                if digest is None:
                    errors.append(
                        _invalid(f"{name}.{algorithm}", f"{name}.{algorithm} is not a valid digest", value)
                    )
                else:
                    digests.add(str(digest))
    if errors:
        return errors, None
    assert statement_type is not None
    assert statement.predicate_type
    return [], (statement_type, statement.predicate_type, tuple(sorted(digests)))


# Responses.

BundleUrl = Callable[[int], str]


def list_item(
    attestation: StoredAttestation, bundle_url: BundleUrl, bundle: bytes | None, *, initiator: bool = True
) -> dict[str, Any]:
    """One attestation in a list; ``bundle`` (the decompressed JSON) only under 2022-11-28."""
    item: dict[str, Any] = {
        "repository_id": attestation.repository_id,
        "bundle_url": bundle_url(attestation.id),
    }
    if initiator:
        item["initiator"] = attestation.initiator
    if bundle is not None:
        item["bundle"] = msgspec.Raw(bundle)
    return item


# Verification (Waybill's extension, under /waybill/).

POLICY_RESOURCE = "AttestationPolicy"
WorkflowUri = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class PolicyBody(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["off", "record", "enforce"]
    allowed_workflows: Annotated[list[WorkflowUri], msgspec.Meta(max_length=100)] = []


def parse_verified(raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    if raw in ("true", "false"):
        return raw == "true"
    raise ValidationFailed.one("Query", "verified", "invalid", "verified must be true or false", raw)


def _status(row: VerificationState) -> str:
    if row.checked_id is None:
        # Queued under ``record`` and not checked yet, or stored under ``off``.
        return "pending" if row.verification_queued_at is not None else "unchecked"
    return "verified" if row.verified else "failed"


def verification_summary(row: VerificationState) -> dict[str, Any]:
    """The verdict columns of a row (``checked_id`` None: not checked, yet or ever)."""
    checked = row.checked_id is not None
    return {
        "status": _status(row),
        "verified": row.verified if checked else None,
        # Signature, chain and trusted time passed, whatever the identity rules said.
        "cryptographically_verified": (row.verified or row.failed_step == "identity") if checked else None,
        "failed_step": row.failed_step,
        "reason": row.reason,
        "trust_root": row.trust_root,
        "time_source": row.time_source,
        "signed_at": clock.iso_or_none(row.signed_at),
        "checked_at": clock.iso_or_none(row.checked_at),
        "signer": None
        if not checked
        else {
            "san": row.san,
            "issuer": row.issuer,
            "source_repository_uri": row.source_repository_uri,
            "build_signer_uri": row.build_signer_uri,
        },
    }


def verification_detail(found: VerificationDetail) -> dict[str, Any]:
    attestation = found.attestation
    body = {
        "attestation_id": attestation.id,
        "repository_id": attestation.repository_id,
        "predicate_type": attestation.predicate_type,
        "created_at": clock.iso(attestation.created_at),
        **verification_summary(attestation.verification),
    }
    if attestation.verification.checked_id is not None:
        # Every identity field the certificate carries (SAN, issuer, Fulcio's GitHub extensions).
        body["signer"] = found.identity
        body["times"] = found.details.get("times", [])
        body["log_entries"] = found.details.get("log_entries", [])
    return body


def verified_list_item(attestation: AttestationVerification, bundle_url: BundleUrl) -> dict[str, Any]:
    return {
        "id": attestation.id,
        "repository_id": attestation.repository_id,
        "bundle_url": bundle_url(attestation.id),
        "initiator": attestation.initiator,
        "predicate_type": attestation.predicate_type,
        "created_at": clock.iso(attestation.created_at),
        "verification": verification_summary(attestation.verification),
    }


def _policy_body(policy: Any) -> dict[str, Any]:
    return {"mode": policy.mode.value, "allowed_workflows": list(policy.allowed_workflows)}


def policy_view(view: Any) -> dict[str, Any]:
    return {
        "scope": view.scope.name,
        "scope_type": "repository" if view.scope.repository is not None else "owner",
        "own": None if view.own is None else _policy_body(view.own),
        "effective": {**_policy_body(view.effective), "source": view.effective.source.value},
    }


def job_body(job: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status.value,
        "result": job.result,
        "error": job.error,
        "attempts": job.attempts,
        "created_at": clock.iso(job.created_at),
        "started_at": clock.iso_or_none(job.started_at),
        "finished_at": clock.iso_or_none(job.finished_at),
    }
