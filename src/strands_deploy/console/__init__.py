"""The local web console (`strands-deploy ui`): a front end beside the CLI.

It serves a small single-page app (``static/``) and a JSON API over the same use cases the CLI
calls (``services``, ``state_services``, ``operate``); it edits ``strands.yaml`` with a round-trip
YAML library so comments, key order and formatting survive. Nothing here talks to AWS directly.
"""
