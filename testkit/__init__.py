"""What the tests and the benchmarks share: doubles for the services that cannot run here (Sigstore,
an OIDC issuer), the documents clients upload, and the helpers that seed them. It imports only
``waybill`` and libraries; neither ``tests`` nor ``bench`` may be imported from here, and ``bench``
imports this package rather than ``tests``."""
