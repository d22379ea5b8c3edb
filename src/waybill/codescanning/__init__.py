"""Code scanning: SARIF uploads, analyses and alerts, with production context."""
