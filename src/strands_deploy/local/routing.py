"""Alias weights and per-version metrics in the local cloud, as Lambda does them.

- An alias with a ``RoutingConfig`` (``AdditionalVersionWeights: {"7": 0.1}``) sends each
  invocation to one of its versions at random by weight. The choice is reproducible with a seed:
  ``STRANDS_LOCAL_SEED`` in the server's environment, or ``routing_seed`` in ``config.json``
  (re-read; a new value restarts the sequence).
- Every invocation records ``AWS/Lambda`` ``Invocations``, ``Errors`` and ``Duration`` into moto's
  CloudWatch (in process) with the dimension sets Lambda publishes: ``FunctionName``;
  ``FunctionName, Resource`` (``name:qualifier``) for a qualified call; and ``FunctionName,
  Resource, ExecutedVersion`` for a call through an alias.
- The invocation's log lines in CloudWatch Embedded Metric Format (the runtime's request line:
  ``Strands/Agent`` tokens, tool calls and answered errors, dimensions ``FunctionName, Version``)
  become metrics as CloudWatch Logs extracts them on AWS (:func:`emf_metrics`).

``GetMetricData`` then serves rollout gates offline exactly as on AWS (percentile statistics such
as ``p95`` included: see ``install_percentiles``).
"""

from __future__ import annotations

import json
import math
import os
import random
import threading
from collections.abc import Callable
from typing import Any

SEED_ENV = "STRANDS_LOCAL_SEED"
SEED_KEY = "routing_seed"
EMF_MAX_DIMENSIONS = 30


class WeightedRouter:
    """Picks an alias's version by weight; one seeded generator shared by all invocations."""

    def __init__(self, seed_source: Callable[[], Any]) -> None:
        self._seed_source = seed_source
        self._lock = threading.Lock()
        self._seed: Any = object()
        self._rng = random.Random()

    def _generator(self) -> random.Random:
        seed = os.environ.get(SEED_ENV) or self._seed_source()
        if seed != self._seed:
            self._seed = seed
            self._rng = random.Random(str(seed)) if seed is not None else random.Random()
        return self._rng

    def pick(self, primary: str, weights: dict[str, float]) -> str:
        """``primary`` gets what the additional versions' weights leave."""
        with self._lock:
            draw = self._generator().random()
        total = 0.0
        for version, weight in sorted(weights.items()):
            total += float(weight)
            if draw < total:
                return str(version)
        return primary


def alias_weights(alias: Any) -> dict[str, float]:
    config = getattr(alias, "routing_config", None) or {}
    weights = config.get("AdditionalVersionWeights") if isinstance(config, dict) else None
    return {str(k): float(v) for k, v in (weights or {}).items()}


def alias_of(backend: Any, name_or_arn: str, qualifier: str | None) -> tuple[str, Any] | None:
    """(function name, moto alias) when the call names an alias, else None."""
    name = name_or_arn.rsplit(":function:", 1)[-1]
    if ":" in name:
        name, qualifier = name.split(":", 1)
    if not qualifier or qualifier == "$LATEST" or qualifier.isdigit():
        return None
    try:
        return name, backend.get_alias(qualifier, name)
    except Exception:  # moto's UnknownFunctionException: the caller's lookup reports it
        return None


def _dimension_sets(name: str, qualifier: str | None, version: str) -> list[list[dict[str, str]]]:
    sets = [[{"Name": "FunctionName", "Value": name}]]
    if qualifier:
        resource = [
            {"Name": "FunctionName", "Value": name},
            {"Name": "Resource", "Value": f"{name}:{qualifier}"},
        ]
        sets.append(resource)
        if not qualifier.isdigit() and qualifier != "$LATEST":
            sets.append([*resource, {"Name": "ExecutedVersion", "Value": version}])
    return sets


def _emf_numbers(value: Any) -> list[float]:
    """A target member's value(s): a number or an array of numbers, else []."""
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return []
    return [float(v) for v in values]


def _emf_directive(root: dict[str, Any], directive: Any) -> tuple[str, list[dict[str, Any]]] | None:
    """(namespace, MetricData) of one MetricDirective, None when it is not valid EMF."""
    if not isinstance(directive, dict):
        return None
    namespace = directive.get("Namespace")
    dimension_sets = directive.get("Dimensions")
    metrics = directive.get("Metrics")
    if not isinstance(namespace, str) or not namespace.strip() or not isinstance(metrics, list):
        return None
    sets: list[list[dict[str, str]]] = []
    for names in dimension_sets if isinstance(dimension_sets, list) else []:
        if not isinstance(names, list) or len(names) > EMF_MAX_DIMENSIONS:
            return None
        if not all(isinstance(n, str) and isinstance(root.get(n), str) for n in names):
            return None  # CloudWatch Logs rejects a directive whose dimension value is missing
        sets.append([{"Name": n, "Value": root[n]} for n in names])
    data: list[dict[str, Any]] = []
    for metric in metrics:
        name = metric.get("Name") if isinstance(metric, dict) else None
        values = _emf_numbers(root.get(name)) if isinstance(name, str) else []
        if not values:
            continue
        unit = metric.get("Unit") or "None"
        data += [
            {"MetricName": name, "Value": v, "Unit": unit, "Dimensions": dims}
            for dims in sets or [[]]
            for v in values
        ]
    return namespace, data


def emf_metrics(message: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """The metrics CloudWatch Logs extracts from one log line in Embedded Metric Format, as
    ``(namespace, MetricData)`` pairs for ``PutMetricData``; [] for any other line."""
    text = message.strip()
    if not text.startswith("{") or '"_aws"' not in text:
        return []
    try:
        root = json.loads(text)
    except ValueError:
        return []
    meta = root.get("_aws") if isinstance(root, dict) else None
    timestamp = meta.get("Timestamp") if isinstance(meta, dict) else None
    directives = meta.get("CloudWatchMetrics") if isinstance(meta, dict) else None
    if isinstance(timestamp, list) or not _emf_numbers(timestamp) or not isinstance(directives, list):
        return []
    out = []
    for directive in directives:
        found = _emf_directive(root, directive)
        if found is not None and found[1]:
            out.append(found)
    return out


def record_invocation(
    account: str,
    region: str,
    name: str,
    qualifier: str | None,
    version: str,
    duration_ms: float,
    error: bool,
    log_lines: list[str],
) -> None:
    """Put the invocation's metrics into moto's CloudWatch: Lambda's own, and those of its log
    lines in Embedded Metric Format (never fails the invocation)."""
    try:
        from moto.cloudwatch.models import cloudwatch_backends

        backend = cloudwatch_backends[account][region]
        for line in log_lines:
            for namespace, metric_data in emf_metrics(line):
                backend.put_metric_data(namespace, metric_data)
        for dims in _dimension_sets(name, qualifier, version):
            data = [
                {
                    "MetricName": "Invocations",
                    "Value": 1.0,
                    "Unit": "Count",
                    "Dimensions": dims,
                },
                {
                    "MetricName": "Errors",
                    "Value": 1.0 if error else 0.0,
                    "Unit": "Count",
                    "Dimensions": dims,
                },
                {
                    "MetricName": "Duration",
                    "Value": duration_ms,
                    "Unit": "Milliseconds",
                    "Dimensions": dims,
                },
            ]
            backend.put_metric_data("AWS/Lambda", data)
    except Exception:  # metrics are best effort, as Lambda's are for the caller
        import logging

        logging.getLogger("strands_deploy.local.routing").exception("could not record metrics for %s", name)


def percentile(values: list[float], p: float) -> float:
    """CloudWatch-style percentile (nearest rank) of the values."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def install_percentiles() -> None:
    """moto's GetMetricData answers Sum/Average/Minimum/Maximum/SampleCount only: add ``pNN``
    (``p95``, ``p99.9``). Only ever called in the server process."""
    from moto.cloudwatch.models import Statistics

    original = Statistics.get_statistics_for_type
    if getattr(original, "_strands_percentiles", False):
        return

    def get_statistics_for_type(self: Any, stat: str) -> Any:
        if stat.startswith("p"):
            try:
                p = float(stat[1:])
            except ValueError:
                return original(self, stat)
            values = self.metric_single_values_list
            return percentile(values, p) if values else None
        return original(self, stat)

    get_statistics_for_type._strands_percentiles = True  # type: ignore[attr-defined]
    Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]
