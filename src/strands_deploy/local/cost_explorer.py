"""Cost Explorer's anomaly calls, answered by the local cloud (moto has ``ce`` but none of these).

Monitors and subscriptions are kept in memory, per account, and saved with the local cloud's
snapshot (``extras``). Only what a deploy needs: create, get (by ARN list, or all), update and
delete, with AWS's error codes (``UnknownMonitorException``, ``UnknownSubscriptionException``,
``ValidationException``) and AWS's ARN shapes. Nothing is ever detected: there is no spend.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from typing import Any

from werkzeug.wrappers import Response

TARGET_PREFIX = "AWSInsightsIndexService."
OPERATIONS = frozenset(
    {
        "CreateAnomalyMonitor",
        "GetAnomalyMonitors",
        "UpdateAnomalyMonitor",
        "DeleteAnomalyMonitor",
        "CreateAnomalySubscription",
        "GetAnomalySubscriptions",
        "UpdateAnomalySubscription",
        "DeleteAnomalySubscription",
    }
)


def operation_of(target: str | None) -> str | None:
    """The anomaly operation an ``X-Amz-Target`` names, or None (moto answers the rest of ``ce``)."""
    if not target or not target.startswith(TARGET_PREFIX):
        return None
    op = target[len(TARGET_PREFIX) :]
    return op if op in OPERATIONS else None


class CeError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/x-amz-json-1.1")


class FakeCostExplorer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        # account → ARN → record
        self.monitors: dict[str, dict[str, dict[str, Any]]] = {}
        self.subscriptions: dict[str, dict[str, dict[str, Any]]] = {}

    # -- persistence (the local cloud's snapshot) ----------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy({"monitors": self.monitors, "subscriptions": self.subscriptions})

    def restore(self, data: dict[str, Any] | None) -> None:
        with self._lock:
            self.monitors = dict((data or {}).get("monitors") or {})
            self.subscriptions = dict((data or {}).get("subscriptions") or {})

    def reset(self) -> None:
        self.restore(None)

    # -- requests ---------------------------------------------------------------------------------
    def handle(self, op: str, raw_body: bytes, account: str) -> Response:
        try:
            body = json.loads(raw_body or b"{}")
            if not isinstance(body, dict):
                raise CeError("ValidationException", "The request body must be a JSON object.")
            with self._lock:
                return _json(getattr(self, f"_{op}")(body, account))
        except ValueError:
            return _json(
                {"__type": "ValidationException", "message": "The request body is not valid JSON."}, 400
            )
        except CeError as err:
            return _json({"__type": err.code, "message": str(err)}, 400)

    def _monitor(self, account: str, arn: str) -> dict[str, Any]:
        found = self.monitors.get(account, {}).get(arn)
        if found is None:
            raise CeError("UnknownMonitorException", f"Monitor {arn} does not exist")
        return found

    def _subscription(self, account: str, arn: str) -> dict[str, Any]:
        found = self.subscriptions.get(account, {}).get(arn)
        if found is None:
            raise CeError("UnknownSubscriptionException", f"Subscription {arn} does not exist")
        return found

    def _CreateAnomalyMonitor(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        monitor = dict(body.get("AnomalyMonitor") or {})
        if not monitor.get("MonitorName") or monitor.get("MonitorType") not in ("DIMENSIONAL", "CUSTOM"):
            raise CeError("ValidationException", "AnomalyMonitor needs MonitorName and MonitorType")
        arn = f"arn:aws:ce::{account}:anomalymonitor/{uuid.uuid4()}"
        monitor["MonitorArn"] = arn
        monitor["ResourceTags"] = list(body.get("ResourceTags") or [])
        self.monitors.setdefault(account, {})[arn] = monitor
        return {"MonitorArn": arn}

    def _GetAnomalyMonitors(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        arns = body.get("MonitorArnList") or []
        mine = self.monitors.get(account, {})
        found = [self._monitor(account, a) for a in arns] if arns else list(mine.values())
        return {"AnomalyMonitors": [{k: v for k, v in m.items() if k != "ResourceTags"} for m in found]}

    def _UpdateAnomalyMonitor(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        monitor = self._monitor(account, str(body.get("MonitorArn")))
        if body.get("MonitorName"):
            monitor["MonitorName"] = body["MonitorName"]
        return {"MonitorArn": monitor["MonitorArn"]}

    def _DeleteAnomalyMonitor(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        arn = str(body.get("MonitorArn"))
        self._monitor(account, arn)
        del self.monitors[account][arn]
        return {}

    def _CreateAnomalySubscription(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        sub = dict(body.get("AnomalySubscription") or {})
        for key in ("SubscriptionName", "MonitorArnList", "Subscribers", "Frequency"):
            if not sub.get(key):
                raise CeError("ValidationException", f"AnomalySubscription needs {key}")
        for arn in sub["MonitorArnList"]:
            self._monitor(account, arn)
        arn = f"arn:aws:ce::{account}:anomalysubscription/{uuid.uuid4()}"
        sub["SubscriptionArn"] = arn
        sub["AccountId"] = account
        self.subscriptions.setdefault(account, {})[arn] = sub
        return {"SubscriptionArn": arn}

    def _GetAnomalySubscriptions(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        arns = body.get("SubscriptionArnList") or []
        mine = self.subscriptions.get(account, {})
        found = [self._subscription(account, a) for a in arns] if arns else list(mine.values())
        if body.get("MonitorArn"):
            found = [s for s in found if body["MonitorArn"] in s.get("MonitorArnList", [])]
        return {"AnomalySubscriptions": found}

    def _UpdateAnomalySubscription(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        sub = self._subscription(account, str(body.get("SubscriptionArn")))
        for key in ("SubscriptionName", "Frequency", "Subscribers", "MonitorArnList", "ThresholdExpression"):
            if body.get(key):
                sub[key] = body[key]
        return {"SubscriptionArn": sub["SubscriptionArn"]}

    def _DeleteAnomalySubscription(self, body: dict[str, Any], account: str) -> dict[str, Any]:
        arn = str(body.get("SubscriptionArn"))
        self._subscription(account, arn)
        del self.subscriptions[account][arn]
        return {}
