"""Waybill: GitHub's software supply-chain REST API, self-hosted."""

__version__ = "0.1.0"
