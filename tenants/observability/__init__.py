"""
Metrics, structured logs and traces for every process (web, worker, beat).

- `context`: the request id of the work in hand (a request, or a task queued by one).
- `logs`: the JSON log formatter; each record carries the request id and the shop's schema.
- `metrics`: the Prometheus metrics and the `/metrics` answer (multiprocess under gunicorn).
- `middleware`: one middleware, first in the chain: request id, request metrics and log line.
- `tasks`: Celery signal handlers: the request id travels in a task header; task metrics.
- `tracing`: OpenTelemetry traces across the web, the outbox and the workers (on with
  OTEL_EXPORTER_OTLP_ENDPOINT only).
"""
