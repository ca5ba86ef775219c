"""The latency model of real AWS: per-operation latencies, eventual-consistency waits, rate limits.

Every figure is a *median* as seen from a client in the same region (us-east-1), in seconds, and
is explained in benchmarks/LATENCY.md (keep both in step). The proxy multiplies every latency and
wait by ``scale`` and divides every rate by it, so a scaled run is the same run, faster.
"""

from __future__ import annotations

from dataclasses import dataclass, field

READ_PREFIXES = ("Get", "List", "Describe", "Head", "Lookup", "Search")


def is_read(operation: str) -> bool:
    """Reads change nothing: Get*/List*/Describe*/Head*. Everything else counts as a write."""
    return operation.startswith(READ_PREFIXES)


# (service, operation) -> median latency in seconds. Looked up first; then SERVICE_DEFAULTS.
LATENCY: dict[tuple[str, str], float] = {
    # IAM: a global service whose control plane lives in us-east-1; writes are slow.
    ("iam", "CreateRole"): 0.30,
    ("iam", "PutRolePolicy"): 0.25,
    ("iam", "AttachRolePolicy"): 0.25,
    ("iam", "DetachRolePolicy"): 0.25,
    ("iam", "DeleteRolePolicy"): 0.25,
    ("iam", "DeleteRole"): 0.30,
    ("iam", "UpdateAssumeRolePolicy"): 0.25,
    ("iam", "TagRole"): 0.20,
    ("iam", "UntagRole"): 0.20,
    # Lambda: CreateFunction uploads and validates the package and the role.
    ("lambda", "CreateFunction"): 0.60,
    ("lambda", "UpdateFunctionCode"): 0.40,
    ("lambda", "PublishLayerVersion"): 1.00,
    ("lambda", "GetFunction"): 0.08,
    ("lambda", "GetFunctionConfiguration"): 0.06,
    ("lambda", "GetAlias"): 0.06,
    ("lambda", "GetFunctionUrlConfig"): 0.06,
    ("lambda", "GetPolicy"): 0.06,
    ("lambda", "ListVersionsByFunction"): 0.08,
    ("lambda", "ListAliases"): 0.06,
    ("lambda", "ListTags"): 0.06,
    # DynamoDB control plane.
    ("dynamodb", "CreateTable"): 0.15,
    ("dynamodb", "DeleteTable"): 0.15,
    ("dynamodb", "DescribeTable"): 0.04,
    ("dynamodb", "DescribeContinuousBackups"): 0.04,
    ("dynamodb", "ListTagsOfResource"): 0.04,
    # S3 bucket configuration.
    ("s3", "CreateBucket"): 0.30,
    ("s3", "DeleteBucket"): 0.20,
    ("s3", "HeadBucket"): 0.03,
    # CloudWatch alarms.
    ("cloudwatch", "PutMetricAlarm"): 0.15,
    ("cloudwatch", "DeleteAlarms"): 0.10,
    ("cloudwatch", "DescribeAlarms"): 0.05,
    ("cloudwatch", "ListTagsForResource"): 0.05,
    # STS
    ("sts", "GetCallerIdentity"): 0.05,
}

# service -> (write latency, read latency) for operations not listed above.
SERVICE_DEFAULTS: dict[str, tuple[float, float]] = {
    "iam": (0.25, 0.08),
    "lambda": (0.30, 0.06),
    "dynamodb": (0.15, 0.04),
    "s3": (0.10, 0.04),
    "logs": (0.10, 0.05),
    "cloudwatch": (0.15, 0.05),
    "apigatewayv2": (0.20, 0.06),
    "apigateway": (0.20, 0.06),
    "sqs": (0.10, 0.03),
    "sns": (0.10, 0.04),
    "secretsmanager": (0.15, 0.05),
    "ssm": (0.10, 0.04),
    "sts": (0.05, 0.05),
}
DEFAULT_LATENCY = (0.15, 0.05)

# Jitter: latency x uniform(1 - JITTER, 1 + JITTER), from a seeded RNG.
JITTER = 0.15

# Errors the proxy answers itself: a throttle or a conflict is refused up front, fast.
FAST_ERROR_LATENCY = 0.03


def latency_of(service: str, operation: str) -> float:
    """Median latency (seconds, unscaled) of one call."""
    found = LATENCY.get((service, operation))
    if found is not None:
        return found
    write, read = SERVICE_DEFAULTS.get(service, DEFAULT_LATENCY)
    return read if is_read(operation) else write


@dataclass(frozen=True)
class Waits:
    """Eventual-consistency and readiness windows (seconds, unscaled)."""

    # A role younger than this cannot be assumed by Lambda (CreateFunction is refused).
    iam_propagation: float = 7.0
    # A new function reads State=Pending (and refuses updates / PublishVersion) this long.
    function_pending: float = 2.0
    # An updated function reads LastUpdateStatus=InProgress (and refuses updates) this long.
    function_update: float = 1.0
    # A new DynamoDB table reads TableStatus=CREATING this long.
    table_creating: float = 7.0


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` calls a second, ``burst`` at once, over the matching calls."""

    name: str
    service: str
    rate: float
    burst: float
    operations: frozenset[str] | None = None  # None: every operation of the service...
    exclude: frozenset[str] = field(default_factory=frozenset)  # ...except these
    writes_only: bool = False

    def matches(self, service: str, operation: str) -> bool:
        if service != self.service or operation in self.exclude:
            return False
        if self.writes_only and is_read(operation):
            return False
        return self.operations is None or operation in self.operations


LAMBDA_SEPARATELY_LIMITED = frozenset(
    {"GetFunction", "GetPolicy", "Invoke", "InvokeAsync", "InvokeWithResponseStream"}
)

RATE_LIMITS: tuple[RateLimit, ...] = (
    # Lambda: "15 requests per second across all control plane APIs (excluding invocation,
    # GetFunction and GetPolicy requests)". GetFunctionConfiguration, GetAlias... count.
    RateLimit("lambda control plane", "lambda", 15.0, 15.0, exclude=LAMBDA_SEPARATELY_LIMITED),
    RateLimit("lambda GetFunction", "lambda", 100.0, 100.0, operations=frozenset({"GetFunction"})),
    RateLimit("lambda GetPolicy", "lambda", 15.0, 15.0, operations=frozenset({"GetPolicy"})),
    # CloudWatch: per-operation TPS quotas.
    RateLimit("cloudwatch PutMetricAlarm", "cloudwatch", 3.0, 3.0, operations=frozenset({"PutMetricAlarm"})),
    RateLimit("cloudwatch DeleteAlarms", "cloudwatch", 3.0, 3.0, operations=frozenset({"DeleteAlarms"})),
    RateLimit("cloudwatch DescribeAlarms", "cloudwatch", 9.0, 9.0, operations=frozenset({"DescribeAlarms"})),
    # API Gateway management API: 10 requests a second per account.
    RateLimit("apigateway management", "apigatewayv2", 10.0, 10.0),
    RateLimit("apigateway management (v1)", "apigateway", 10.0, 10.0),
)


@dataclass(frozen=True)
class ThrottleError:
    status: int
    code: str
    message: str


THROTTLE_ERRORS: dict[str, ThrottleError] = {
    "lambda": ThrottleError(429, "TooManyRequestsException", "Rate exceeded"),
    "apigatewayv2": ThrottleError(429, "TooManyRequestsException", "Too Many Requests"),
    "apigateway": ThrottleError(429, "TooManyRequestsException", "Too Many Requests"),
    "iam": ThrottleError(400, "Throttling", "Rate exceeded"),
    "sts": ThrottleError(400, "Throttling", "Rate exceeded"),
    "sns": ThrottleError(400, "Throttling", "Rate exceeded"),
    "cloudwatch": ThrottleError(400, "Throttling", "Rate exceeded"),
    "dynamodb": ThrottleError(400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "logs": ThrottleError(400, "ThrottlingException", "Rate exceeded"),
    "s3": ThrottleError(503, "SlowDown", "Please reduce your request rate."),
}
DEFAULT_THROTTLE = ThrottleError(400, "ThrottlingException", "Rate exceeded")


def throttle_error(service: str) -> ThrottleError:
    return THROTTLE_ERRORS.get(service, DEFAULT_THROTTLE)
