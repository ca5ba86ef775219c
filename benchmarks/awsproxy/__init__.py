"""An HTTP proxy in front of moto that plays real AWS: latency, propagation, readiness, rate limits.

Use it standalone (``python -m benchmarks.awsproxy --help``) or in-process::

    from benchmarks.awsproxy import AwsProxy

    with AwsProxy(scale=0.05) as proxy:
        boto3.client("iam", endpoint_url=proxy.endpoint, ...)
        proxy.stats()
"""

from benchmarks.awsproxy.model import LATENCY, RATE_LIMITS, Waits, is_read, latency_of
from benchmarks.awsproxy.proxy import AwsProxy, ProxyConfig, free_port, stop_process

__all__ = [
    "LATENCY",
    "RATE_LIMITS",
    "AwsProxy",
    "ProxyConfig",
    "Waits",
    "free_port",
    "is_read",
    "latency_of",
    "stop_process",
]
