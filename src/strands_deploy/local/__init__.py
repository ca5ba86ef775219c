"""The embedded local cloud (``--env local``): moto plus what moto cannot do offline.

control      start/status/stop/reset a project's server (used by the CLI and the deploy engine)
server       the WSGI middleware around moto's server app, and the process entry point
lambda_invoke, workers, worker, protocol, codecache, compat, logs
             Lambda Invoke in local worker processes, logs into CloudWatch Logs
bedrock, eventstream, model_script
             a scripted Bedrock Runtime (Converse, ConverseStream)
urls, http_events
             Function URLs and HTTP APIs served at local URLs
settings     the files shared by the control side and the server

See docs/local-cloud.md.
"""
