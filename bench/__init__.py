"""Waybill's benchmarks: every figure beside a ceiling measured in the same run (``make bench``)."""
