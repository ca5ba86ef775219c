"""Built-in rule packs: security, reliability, agent, cost, governance (docs/policy.md)."""
