"""Progressive delivery on Lambda alias weights (no CodeDeploy): all-at-once, canary, linear and
blue-green rollouts gated on the new version's own metrics, alarms and eval suites.

- ``record``: the rollout record and version history kept in the state (``State.rollouts``).
- ``metrics`` / ``gates``: CloudWatch ``GetMetricData`` reads (the same on AWS and the local
  cloud) and the gate verdicts.
- ``runner``: one rollout, step by step, with an injected clock (tests never sleep).
- ``control``: status, resume, abort, rollback, promote, versions, from any shell.
- ``evals``, ``hooks``, ``notify``: the quality suite, user hooks and notifications.
"""
