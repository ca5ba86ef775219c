"""Functions strands-deploy ships and deploys itself (``code.path: builtin:<name>``)."""
