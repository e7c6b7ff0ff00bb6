"""What an operator watches: request ids, one log event per request, Prometheus metrics and
(optionally) OpenTelemetry traces."""
