"""Find the live resources of one project and environment by their ``strands:*`` tags.

``plan`` uses this to report resources that exist in AWS but not in the state (a lost state, a
create whose response was lost) and to adopt them instead of creating duplicates. One paginated
Resource Groups Tagging API call covers most services; HTTP APIs are listed from API Gateway too
(its IDs are random, so a duplicate is possible there, and not every emulator tags them in the
tagging API). Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from strands_deploy.aws.errors import call
from strands_deploy.aws.session import AwsContext

PROJECT_TAG = "strands:project"
ENV_TAG = "strands:environment"


@dataclass(frozen=True)
class LiveResource:
    arn: str
    service: str  # the ARN's service: lambda, dynamodb, s3, apigateway...
    name: str  # the resource's name as its ARN (or API Gateway) gives it

    def to_json(self) -> dict[str, str]:
        return {"arn": self.arn, "service": self.service, "name": self.name}


def name_from_arn(arn: str) -> tuple[str, str]:
    """(service, name) of an ARN: ``arn:aws:lambda:r:a:function:NAME`` → ("lambda", "NAME")."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return "", arn
    service, resource = parts[2], parts[5]
    if service == "lambda" and resource.startswith("function:"):
        return service, resource.split(":")[1]
    if service == "logs" and resource.startswith("log-group:"):
        return service, resource[len("log-group:") :].removesuffix(":*")
    if service == "cloudwatch" and resource.startswith("alarm:"):
        return service, resource[len("alarm:") :]
    if service == "secretsmanager" and resource.startswith("secret:"):
        name = resource[len("secret:") :]
        return service, name[:-7] if len(name) > 7 and name[-7] == "-" else name  # AWS adds -XXXXXX
    if service == "ssm" and resource.startswith("parameter"):
        rest = resource[len("parameter") :]
        return service, rest if rest.startswith("/") else "/" + rest
    if service == "dynamodb" and resource.startswith("table/"):
        return service, resource.split("/")[1]
    if service == "iam" and resource.startswith("role/"):
        return service, resource.rsplit("/", 1)[-1]
    return service, resource


def tagged_resources(aws: AwsContext, project: str, environment: str) -> list[LiveResource]:
    """Every live resource tagged for this project and environment (tagging API + HTTP APIs)."""
    from concurrent.futures import ThreadPoolExecutor

    filters = [{"Key": PROJECT_TAG, "Values": [project]}, {"Key": ENV_TAG, "Values": [environment]}]
    out: dict[str, LiveResource] = {}
    tagging = aws.client("resourcegroupstaggingapi")
    with ThreadPoolExecutor(max_workers=1) as pool:  # both lists at once
        apis = pool.submit(_http_apis, aws, project, environment)
        pages = _pages(tagging, "get_resources", "discovery", TagFilters=filters)
        http_apis = apis.result()
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            arn = str(item["ResourceARN"])
            service, name = name_from_arn(arn)
            if service == "apigateway":
                continue  # listed below with their names
            out[arn] = LiveResource(arn, service, name)
    for api in http_apis:
        out[api.arn] = api
    return sorted(out.values(), key=lambda r: r.arn)


def _http_apis(aws: AwsContext, project: str, environment: str) -> list[LiveResource]:
    client = aws.client("apigatewayv2")
    region = aws.region
    found: list[LiveResource] = []
    for page in _pages(client, "get_apis", "discovery"):
        for item in page.get("Items", []):
            tags = item.get("Tags") or {}
            if tags.get(PROJECT_TAG) == project and tags.get(ENV_TAG) == environment:
                arn = f"arn:aws:apigateway:{region}::/apis/{item['ApiId']}"
                found.append(LiveResource(arn, "apigateway", str(item.get("Name", ""))))
    return found


def _pages(client: Any, method: str, address: str, **kwargs: Any) -> list[dict[str, Any]]:
    """All pages of a list call (botocore's paginator where it has one), errors converted."""
    from strands_deploy.aws.errors import to_deploy_error

    if client.can_paginate(method):
        try:
            return list(client.get_paginator(method).paginate(**kwargs))
        except Exception as exc:
            raise to_deploy_error(exc, address, method) from None
    return [call(address, client, method, **kwargs)]
