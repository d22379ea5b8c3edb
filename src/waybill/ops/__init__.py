"""What an operator watches: health and readiness, metrics, structured logs."""
