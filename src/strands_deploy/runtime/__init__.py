"""Code that runs inside the deployed function. Imports nothing of strands_deploy."""
