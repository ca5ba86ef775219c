"""strands-deploy: deploy Strands Agents to AWS with boto3 and its own state."""

__version__ = "0.1.0"
