"""Issue 11, item 9, against a real moto server: `destroy` never deletes data without a word.
Retained tables and buckets that hold data stop the destroy before anything is deleted, listed
with their counts; `--delete-data` deletes them with their data; empty ones go without the flag."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from strands_deploy import services as svc
from strands_deploy.errors import StrandsDeployError
from tests.helpers import write_project

PROJECT = """\
project: guard
agents:
  support: {{path: agents/support, alarms: false, link: [tickets, docs]}}
resources:
  tickets: {{type: table, key: id}}
  docs: {{type: bucket}}
environments:
  local: {{endpoint: "{endpoint}"}}
"""

TABLE = "guard-local-tickets"


def client(service: str, endpoint: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1")  # type: ignore[call-overload]


@pytest.fixture
def project(tmp_path: Path, moto: str) -> Path:
    root = write_project(
        tmp_path / "p", PROJECT.format(endpoint=moto), agents={"support": "agent = None\n"}, requirements=""
    )
    outcome = svc.deploy(svc.open_services(root, "local"))
    assert outcome is not None and outcome.result.ok, outcome and outcome.result.to_json()
    return root


def bucket_name(moto: str) -> str:
    names = [
        b["Name"] for b in client("s3", moto).list_buckets()["Buckets"] if b["Name"].startswith("guard-")
    ]
    assert len(names) == 1, names
    return names[0]


def fill(moto: str, items: int = 2, objects: int = 3) -> str:
    ddb = client("dynamodb", moto)
    for i in range(items):
        ddb.put_item(TableName=TABLE, Item={"id": {"S": f"t-{i}"}})
    bucket = bucket_name(moto)
    for i in range(objects):
        client("s3", moto).put_object(Bucket=bucket, Key=f"doc-{i}.txt", Body=b"data")
    return bucket


def recorded(root: Path) -> dict[str, Any]:
    return dict(json.loads((root / ".strands/state/local.json").read_text())["resources"])


def test_destroy_refuses_while_stores_hold_data_and_deletes_nothing(
    project: Path, moto: str, cli_factory: Any
) -> None:
    bucket = fill(moto)
    before = recorded(project)
    asked: list[object] = []

    def confirm(plan: object) -> bool:
        asked.append(plan)
        return True

    with pytest.raises(StrandsDeployError) as info:
        svc.destroy(svc.open_services(project, "local"), confirm=confirm)
    what = info.value.what
    assert f"resource.tickets.table ({TABLE}): 2 items" in what
    assert f"resource.docs.bucket ({bucket}): 3 objects" in what
    assert info.value.fix is not None and "--delete-data" in info.value.fix
    assert not asked  # refused before the confirmation

    proc = cli_factory(project)("destroy", "--yes")
    assert proc.returncode == 1
    assert "2 items" in proc.stderr and "3 objects" in proc.stderr and "--delete-data" in proc.stderr

    # nothing was deleted: the state, the stores with their data, and the agent's function
    assert recorded(project) == before
    assert client("dynamodb", moto).scan(TableName=TABLE, Select="COUNT")["Count"] == 2
    assert client("s3", moto).list_objects_v2(Bucket=bucket)["KeyCount"] == 3
    functions = [f["FunctionName"] for f in client("lambda", moto).list_functions()["Functions"]]
    assert any(name.startswith("guard-local-support") for name in functions), functions


def test_destroy_with_delete_data_deletes_everything(project: Path, moto: str, cli_factory: Any) -> None:
    bucket = fill(moto)
    proc = cli_factory(project)("destroy", "--yes", "--delete-data")
    assert proc.returncode == 0, proc.stderr
    assert TABLE not in client("dynamodb", moto).list_tables()["TableNames"]
    assert bucket not in [b["Name"] for b in client("s3", moto).list_buckets()["Buckets"]]
    assert client("lambda", moto).list_functions()["Functions"] == []
    assert recorded(project) == {}


def test_destroy_of_emptied_stores_needs_no_flag(project: Path, moto: str) -> None:
    bucket = fill(moto, items=1, objects=1)
    with pytest.raises(StrandsDeployError):
        svc.destroy(svc.open_services(project, "local"))
    client("dynamodb", moto).delete_item(TableName=TABLE, Key={"id": {"S": "t-0"}})
    s3 = client("s3", moto)
    for version in s3.list_object_versions(Bucket=bucket).get("Versions", []):
        s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])

    outcome = svc.destroy(svc.open_services(project, "local"))
    assert outcome is not None
    _, result = outcome
    assert result.ok, result.to_json()
    assert TABLE not in client("dynamodb", moto).list_tables()["TableNames"]
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert recorded(project) == {}
