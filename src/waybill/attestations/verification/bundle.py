"""A Sigstore bundle parsed into what verification needs, without trusting any of it yet."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from pydantic import ValidationError
from rfc3161_client import TimeStampResponse, decode_timestamp_response
from sigstore.dsse import _pae
from sigstore_models.bundle import v1 as bundle_v1
from sigstore_models.common import v1 as common_v1
from sigstore_models.rekor import v1 as rekor_v1

# sigstore-go refuses more than this many timestamps, to bound the work one bundle can cause.
MAX_TIMESTAMPS = 32

_MESSAGE_HASHES: dict[common_v1.HashAlgorithm, hashes.HashAlgorithm] = {
    common_v1.HashAlgorithm.SHA2_256: hashes.SHA256(),
    common_v1.HashAlgorithm.SHA2_384: hashes.SHA384(),
    common_v1.HashAlgorithm.SHA2_512: hashes.SHA512(),
}


class BundleError(Exception):
    """The bundle is malformed or lacks what verification needs."""


@dataclass(frozen=True)
class Dsse:
    payload_type: str
    payload: bytes
    signature: bytes
    # The signature exactly as the envelope carries it (base64), which ``intoto`` log entries record.
    signature_text: str

    @property
    def pae(self) -> bytes:
        return _pae(self.payload_type, self.payload)


@dataclass(frozen=True)
class MessageSignature:
    signature: bytes
    digest: bytes | None
    algorithm: hashes.HashAlgorithm | None


@dataclass(frozen=True)
class ParsedBundle:
    media_type: str
    certificate: x509.Certificate
    content: Dsse | MessageSignature
    tlog_entries: tuple[rekor_v1.TransparencyLogEntry, ...]
    timestamps: tuple[TimeStampResponse, ...]

    @property
    def signature(self) -> bytes:
        return self.content.signature


def _document(raw: bytes | str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(raw, dict):
        return dict(raw)
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise BundleError(f"not JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise BundleError("not a JSON object")
    return document


def parse_bundle(raw: bytes | str | dict[str, Any]) -> ParsedBundle:
    document = _document(raw)
    material = document.get("verificationMaterial")
    if isinstance(material, dict) and "tlogEntries" not in material:
        # Bundles of GitHub's instance have no log entries and omit the list, which the protobuf JSON
        # mapping allows and the sigstore models do not.
        document["verificationMaterial"] = {**material, "tlogEntries": []}
    try:
        inner = bundle_v1.Bundle.from_json(json.dumps(document))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise BundleError(f"not a Sigstore bundle ({problems})") from exc
    except ValueError as exc:
        raise BundleError(f"not a Sigstore bundle ({exc})") from exc

    vm = inner.verification_material
    if vm.certificate is not None:
        raw_certificate = vm.certificate.raw_bytes
    elif vm.x509_certificate_chain is not None and vm.x509_certificate_chain.certificates:
        # Bundles before v0.3 carry a chain whose first certificate is the signing one.
        raw_certificate = vm.x509_certificate_chain.certificates[0].raw_bytes
    else:
        raise BundleError("no signing certificate")
    try:
        certificate = x509.load_der_x509_certificate(raw_certificate)
    except ValueError as exc:
        raise BundleError(f"signing certificate cannot be parsed ({exc})") from exc

    content: Dsse | MessageSignature
    if inner.dsse_envelope is not None:
        envelope = inner.dsse_envelope
        if len(envelope.signatures) != 1:
            raise BundleError(f"DSSE envelope has {len(envelope.signatures)} signatures, expected 1")
        document_signature = document["dsseEnvelope"]["signatures"][0]["sig"]
        content = Dsse(
            payload_type=envelope.payload_type,
            payload=envelope.payload,
            signature=envelope.signatures[0].sig,
            signature_text=str(document_signature),
        )
    elif inner.message_signature is not None:
        message = inner.message_signature
        digest = message.message_digest
        content = MessageSignature(
            signature=message.signature,
            digest=digest.digest if digest is not None else None,
            algorithm=_MESSAGE_HASHES.get(digest.algorithm) if digest is not None else None,
        )
    else:
        raise BundleError("neither a DSSE envelope nor a message signature")

    raw_timestamps = (
        vm.timestamp_verification_data.rfc3161_timestamps if vm.timestamp_verification_data else []
    )
    if len(raw_timestamps) > MAX_TIMESTAMPS:
        raise BundleError(f"{len(raw_timestamps)} timestamps, at most {MAX_TIMESTAMPS} are accepted")
    try:
        timestamps = tuple(decode_timestamp_response(ts.signed_timestamp) for ts in raw_timestamps)
    except ValueError as exc:
        raise BundleError(f"RFC 3161 timestamp cannot be parsed ({exc})") from exc

    return ParsedBundle(
        media_type=inner.media_type,
        certificate=certificate,
        content=content,
        tlog_entries=tuple(vm.tlog_entries),
        timestamps=timestamps,
    )
