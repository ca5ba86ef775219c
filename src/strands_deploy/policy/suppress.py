"""Suppressions: ``suppress: [{rule, resource, reason, until}]`` on the project or an environment.

A suppression matches a finding of its rule on its resource (an address, or an address prefix:
``agent.faq`` covers ``agent.faq.function``); omitted, every resource. An expired suppression
(``until`` is past) no longer suppresses; reports list it with a notice. A suppression that
matched nothing is reported too, so stale exceptions are noticed and removed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from strands_deploy.config.policy_schema import Suppression


@dataclass
class Suppressions:
    entries: list[Suppression]
    today: dt.date
    used: set[int] = field(default_factory=set)

    def active(self, s: Suppression) -> bool:
        return s.until is None or s.until >= self.today

    def expired(self) -> list[Suppression]:
        return [s for s in self.entries if not self.active(s)]

    def unused(self) -> list[Suppression]:
        return [s for i, s in enumerate(self.entries) if i not in self.used and self.active(s)]

    def match(self, rule_id: str, address: str) -> Suppression | None:
        for i, s in enumerate(self.entries):
            if s.rule != rule_id or not self.active(s):
                continue
            if s.resource is None or address == s.resource or address.startswith(s.resource + "."):
                self.used.add(i)
                return s
        return None

    def notices(self) -> list[str]:
        out = [
            f"suppression of {s.rule} on {s.resource or 'every resource'} expired on {s.until}: "
            "it no longer applies"
            for s in self.expired()
        ]
        out += [
            f"suppression of {s.rule} on {s.resource or 'every resource'} matched no finding: remove it?"
            for s in self.unused()
        ]
        return out


def suppressions(*lists: Iterable[Suppression], today: dt.date) -> Suppressions:
    return Suppressions([s for entries in lists for s in entries], today)


def to_json(s: Suppression, active: bool) -> dict[str, object]:
    return {
        "rule": s.rule,
        "resource": s.resource,
        "reason": s.reason,
        "until": s.until.isoformat() if s.until else None,
        "active": active,
    }
