"""Every Prometheus metric of the mesh, defined once, in one registry per process.

Names follow Prometheus' conventions (https://prometheus.io/docs/practices/naming/): a `wa_`
namespace, `_total` on counters, base units (`_seconds`, `_bytes`). A service only touches the
metrics of its part; the others stay absent (labelled) or at zero.
"""

from __future__ import annotations

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

REGISTRY = CollectorRegistry(auto_describe=True)

# The standard process_* (resident memory, CPU seconds, open fds), python_gc_* and python_info
# series: memory and CPU alerts and the benchmark's RSS figures read them. The collectors are
# the library's own instances, registered here as well since this is not its default registry.
for _collector in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
    REGISTRY.register(_collector)

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

# HTTP, every service.
HTTP_REQUESTS = Counter(
    "wa_http_requests_total",
    "HTTP requests answered, by route and status code.",
    ["route", "method", "status"],
    registry=REGISTRY,
)
HTTP_DURATION = Histogram(
    "wa_http_request_duration_seconds",
    "Time to answer an HTTP request, by route and status code (a fast 503 is not a fast 200).",
    ["route", "status"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
HTTP_REFUSED = Counter(
    "wa_http_refused_total",
    "HTTP connections or requests refused before the app saw them, by reason (connection_limit, "
    "address_limit, header_timeout, headers_too_large, body_timeout, invalid_request).",
    ["reason"],
    registry=REGISTRY,
)

# ingress.
WEBHOOKS = Counter(
    "wa_webhooks_total",
    "Twilio webhooks by kind (message, status) and outcome (accepted, duplicate, "
    "invalid_signature, bad_request, rate_limited, throttled, unavailable).",
    ["kind", "outcome"],
    registry=REGISTRY,
)

# Stream consumers (orders, notifier).
STREAM_CONSUMED = Counter(
    "wa_stream_entries_consumed_total",
    "Stream entries read by a consumer group.",
    ["stream", "group"],
    registry=REGISTRY,
)
STREAM_ACKED = Counter(
    "wa_stream_entries_acked_total",
    "Stream entries acknowledged after their effect was durable.",
    ["stream", "group"],
    registry=REGISTRY,
)
STREAM_RECLAIMED = Counter(
    "wa_stream_entries_reclaimed_total",
    "Pending entries claimed with XAUTOCLAIM after idling.",
    ["stream", "group"],
    registry=REGISTRY,
)
STREAM_DEAD_LETTERED = Counter(
    "wa_stream_entries_dead_lettered_total",
    "Entries moved to the dead-letter stream.",
    ["stream", "group"],
    registry=REGISTRY,
)
STREAM_HANDLER_ERRORS = Counter(
    "wa_stream_handler_errors_total",
    "Handler failures that left an entry pending for a retry.",
    ["stream", "group"],
    registry=REGISTRY,
)
STREAM_HANDLE_DURATION = Histogram(
    "wa_stream_handle_duration_seconds",
    "Time to handle one stream entry.",
    ["stream", "group"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
CONSUMER_LAG = Gauge(
    "wa_stream_consumer_lag",
    "Entries in the stream not yet delivered to the group (XINFO GROUPS).",
    ["stream", "group"],
    registry=REGISTRY,
)
CONSUMER_PENDING = Gauge(
    "wa_stream_pending_entries",
    "Entries delivered but not acknowledged (XPENDING).",
    ["stream", "group"],
    registry=REGISTRY,
)

# orders.
ORDERS_PLACED = Counter("wa_orders_placed_total", "Orders placed by customers.", registry=REGISTRY)
ORDER_TRANSITIONS = Counter(
    "wa_order_transitions_total",
    "Order status transitions, by target status.",
    ["to"],
    registry=REGISTRY,
)
INBOUND_MESSAGES = Counter(
    "wa_inbound_messages_total",
    "Inbound messages handled by orders, by outcome (handled, duplicate, throttled, opted_out, human_mode).",
    ["outcome"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge(
    "wa_outbox_backlog",
    "Outbox rows written but not yet published to the outbound stream.",
    registry=REGISTRY,
)
DB_POOL_SIZE = Gauge("wa_db_pool_connections", "Connections open in the pool.", registry=REGISTRY)
DB_POOL_IN_USE = Gauge("wa_db_pool_connections_in_use", "Pool connections lent out.", registry=REGISTRY)
DB_POOL_WAITING = Gauge(
    "wa_db_pool_requests_waiting", "Requests waiting for a pool connection.", registry=REGISTRY
)

# notifier.
TWILIO_SENDS = Counter(
    "wa_twilio_sends_total",
    "Messages API calls by outcome (sent, retry, failed, ambiguous) and Twilio error code; "
    "ambiguous: Twilio may have created it (a 5xx, no readable answer: error_code no_answer, "
    "or an attempt found unresolved after a crash: unresolved), so it is looked up.",
    ["outcome", "error_code"],
    registry=REGISTRY,
)
TWILIO_RECONCILIATIONS = Counter(
    "wa_twilio_reconciliations_total",
    "Look-ups of an ambiguous reply in Twilio's Messages list, by outcome: found (settled as "
    "sent, not sent again), not_found (sent), lookup_failed (retried), unresolved (dead-lettered "
    "before it could be looked up).",
    ["outcome"],
    registry=REGISTRY,
)
TWILIO_SEND_DURATION = Histogram(
    "wa_twilio_send_duration_seconds",
    "Time of one Messages API call.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
DELIVERY_STATUS = Counter(
    "wa_delivery_status_total",
    "Status callbacks recorded, by MessageStatus.",
    ["status"],
    registry=REGISTRY,
)


def render() -> tuple[bytes, str]:
    """The registry in Prometheus' text format, with its content type."""
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
