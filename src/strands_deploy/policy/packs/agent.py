"""The `agent` pack: conversation data, guardrails, logging posture, dangerous tools."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from strands_deploy.policy.model import AgentSubject, Context, Severity, Violation
from strands_deploy.policy.packs._util import parse_python, python_files
from strands_deploy.policy.registry import rule

PACK = "agent"
# strands-agents-tools modules that run commands, run code or write files
DANGEROUS_TOOLS = frozenset({"shell", "file_write", "editor", "python_repl", "use_computer", "cron"})
DANGEROUS_MODULES = frozenset({"subprocess", "pty"})
DANGEROUS_CALLS = frozenset({"os.system", "os.popen", "os.execv", "os.execvp", "os.spawnl", "shutil.rmtree"})


@rule(
    "AGT-001",
    "error",
    "Sessions without an expiry",
    pack=PACK,
    subject="agent",
    rationale="Conversations hold what users typed; kept forever they become a liability. A "
    "retention period bounds what a leak or a deletion request involves.",
    fix="Set `sessions: {ttl_days: N}` (the sessions bucket expires objects after N days).",
    mappings={"nist": ["SI-12"], "soc2": ["C1.2"]},
)
def sessions_expiry(agent: AgentSubject, ctx: Context) -> Violation | None:
    if agent.config.sessions is None or "shared.sessions" not in ctx.graph:
        return None
    days = ctx.graph.resources["shared.sessions"].props.get("expire_days")
    if days:
        return None
    return Violation(f"agent {agent.name!r} keeps conversations with no expiry", "expire_days: none")


@rule(
    "AGT-002",
    "warning",
    "No guardrail on a public agent",
    pack=PACK,
    subject="agent",
    rationale="A public agent receives prompts from anyone, including prompt injection and abuse; a "
    "Bedrock guardrail filters harmful content and denied topics on the way in and out.",
    fix='Add `guardrail: {id: <guardrail id>, version: "1"}` to the agent.',
    mappings={"nist": ["SI-10"], "soc2": ["CC6.8"]},
)
def public_guardrail(agent: AgentSubject) -> Violation | None:
    if not agent.public or agent.config.guardrail is not None:
        return None
    return Violation(f"public agent {agent.name!r} has no guardrail", "guardrail: none")


@rule(
    "AGT-003",
    "warning",
    "Prompt and response logging posture not stated",
    pack=PACK,
    subject="agent",
    rationale="Whether prompts and responses are logged decides where personal data ends up and "
    "for how long; an auditor needs it stated, not implied by code.",
    fix="Set `prompt_logging: none | metadata | full` on the agent.",
    mappings={"nist": ["AU-2", "AU-3", "SI-12"], "soc2": ["CC7.2", "C1.1"]},
)
def logging_posture(agent: AgentSubject, ctx: Context) -> Violation | None:
    if agent.config.prompt_logging is not None:
        return None
    severity: Severity | None = None if ctx.production else "info"
    return Violation(
        f"agent {agent.name!r} does not state its prompt logging", "prompt_logging: unset", severity
    )


def dangerous_uses(folder: Path) -> Iterator[str]:
    """``file:line: what`` for each tool or call in the agent's code that runs commands or
    writes files."""
    for path in python_files(folder):
        tree = parse_python(path)
        if tree is None:
            continue
        rel = path.relative_to(folder).as_posix()
        for node in ast.walk(tree):
            what = _dangerous(node)
            if what:
                yield f"{rel}:{getattr(node, 'lineno', 0)}: {what}"


def _dangerous(node: ast.AST) -> str | None:
    if isinstance(node, ast.ImportFrom) and node.module:
        if node.module.startswith("strands_tools"):
            names = {node.module.split(".")[-1], *(a.name for a in node.names)}
            hits = sorted(names & DANGEROUS_TOOLS)
            return f"tool {', '.join(hits)}" if hits else None
        return f"imports {node.module}" if node.module.split(".")[0] in DANGEROUS_MODULES else None
    if isinstance(node, ast.Import):
        hits = sorted(
            a.name
            for a in node.names
            if a.name.split(".")[0] in DANGEROUS_MODULES
            or (a.name.startswith("strands_tools.") and a.name.split(".")[-1] in DANGEROUS_TOOLS)
        )
        return f"imports {', '.join(hits)}" if hits else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        base = node.func.value
        name = f"{base.id}.{node.func.attr}" if isinstance(base, ast.Name) else None
        return f"calls {name}" if name in DANGEROUS_CALLS else None
    return None


@rule(
    "AGT-004",
    "error",
    "Tools that shell out or write files on a public endpoint",
    pack=PACK,
    subject="agent",
    rationale="Anyone who can reach a public agent can try to talk it into running a command or "
    "writing a file; such tools turn a prompt injection into code execution.",
    fix="Remove the shell/file-writing tools from the public agent, or put it behind `auth: iam|jwt`.",
    mappings={"nist": ["CM-7", "AC-3"], "soc2": ["CC6.8"]},
)
def public_dangerous_tools(agent: AgentSubject) -> Iterator[Violation]:
    if not agent.public:
        return
    for use in dangerous_uses(agent.folder):
        yield Violation(f"public agent {agent.name!r} can run commands or write files", use)
