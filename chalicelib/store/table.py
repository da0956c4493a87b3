"""Create the table and bucket from the same definitions infra/ deploys (local stack and tests)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from chalicelib import aws
from chalicelib.config import settings

TEMPLATE = Path(__file__).resolve().parents[2] / "infra" / "resources.json"


def template() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(TEMPLATE.read_text())
    return doc


def table_definition() -> dict[str, Any]:
    """The CloudFormation table properties as CreateTable parameters."""
    props = template()["Resources"]["Table"]["Properties"]
    return {
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "GlobalSecondaryIndexes": props["GlobalSecondaryIndexes"],
        "BillingMode": props["BillingMode"],
        "StreamSpecification": {"StreamEnabled": True, **props["StreamSpecification"]},
        "SSESpecification": {"Enabled": props["SSESpecification"]["SSEEnabled"]},
    }


def ttl_attribute() -> str:
    return str(template()["Resources"]["Table"]["Properties"]["TimeToLiveSpecification"]["AttributeName"])


def ensure_table() -> bool:
    """Create the table if it is missing; True when it was created."""
    ddb = aws.dynamodb()
    name = settings().table_name
    try:
        ddb.describe_table(TableName=name)
        return False
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(TableName=name, **table_definition())
    ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
    ddb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"AttributeName": ttl_attribute(), "Enabled": True}
    )
    return True


def ensure_bucket() -> bool:
    """Create the content bucket (private, encrypted, versioned) if it is missing."""
    s3 = aws.s3()
    cfg = settings()
    props = template()["Resources"]["ContentBucket"]["Properties"]
    try:
        s3.head_bucket(Bucket=cfg.bucket_name)
        return False
    except s3.exceptions.ClientError:
        pass
    extra = {} if cfg.region == "us-east-1" else {
        "CreateBucketConfiguration": {"LocationConstraint": cfg.region}
    }
    s3.create_bucket(Bucket=cfg.bucket_name, **extra)
    s3.put_bucket_versioning(Bucket=cfg.bucket_name, VersioningConfiguration=props["VersioningConfiguration"])
    s3.put_bucket_encryption(Bucket=cfg.bucket_name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": r["ServerSideEncryptionByDefault"]}
                  for r in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
    })
    s3.put_public_access_block(
        Bucket=cfg.bucket_name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
    )
    return True
