"""Create the table, the bucket, its uploads queues and the xAPI forwarding queues from the same definitions
infra/ deploys, and verify the SES sender (local stack and tests)."""

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
    """Create the content bucket (private, encrypted, versioned) if it is missing, and wire its uploads
    to the uploads queue (created here too) as infra/ does; True when the bucket was created.
    Idempotent: the queues and the notification are brought in line on every call."""
    created = _create_bucket()
    _ensure_cors()
    ensure_upload_notifications(ensure_upload_queues())
    ensure_forwarding_queues()  # not the bucket's, but made with the other queues: one call sets up the stack
    ensure_sender_identity()  # likewise: SES sends only from a verified identity
    return created


def ensure_sender_identity() -> bool:
    """Verify the sender address (ONRAMP_SENDER_EMAIL) in SES, as an operator does once per account and region
    when deploying (the emulator verifies at once); True when it was created."""
    ses = aws.client("sesv2")
    sender = settings().sender_email
    try:
        ses.get_email_identity(EmailIdentity=sender)
        return False
    except ses.exceptions.NotFoundException:
        ses.create_email_identity(EmailIdentity=sender)
        return True


def _create_bucket() -> bool:
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


def _ensure_cors() -> None:
    rules = template()["Resources"]["ContentBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    names = {"Id": "ID", "MaxAge": "MaxAgeSeconds"}  # CloudFormation's names -> the S3 API's
    aws.s3().put_bucket_cors(Bucket=settings().bucket_name, CORSConfiguration={
        "CORSRules": [{names.get(k, k): v for k, v in rule.items()} for rule in rules]})


# -- package uploads: bucket -> queue (with its DLQ) ------------------------------------------------
def uploads_dlq_name() -> str:
    return f"{settings().uploads_queue_name}-dlq"


def _queue_attributes(props: dict[str, Any]) -> dict[str, str]:
    """CloudFormation queue properties as SetQueueAttributes values (RedrivePolicy is handled apart)."""
    names = ("VisibilityTimeout", "MessageRetentionPeriod", "SqsManagedSseEnabled")
    return {n: str(props[n]).lower() if isinstance(props[n], bool) else str(props[n]) for n in names if n in props}


def _ensure_queue(name: str, attributes: dict[str, str]) -> str:
    """CreateQueue returns an existing queue that has these attributes; one that differs is updated."""
    sqs = aws.client("sqs")
    try:
        return str(sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"])
    except sqs.exceptions.QueueNameExists:
        url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return url


def queue_arn(url: str) -> str:
    return str(aws.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
               ["Attributes"]["QueueArn"])


def _ensure_queue_with_dlq(resource: str, name: str) -> str:
    """A queue and its DLQ (`<name>-dlq`) as infra/ defines `resource` and `resource`'s DLQ; the queue's ARN."""
    resources = template()["Resources"]
    props = resources[resource]["Properties"]
    dlq_resource = props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
    dlq_url = _ensure_queue(f"{name}-dlq", _queue_attributes(resources[dlq_resource]["Properties"]))
    redrive = {"deadLetterTargetArn": queue_arn(dlq_url), "maxReceiveCount": props["RedrivePolicy"]["maxReceiveCount"]}
    attributes = {**_queue_attributes(props), "RedrivePolicy": json.dumps(redrive)}
    return queue_arn(_ensure_queue(name, attributes))


def ensure_upload_queues() -> str:
    """The uploads queue and its DLQ as infra/ defines them (UploadsQueue, UploadsDLQ); the queue's ARN."""
    return _ensure_queue_with_dlq("UploadsQueue", settings().uploads_queue_name)


def forwarding_dlq_name() -> str:
    return f"{settings().forwarding_queue_name}-dlq"


def ensure_forwarding_queues() -> str:
    """The xAPI forwarding queue and its DLQ (XapiForwardingQueue, XapiForwardingDLQ); the queue's ARN."""
    return _ensure_queue_with_dlq("XapiForwardingQueue", settings().forwarding_queue_name)


def upload_notifications(queue: str) -> dict[str, Any]:
    """The bucket's NotificationConfiguration of infra/ in the S3 API's shape, sending to `queue` (an ARN)."""
    configs = template()["Resources"]["ContentBucket"]["Properties"]["NotificationConfiguration"]
    return {"QueueConfigurations": [
        {"Id": f"uploads-{n}", "QueueArn": queue, "Events": [c["Event"]],
         "Filter": {"Key": {"FilterRules": [{"Name": r["Name"], "Value": r["Value"]}
                                            for r in c["Filter"]["S3Key"]["Rules"]]}}}
        for n, c in enumerate(configs["QueueConfigurations"])
    ]}


def _comparable(config: dict[str, Any]) -> list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]]:
    return sorted((c["QueueArn"], tuple(sorted(c["Events"])),
                   tuple(sorted((r["Name"].lower(), r["Value"]) for r in c.get("Filter", {}).get("Key", {})
                                .get("FilterRules", []))))
                  for c in config.get("QueueConfigurations", []))


def ensure_upload_notifications(queue: str) -> bool:
    """Point the bucket's ObjectCreated events under the uploads prefix at `queue`; True when changed.
    Left alone when already so: S3 sends an s3:TestEvent message on every change."""
    s3 = aws.s3()
    bucket = settings().bucket_name
    wanted = upload_notifications(queue)
    current = s3.get_bucket_notification_configuration(Bucket=bucket)
    if _comparable(current) == _comparable(wanted):
        return False
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=wanted)
    return True
