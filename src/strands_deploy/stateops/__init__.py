"""Operations on an environment's state as a team asset: choosing its backend from the
configuration, waiting for and keeping its lock, the audit trail, history, rollback, pull/push,
migration between backends, and state surgery (docs/state.md)."""
