"""The one exception type the CLI shows to users.

Every user-facing failure is converted once, at the boundary where it is understood, into
*what* went wrong, *where* (file:line:column or a resource address) and *how to fix it*.
"""

from __future__ import annotations


class StrandsDeployError(Exception):
    """A failure the user can act on. ``str()`` gives the one-paragraph message."""

    exit_code = 1

    def __init__(self, what: str, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.where}: {self.what}" if self.where else self.what
        return f"{head}\n  fix: {self.fix}" if self.fix else head

    def to_dict(self) -> dict[str, str | None]:
        return {"what": self.what, "where": self.where, "fix": self.fix}


class ProblemsError(StrandsDeployError):
    """Several failures reported together; ``problems`` holds each (what, where, fix)."""

    def __init__(self, what: str, problems: list[StrandsDeployError]) -> None:
        self.problems = problems
        super().__init__(what, None, None)

    def render(self) -> str:
        return "\n".join(p.render() for p in getattr(self, "problems", []))

    def to_dict(self) -> dict[str, str | None]:
        return {"what": self.what, "where": None, "fix": "; ".join(p.render() for p in self.problems)}


class ConfigError(ProblemsError):
    """One or more problems in strands.yaml; ``problems`` holds each (where, what, fix)."""

    def __init__(self, problems: list[StrandsDeployError]) -> None:
        n = len(problems)
        super().__init__(f"{n} problem{'s' if n != 1 else ''} in the configuration", problems)


class Interrupted(StrandsDeployError):
    exit_code = 130
