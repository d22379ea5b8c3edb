"""Sigstore bundles made for tests, signed for real: an ECDSA P-256 key with a self-signed
certificate signs the DSSE pre-authentication encoding of an in-toto statement.

They are well-formed attestations for storage and listing; their certificate chains to no trusted
root, so no verifier would accept them, and nothing here pretends otherwise.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from functools import cache
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

IN_TOTO = "application/vnd.in-toto+json"
STATEMENT_V1 = "https://in-toto.io/Statement/v1"
SLSA_V1 = "https://slsa.dev/provenance/v1"
MEDIA_TYPE_V03 = "application/vnd.dev.sigstore.bundle.v0.3+json"


@cache
def _signer() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "waybill-tests")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return key, certificate.public_bytes(serialization.Encoding.DER)


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE's pre-authentication encoding: what the signature covers."""
    kind = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def random_digest(algorithm: str = "sha256") -> str:
    return f"{algorithm}:{hashlib.new(algorithm, secrets.token_bytes(16)).hexdigest()}"


def statement(
    digests: list[str],
    *,
    predicate_type: str = SLSA_V1,
    statement_type: str = STATEMENT_V1,
    predicate: dict[str, Any] | None = None,
) -> dict[str, Any]:
    subjects = []
    for i, digest in enumerate(digests):
        algorithm, _, value = digest.partition(":")
        subjects.append({"name": f"artifact-{i}", "digest": {algorithm: value}})
    return {
        "_type": statement_type,
        "subject": subjects,
        "predicateType": predicate_type,
        "predicate": predicate if predicate is not None else {"nonce": secrets.token_hex(8)},
    }


def envelope(payload: bytes, payload_type: str = IN_TOTO) -> dict[str, Any]:
    key, _ = _signer()
    signature = key.sign(pae(payload_type, payload), ec.ECDSA(hashes.SHA256()))
    return {
        "payload": base64.b64encode(payload).decode(),
        "payloadType": payload_type,
        "signatures": [{"sig": base64.b64encode(signature).decode(), "keyid": ""}],
    }


def bundle_for(
    digests: list[str] | None = None,
    *,
    predicate_type: str = SLSA_V1,
    statement_type: str = STATEMENT_V1,
    media_type: str = MEDIA_TYPE_V03,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A signed v0.3 bundle whose statement names ``digests`` (one random sha256 by default);
    ``body`` replaces the whole statement."""
    content = (
        body
        if body is not None
        else statement(
            digests or [random_digest()], predicate_type=predicate_type, statement_type=statement_type
        )
    )
    _, certificate = _signer()
    return {
        "mediaType": media_type,
        "verificationMaterial": {
            "certificate": {"rawBytes": base64.b64encode(certificate).decode()},
            "tlogEntries": [],
            "timestampVerificationData": {},
        },
        "dsseEnvelope": envelope(json.dumps(content).encode()),
    }
