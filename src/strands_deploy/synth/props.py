"""Build a resource's properties through its provider's typed model, references and all.

Properties stay plain dicts in the graph and the plan (a saved plan is JSON, executed later), but
they are *made* here, against the same :class:`~strands_deploy.providers.base.PropsModel` the
provider reads them with: a misspelt or missing property, or a value of the wrong type, fails at
synthesis instead of at apply time.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import PropsModel
from strands_deploy.synth.graph import Join, Ref

Path = tuple[str | int, ...]


def build(model: type[PropsModel], /, **fields: Any) -> dict[str, Any]:
    """``fields`` checked against ``model``; returned as a plain dict, references left in place.

    Every field name must be one of the model's and every required field must be given. Values
    are validated as the provider will validate them after resolution; a :class:`Ref`/:class:`Join`
    (not known until apply) is validated as a string, and a value that only fails where a reference
    stands is accepted (the reference is checked when it is resolved).
    """
    known = model.model_fields
    unknown = sorted(set(fields) - set(known))
    missing = sorted(n for n, f in known.items() if f.is_required() and n not in fields)
    problems = [f"unknown property {n!r}" for n in unknown] + [f"missing property {n!r}" for n in missing]
    if not problems:
        deferred: list[Path] = []
        stand_in = {k: _stand_in(v, (k,), deferred) for k, v in fields.items()}
        try:
            model.model_validate(stand_in)
        except ValidationError as err:
            problems = [
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in err.errors()
                if not any(tuple(e["loc"][: len(d)]) == d for d in deferred)
            ]
    if problems:
        raise StrandsDeployError(
            f"synthesis built invalid {model.__name__} properties: {'; '.join(problems)}",
            fix="this is a bug in strands-deploy (synthesis and the provider disagree): report it",
        )
    return dict(fields)


def _stand_in(value: Any, path: Path, deferred: list[Path]) -> Any:
    """``value`` with each Ref/Join replaced by a string, recording where each one stood."""
    if isinstance(value, (Ref, Join)):
        deferred.append(path)
        return str(value)
    if isinstance(value, dict):
        return {k: _stand_in(v, (*path, k), deferred) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_stand_in(v, (*path, i), deferred) for i, v in enumerate(value)]
    return value
