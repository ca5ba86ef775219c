"""A structural check of a CloudWatch Embedded Metric Format record, rule by rule from AWS's
"Specification: Embedded metric format" (the root node, the metadata object, MetricDirective,
DimensionSet, MetricDefinition and the target members)."""

from __future__ import annotations

from typing import Any

UNITS = {
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
}


def _name(value: Any) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 1024 and bool(value.strip())


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def emf_problems(root: Any) -> list[str]:
    """Every way ``root`` breaks the EMF specification (empty: a valid EMF document)."""
    if not isinstance(root, dict):
        return ["the root is not a JSON object"]
    meta = root.get("_aws")
    if not isinstance(meta, dict):
        return ["no _aws metadata object"]
    problems: list[str] = []
    if not _number(meta.get("Timestamp")) or meta["Timestamp"] < 10**12:
        problems.append("_aws.Timestamp is not milliseconds since the epoch")
    directives = meta.get("CloudWatchMetrics")
    if not isinstance(directives, list) or not directives:
        return [*problems, "_aws.CloudWatchMetrics is not a non-empty array"]
    for i, directive in enumerate(directives):
        problems += [f"directive {i}: {p}" for p in _directive_problems(root, directive)]
    return problems


def _directive_problems(root: dict[str, Any], directive: Any) -> list[str]:
    if not isinstance(directive, dict):
        return ["not an object"]
    problems = [f"unknown member {k}" for k in directive if k not in ("Namespace", "Dimensions", "Metrics")]
    if not _name(directive.get("Namespace")):
        problems.append("Namespace is not a 1-1024 character string")
    sets = directive.get("Dimensions")
    if not isinstance(sets, list):
        return [*problems, "Dimensions is not an array"]
    dimension_names: set[str] = set()
    for names in sets:
        if not isinstance(names, list) or len(names) > 30:
            problems.append(f"dimension set {names!r} is not an array of at most 30 names")
            continue
        for name in names:
            if not isinstance(name, str) or not _name(root.get(name)):
                problems.append(f"dimension {name!r} has no 1-1024 character string value in the root")
            dimension_names.add(str(name))
    metrics = directive.get("Metrics")
    if not isinstance(metrics, list) or not 1 <= len(metrics) <= 100:
        return [*problems, "Metrics is not an array of 1 to 100 definitions"]
    for metric in metrics:
        problems += _metric_problems(root, metric, dimension_names)
    return problems


def _metric_problems(root: dict[str, Any], metric: Any, dimensions: set[str]) -> list[str]:
    if not isinstance(metric, dict) or not _name(metric.get("Name")):
        return [f"metric {metric!r} has no Name"]
    name = metric["Name"]
    problems = []
    if "Unit" in metric and metric["Unit"] not in UNITS:
        problems.append(f"metric {name}: unit {metric['Unit']!r} is not a CloudWatch unit")
    if metric.get("StorageResolution", 60) not in (1, 60):
        problems.append(f"metric {name}: StorageResolution is not 1 or 60")
    if name in dimensions:
        problems.append(f"{name} is both a metric and a dimension")
    value = root.get(name)
    values = value if isinstance(value, list) else [value]
    if not values or len(values) > 100 or not all(_number(v) for v in values):
        problems.append(f"metric {name}: the root's value {value!r} is not a number (or up to 100)")
    return problems
