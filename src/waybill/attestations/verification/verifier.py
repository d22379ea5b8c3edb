"""Verification of a Sigstore bundle against trust roots, offline.

The steps, in the order a failure is reported:

1. bundle: it parses and carries a signing certificate and one signature;
2. signature: the DSSE signature over PAE(payloadType, payload), or the message signature over the
   message digest, verifies with the certificate's key;
3. transparency log inclusion: every log entry belongs to a log of the root, its Merkle inclusion
   proof leads to the root hash of a checkpoint signed by that log, and its signed entry timestamp
   (when present) is the log's signature: only then is its integrated time trusted;
4. timestamp: every RFC 3161 timestamp is signed by a timestamp authority of the root, over the
   signature, at a time within that authority's validity;
5. trusted time: at least one of the above gave a time;
6. certificate validity at signing time: each trusted time is within the certificate's validity;
7. certificate chain: at each trusted time the certificate chains to a Fulcio CA of the root that
   was valid then;
8. certificate transparency: the certificate's SCT is signed by a CT log of the root (roots
   without CT logs, such as GitHub's, skip this);
9. certificate usage: digital signature, code signing;
10. transparency log entry: each entry's body records this signature, certificate and payload;
11. identity: the certificate's identity satisfies the policy.

The ``sigstore`` package does steps 3 (Merkle proof, checkpoint, signed entry timestamp) and 8, and
provides the key rings and certificate authorities; it cannot load bundles without log entries
(GitHub's instance) nor trust the time of Rekor ``intoto`` entries, so the pipeline around them is
ours, on ``cryptography`` (X.509 path validation, signatures) and ``rfc3161-client`` (timestamps).
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder
from cryptography.x509.verification import VerificationError as X509VerificationError
from rfc3161_client import TimeStampResponse
from rfc3161_client import VerificationError as TimestampVerificationError
from sigstore._internal.merkle import verify_merkle_inclusion
from sigstore._internal.rekor.checkpoint import verify_checkpoint
from sigstore._internal.sct import verify_sct
from sigstore.errors import Error as SigstoreError
from sigstore.models import TransparencyLogEntry
from sigstore_models.rekor import v1 as rekor_v1
from sigstore_models.rekor import v2 as rekor_v2

from waybill.attestations.verification.bundle import (
    BundleError,
    Dsse,
    MessageSignature,
    ParsedBundle,
    parse_bundle,
)
from waybill.attestations.verification.identity import IdentityPolicy, SignerIdentity, signer_identity
from waybill.attestations.verification.trust import TrustRoot, TrustRoots


class Step(StrEnum):
    """The step of verification that failed; the order is the order of the pipeline."""

    BUNDLE = "bundle"
    SIGNATURE = "signature"
    TLOG_INCLUSION = "transparency log inclusion"
    TIMESTAMP = "timestamp"
    TRUSTED_TIME = "trusted time"
    VALIDITY = "certificate validity at signing time"
    CHAIN = "certificate chain"
    CERTIFICATE_TRANSPARENCY = "certificate transparency"
    USAGE = "certificate usage"
    TLOG_ENTRY = "transparency log entry"
    IDENTITY = "identity"


_RANK = {step: rank for rank, step in enumerate(Step)}


class TimeSource(StrEnum):
    TLOG = "transparency log integrated time"
    RFC3161 = "RFC 3161 timestamp"


class ContentKind(StrEnum):
    DSSE = "dsse"
    MESSAGE_SIGNATURE = "message_signature"


@dataclass(frozen=True)
class VerifiedTime:
    source: TimeSource
    time: datetime
    # The log's URL or the timestamp authority's subject.
    authority: str


@dataclass(frozen=True)
class LogEntry:
    kind: str
    version: str
    log_index: int
    log_url: str | None


@dataclass(frozen=True)
class Verdict:
    verified: bool
    failed_step: Step | None = None
    # "<step>: <detail>" when verification failed.
    reason: str | None = None
    trust_root: str | None = None
    times: tuple[VerifiedTime, ...] = ()
    identity: SignerIdentity | None = None
    content: ContentKind | None = None
    payload_type: str | None = None
    log_entries: tuple[LogEntry, ...] = field(default=())

    @property
    def time_source(self) -> TimeSource | None:
        return self.times[0].source if self.times else None

    @property
    def signed_at(self) -> datetime | None:
        return self.times[0].time if self.times else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "failed_step": self.failed_step.value if self.failed_step else None,
            "reason": self.reason,
            "trust_root": self.trust_root,
            "time_source": self.time_source.value if self.time_source else None,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "times": [
                {"source": t.source.value, "time": t.time.isoformat(), "authority": t.authority}
                for t in self.times
            ],
            "identity": self.identity.as_dict() if self.identity else None,
            "content": self.content.value if self.content else None,
            "payload_type": self.payload_type,
            "log_entries": [
                {"kind": e.kind, "version": e.version, "log_index": e.log_index, "log_url": e.log_url}
                for e in self.log_entries
            ],
        }


class _Failure(Exception):
    def __init__(self, step: Step, detail: str) -> None:
        super().__init__(f"{step.value}: {detail}")
        self.step = step
        self.detail = detail


def verify(
    bundle: bytes | str | dict[str, Any],
    roots: TrustRoots,
    *,
    policy: IdentityPolicy | None = None,
) -> Verdict:
    """Verify ``bundle`` against each of ``roots``. A success names the root it verified against;
    when every root fails, the verdict is the failure that got furthest through the pipeline."""
    try:
        parsed = parse_bundle(bundle)
    except BundleError as exc:
        return Verdict(verified=False, failed_step=Step.BUNDLE, reason=f"{Step.BUNDLE.value}: {exc}")
    identity = signer_identity(parsed.certificate)
    base = Verdict(
        verified=False,
        identity=identity,
        content=ContentKind.DSSE if isinstance(parsed.content, Dsse) else ContentKind.MESSAGE_SIGNATURE,
        payload_type=parsed.content.payload_type if isinstance(parsed.content, Dsse) else None,
    )
    try:
        _check_signature(parsed)
    except _Failure as failure:
        return _failed(base, failure, None)
    if not len(roots):
        return _failed(base, _Failure(Step.CHAIN, "no trust root is configured"), None)

    best: Verdict | None = None
    for root in roots:
        try:
            times, entries = _check_against(parsed, root)
        except _Failure as failure:
            verdict = _failed(base, failure, root.name)
            if best is None or _RANK[failure.step] > _RANK[best.failed_step or Step.BUNDLE]:
                best = verdict
            continue
        success = _replace(base, verified=True, trust_root=root.name, times=times, log_entries=entries)
        if policy is not None and (violation := policy.violation(identity)):
            return _failed(success, _Failure(Step.IDENTITY, violation), root.name)
        return success
    assert best is not None
    return best


def _replace(verdict: Verdict, **changes: Any) -> Verdict:
    fields = {name: getattr(verdict, name) for name in Verdict.__dataclass_fields__}
    fields.update(changes)
    return Verdict(**fields)


def _failed(base: Verdict, failure: _Failure, root: str | None) -> Verdict:
    return _replace(base, verified=False, failed_step=failure.step, reason=str(failure), trust_root=root)


def _check_signature(parsed: ParsedBundle) -> None:
    key = parsed.certificate.public_key()
    content = parsed.content
    try:
        if isinstance(content, Dsse):
            _verify_with_key(key, content.signature, content.pae, prehashed=None)
        else:
            if content.digest is None or content.algorithm is None:
                raise _Failure(Step.SIGNATURE, "the message signature carries no digest to check it against")
            _verify_with_key(key, content.signature, content.digest, prehashed=content.algorithm)
    except InvalidSignature:
        raise _Failure(Step.SIGNATURE, "does not verify with the signing certificate's key") from None


def _verify_with_key(
    key: Any, signature: bytes, data: bytes, *, prehashed: hashes.HashAlgorithm | None
) -> None:
    if isinstance(key, ec.EllipticCurvePublicKey):
        digest: hashes.HashAlgorithm = {256: hashes.SHA256(), 384: hashes.SHA384(), 521: hashes.SHA512()}.get(
            key.curve.key_size, hashes.SHA256()
        )
        algorithm = ec.ECDSA(Prehashed(prehashed) if prehashed is not None else digest)
        key.verify(signature, data, algorithm)
    elif isinstance(key, rsa.RSAPublicKey):
        key.verify(
            signature,
            data,
            padding.PKCS1v15(),
            Prehashed(prehashed) if prehashed is not None else hashes.SHA256(),
        )
    elif isinstance(key, ed25519.Ed25519PublicKey) and prehashed is None:
        key.verify(signature, data)
    else:
        raise _Failure(Step.SIGNATURE, f"unsupported key type {type(key).__name__}")


def _check_against(
    parsed: ParsedBundle, root: TrustRoot
) -> tuple[tuple[VerifiedTime, ...], tuple[LogEntry, ...]]:
    times: list[VerifiedTime] = []
    entries: list[LogEntry] = []
    for entry in parsed.tlog_entries:
        verified_time, info = _check_log_entry(entry, root)
        entries.append(info)
        if verified_time is not None:
            times.append(verified_time)
    for response in parsed.timestamps:
        times.append(_check_timestamp(response, parsed.signature, root))
    if not times:
        raise _Failure(
            Step.TRUSTED_TIME,
            "no transparency log entry with a signed entry timestamp and no RFC 3161 timestamp",
        )
    certificate = parsed.certificate
    for moment in times:
        if not certificate.not_valid_before_utc <= moment.time <= certificate.not_valid_after_utc:
            raise _Failure(
                Step.VALIDITY,
                f"signed at {moment.time.isoformat()} ({moment.source.value}), outside the certificate's "
                f"validity {certificate.not_valid_before_utc.isoformat()} to "
                f"{certificate.not_valid_after_utc.isoformat()}",
            )
    chain: list[x509.Certificate] = []
    for moment in times:
        chain = _check_chain(certificate, root, moment.time)
    if root.has_ctlogs:
        try:
            verify_sct(certificate, chain, root.ct_keyring)
        except (SigstoreError, ValueError, x509.ExtensionNotFound) as exc:
            raise _Failure(Step.CERTIFICATE_TRANSPARENCY, str(exc)) from None
    _check_usage(certificate)
    for entry in parsed.tlog_entries:
        _check_entry_body(entry, parsed)
    return tuple(times), tuple(entries)


def _check_log_entry(
    entry: rekor_v1.TransparencyLogEntry, root: TrustRoot
) -> tuple[VerifiedTime | None, LogEntry]:
    kind, version = entry.kind_version.kind, entry.kind_version.version
    log = root.tlogs.get(entry.log_id.key_id)
    info = LogEntry(
        kind=kind, version=version, log_index=entry.log_index, log_url=log.base_url if log else None
    )
    if log is None:
        raise _Failure(
            Step.TLOG_INCLUSION,
            f"log {base64.b64encode(entry.log_id.key_id).decode()} is not a log of trust root {root.name}",
        )
    try:
        wrapped = TransparencyLogEntry(entry)
        verify_merkle_inclusion(wrapped)
        verify_checkpoint(root.rekor_keyring, wrapped)
    except (SigstoreError, ValueError) as exc:
        raise _Failure(Step.TLOG_INCLUSION, f"entry {entry.log_index} of {log.base_url}: {exc}") from None
    if entry.inclusion_promise is None or entry.integrated_time is None:
        # Rekor v2 logs synchronously and records no time: the time must come from a timestamp.
        return None, info
    try:
        wrapped._verify_set(root.rekor_keyring)
    except (SigstoreError, ValueError) as exc:
        raise _Failure(
            Step.TLOG_INCLUSION, f"entry {entry.log_index} of {log.base_url}: signed entry timestamp: {exc}"
        ) from None
    integrated = datetime.fromtimestamp(entry.integrated_time, tz=UTC)
    if not log.window.contains(integrated):
        raise _Failure(
            Step.TLOG_INCLUSION,
            f"entry {entry.log_index} integrated at {integrated.isoformat()}, outside the validity of "
            f"{log.base_url}'s key",
        )
    return VerifiedTime(TimeSource.TLOG, integrated, log.base_url), info


def _check_timestamp(response: TimeStampResponse, signature: bytes, root: TrustRoot) -> VerifiedTime:
    generated = response.tst_info.gen_time
    errors = []
    for authority in root.timestamp_authorities:
        # Checking the window first spares a signature check per authority of another period.
        if not authority.window.contains(generated):
            errors.append(f"generated at {generated.isoformat()}, outside the authority's validity")
            continue
        try:
            authority.verifier.verify_message(response, signature)
        except (TimestampVerificationError, ValueError) as exc:
            # The underlying OpenSSL error stack is long; its first line names the problem.
            errors.append(str(exc).split(": ErrorStack", 1)[0][:160])
            continue
        return VerifiedTime(TimeSource.RFC3161, generated, authority.subject)
    if not root.timestamp_authorities:
        raise _Failure(Step.TIMESTAMP, f"trust root {root.name} has no timestamp authority")
    raise _Failure(
        Step.TIMESTAMP,
        f"not a valid timestamp over the signature from a timestamp authority of trust root {root.name} "
        f"({'; '.join(sorted(set(errors)))})",
    )


# Fulcio issues code-signing certificates, not TLS client ones: only the EKU rule is relaxed, every
# other profile check of path validation stays.
_CA_POLICY = ExtensionPolicy.webpki_defaults_ca().may_be_present(
    x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
)
_EE_POLICY = ExtensionPolicy.webpki_defaults_ee().may_be_present(
    x509.ExtendedKeyUsage, Criticality.NON_CRITICAL, None
)


def _check_chain(certificate: x509.Certificate, root: TrustRoot, moment: datetime) -> list[x509.Certificate]:
    store = root.store_at(moment)
    if store is None:
        raise _Failure(
            Step.CHAIN,
            f"no certificate authority of trust root {root.name} was valid at {moment.isoformat()}",
        )
    verifier = (
        PolicyBuilder()
        .store(store)
        .time(moment)
        .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
        .build_client_verifier()
    )
    try:
        return list(verifier.verify(certificate, []).chain[1:])
    except (X509VerificationError, x509.UnsupportedGeneralNameType) as exc:
        raise _Failure(
            Step.CHAIN, f"does not chain to a certificate authority of trust root {root.name} ({exc})"
        ) from None


def _check_usage(certificate: x509.Certificate) -> None:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound as exc:
        raise _Failure(Step.USAGE, f"missing extension {exc.oid.dotted_string}") from None
    if not usage.digital_signature:
        raise _Failure(Step.USAGE, "key usage is not digital signature")
    if ExtendedKeyUsageOID.CODE_SIGNING not in extended:
        raise _Failure(Step.USAGE, "extended key usage does not include code signing")


def _same_certificate(pem_base64: object, certificate: x509.Certificate) -> bool:
    if not isinstance(pem_base64, str):
        return False
    try:
        recorded = x509.load_pem_x509_certificate(base64.b64decode(pem_base64))
    except ValueError:
        return False
    return recorded == certificate


def _check_entry_body(entry: rekor_v1.TransparencyLogEntry, parsed: ParsedBundle) -> None:
    kind, version = entry.kind_version.kind, entry.kind_version.version
    where = f"{kind} {version} entry {entry.log_index}"
    try:
        body: Any = json.loads(entry.canonicalized_body)
        if (kind, version) == ("hashedrekord", "0.0.2"):
            problem = _hashedrekord_v2_problem(entry.canonicalized_body, parsed)
        elif body.get("kind") != kind or body.get("apiVersion") != version:
            problem = f"body is a {body.get('kind')} {body.get('apiVersion')} entry"
        elif (kind, version) == ("dsse", "0.0.1"):
            problem = _dsse_problem(body["spec"], parsed)
        elif (kind, version) == ("intoto", "0.0.2"):
            problem = _intoto_problem(body["spec"]["content"], parsed)
        elif (kind, version) == ("hashedrekord", "0.0.1"):
            problem = _hashedrekord_problem(body["spec"], parsed)
        else:
            problem = "this kind of entry is not supported"
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        problem = f"body cannot be read ({type(exc).__name__}: {exc})"
    if problem is not None:
        raise _Failure(Step.TLOG_ENTRY, f"{where}: {problem}")


def _payload_hash_problem(recorded: Any, payload: bytes) -> str | None:
    if recorded.get("algorithm") != "sha256":
        return f"payload hash algorithm {recorded.get('algorithm')} is not sha256"
    if recorded.get("value") != hashlib.sha256(payload).hexdigest():
        return "payload hash does not match the bundle's payload"
    return None


def _dsse_problem(spec: Any, parsed: ParsedBundle) -> str | None:
    content = parsed.content
    if not isinstance(content, Dsse):
        return "a DSSE entry for a bundle without a DSSE envelope"
    if problem := _payload_hash_problem(spec["payloadHash"], content.payload):
        return problem
    signatures = spec["signatures"]
    if len(signatures) != 1:
        return f"records {len(signatures)} signatures, the bundle has 1"
    if base64.b64decode(signatures[0]["signature"]) != content.signature:
        return "signature does not match the bundle's"
    if not _same_certificate(signatures[0]["verifier"], parsed.certificate):
        return "certificate does not match the bundle's"
    return None


def _intoto_problem(spec: Any, parsed: ParsedBundle) -> str | None:
    content = parsed.content
    if not isinstance(content, Dsse):
        return "an intoto entry for a bundle without a DSSE envelope"
    if problem := _payload_hash_problem(spec["payloadHash"], content.payload):
        return problem
    envelope = spec["envelope"]
    if envelope.get("payloadType") != content.payload_type:
        return "payload type does not match the bundle's"
    signatures = envelope["signatures"]
    if len(signatures) != 1:
        return f"records {len(signatures)} signatures, the bundle has 1"
    # intoto 0.0.2 entries store the envelope's base64 signature base64-encoded once more.
    if base64.b64decode(base64.b64decode(signatures[0]["sig"])) != content.signature:
        return "signature does not match the bundle's"
    if not _same_certificate(signatures[0]["publicKey"], parsed.certificate):
        return "certificate does not match the bundle's"
    return None


def _hashedrekord_problem(spec: Any, parsed: ParsedBundle) -> str | None:
    content = parsed.content
    if not isinstance(content, MessageSignature) or content.digest is None:
        return "a hashedrekord entry for a bundle without a message digest"
    recorded = spec["data"]["hash"]
    if recorded.get("algorithm") != (content.algorithm.name if content.algorithm else None):
        return f"digest algorithm {recorded.get('algorithm')} does not match the bundle's"
    if recorded.get("value") != content.digest.hex():
        return "digest does not match the bundle's"
    if base64.b64decode(spec["signature"]["content"]) != content.signature:
        return "signature does not match the bundle's"
    if not _same_certificate(spec["signature"]["publicKey"]["content"], parsed.certificate):
        return "certificate does not match the bundle's"
    return None


def _hashedrekord_v2_problem(raw_body: bytes, parsed: ParsedBundle) -> str | None:
    """Rekor v2 records a DSSE envelope as a hashedrekord whose digest is the digest of its PAE."""
    spec = rekor_v2.entry.Entry.from_json(raw_body).spec.hashed_rekord_v002
    if spec is None:
        return "body is not a hashedrekord 0.0.2 entry"
    content = parsed.content
    if isinstance(content, Dsse):
        expected_digest = hashlib.sha256(content.pae).digest()
    elif content.digest is not None:
        expected_digest = content.digest
    else:
        return "the bundle has no message digest"
    if spec.data.digest != expected_digest:
        return "digest does not match the bundle's"
    if spec.signature.content != parsed.signature:
        return "signature does not match the bundle's"
    recorded = spec.signature.verifier.x509_certificate
    if recorded is None or recorded.raw_bytes != parsed.certificate.public_bytes(serialization.Encoding.DER):
        return "certificate does not match the bundle's"
    return None
