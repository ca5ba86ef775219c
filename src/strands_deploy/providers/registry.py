"""Resource type → provider class, imported lazily so start-up stays fast."""

from __future__ import annotations

import importlib
import threading

from strands_deploy.errors import StrandsDeployError
from strands_deploy.providers.base import Provider

_MODULES: dict[str, str] = {
    "aws.iam.role": "strands_deploy.providers.iam_role:RoleProvider",
    "aws.iam.role_policy": "strands_deploy.providers.iam_role_policy:RolePolicyProvider",
    "aws.logs.log_group": "strands_deploy.providers.log_group:LogGroupProvider",
    "aws.lambda.layer": "strands_deploy.providers.lambda_layer:LayerProvider",
    "aws.lambda.function": "strands_deploy.providers.lambda_function:FunctionProvider",
    "aws.lambda.alias": "strands_deploy.providers.lambda_alias:AliasProvider",
    "aws.lambda.provisioned_concurrency": "strands_deploy.providers.lambda_provisioned:ProvisionedConcurrencyProvider",
    "aws.lambda.url": "strands_deploy.providers.lambda_url:FunctionUrlProvider",
    "aws.apigw.http_api": "strands_deploy.providers.http_api:HttpApiProvider",
    "aws.apigw.lambda_route": "strands_deploy.providers.http_route:LambdaRouteProvider",
    "aws.apigw.http_stage": "strands_deploy.providers.http_stage:HttpStageProvider",
    "aws.apigw.jwt_authorizer": "strands_deploy.providers.jwt_authorizer:JwtAuthorizerProvider",
    "aws.cloudwatch.alarm": "strands_deploy.providers.alarm:AlarmProvider",
    "aws.dynamodb.table": "strands_deploy.providers.table:TableProvider",
    "aws.s3.bucket": "strands_deploy.providers.bucket:BucketProvider",
    "aws.sqs.queue": "strands_deploy.providers.queue:QueueProvider",
    "aws.sns.topic": "strands_deploy.providers.topic:TopicProvider",
    "aws.sns.subscription": "strands_deploy.providers.subscription:SubscriptionProvider",
    "aws.lambda.event_source": "strands_deploy.providers.event_source:EventSourceProvider",
    "aws.lambda.permission": "strands_deploy.providers.lambda_permission:PermissionProvider",
    "aws.events.rule": "strands_deploy.providers.events_rule:RuleProvider",
    "aws.s3.notification": "strands_deploy.providers.bucket_notification:NotificationProvider",
    "aws.secretsmanager.secret": "strands_deploy.providers.secret:SecretProvider",
    "aws.ssm.parameter": "strands_deploy.providers.parameter:ParameterProvider",
    "aws.budgets.budget": "strands_deploy.providers.budget:BudgetProvider",
    "aws.ce.anomaly_alerts": "strands_deploy.providers.anomaly_alerts:AnomalyAlertsProvider",
    "aws.config.recorder": "strands_deploy.providers.config_recorder:RecorderProvider",
    "aws.config.rule": "strands_deploy.providers.config_rule:ConfigRuleProvider",
    "aws.securityhub.hub": "strands_deploy.providers.security_hub:HubProvider",
    "aws.guardduty.detector": "strands_deploy.providers.guardduty_detector:DetectorProvider",
}

_cache: dict[str, Provider] = {}
_lock = threading.Lock()


def known_types() -> list[str]:
    return sorted(_MODULES)


def get_provider(type_name: str) -> Provider:
    with _lock:
        if type_name in _cache:
            return _cache[type_name]
        spec = _MODULES.get(type_name)
        if spec is None:
            raise StrandsDeployError(
                f"unknown resource type {type_name!r}",
                fix=f"use one of: {', '.join(known_types())}",
            )
        module_name, cls_name = spec.split(":")
        provider = getattr(importlib.import_module(module_name), cls_name)()
        _cache[type_name] = provider
        return provider
