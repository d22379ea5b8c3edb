"""Verifications per second per core, for both kinds of bundle Waybill meets:

- public-good: Sigstore's public instance, time from a Rekor v1 entry (inclusion proof, checkpoint
  and signed entry timestamp), certificate transparency checked;
- github: GitHub's instance, time from an RFC 3161 timestamp, no transparency log.

One process runs each case alone, so the rate is per core. The ceiling measured in the same run is
the bare ECDSA check of the same bundle's DSSE signature, the one step no verifier can skip.

    WAYBILL_SHARED_DIR=../shared python bench/verify_bench.py [--seconds 3]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore.dsse import _pae

from waybill.attestations.verification import TrustRoots, verify

CASES = {
    "public-good (Rekor dsse)": ("cli/reusable-workflow-attestation.sigstore.json", "public-good"),
    "public-good (Rekor intoto)": ("cli/sigstore-js-2.1.0-bundle.json", "public-good"),
    "github (RFC 3161)": ("cli/github_provenance_demo-0.0.12-py3-none-any-bundle.jsonl", "github"),
}


def _rate(action: Callable[[], object], seconds: float) -> float:
    action()
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while (now := time.perf_counter()) < deadline:
        for _ in range(10):
            action()
        count += 10
    return count / (now - start)


def _bare_signature_check(document: dict[str, Any]) -> Callable[[], None]:
    certificate = x509.load_der_x509_certificate(
        base64.b64decode(document["verificationMaterial"]["certificate"]["rawBytes"])
    )
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)
    envelope = document["dsseEnvelope"]
    pae = _pae(envelope["payloadType"], base64.b64decode(envelope["payload"]))
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    return lambda: key.verify(signature, pae, ec.ECDSA(hashes.SHA256()))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    default_shared = Path(__file__).resolve().parents[1].parent / "shared"
    shared = Path(os.environ.get("WAYBILL_SHARED_DIR") or default_shared)
    fixtures = shared / "fixtures" / "attestations"
    roots = TrustRoots.builtin()

    rows = []
    for label, (name, root) in CASES.items():
        text = (fixtures / name).read_bytes()
        # A .jsonl file holds one bundle a line; the others one pretty-printed bundle.
        raw = text.splitlines()[0] if name.endswith(".jsonl") else text
        document = json.loads(raw)
        selected = roots.only(root)
        verdict = verify(raw, selected)
        if not verdict.verified:
            raise SystemExit(f"{label}: {verdict.reason}")
        rate = _rate(partial(verify, raw, selected), args.seconds)
        ceiling = _rate(_bare_signature_check(document), args.seconds)
        rows.append(
            {
                "bundle": label,
                "verifications_per_second_per_core": round(rate, 1),
                "ms_per_verification": round(1000 / rate, 3),
                "bare_signature_checks_per_second": round(ceiling, 1),
                "ratio_to_bare_signature_check": round(rate / ceiling, 3),
            }
        )

    header = f"{'bundle':<28} {'verif/s/core':>13} {'ms/verif':>9} {'bare sig/s':>11} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['bundle']:<28} {row['verifications_per_second_per_core']:>13.1f} "
            f"{row['ms_per_verification']:>9.3f} {row['bare_signature_checks_per_second']:>11.1f} "
            f"{row['ratio_to_bare_signature_check']:>7.3f}"
        )
    print(json.dumps({"benchmark": "verify", "seconds_per_case": args.seconds, "results": rows}, indent=2))


if __name__ == "__main__":
    main()
