"""Deployment artefacts, checked offline.

`chalice package --merge-template infra/resources.json` runs once per session (it downloads the
Lambda wheels from PyPI; no network is a failure, not a skip). The merged SAM template must pass
cfn-lint, carry the table, bucket, stream wiring and IAM that infra/ promises, and create in moto's
CloudFormation, every stage in its region. requirements.txt, .chalice/config.json and the models are
checked against pyproject.toml and infra/resources.json.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
import warnings
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
MERGE_TEMPLATE = ROOT / "infra" / "resources.json"
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
PACKAGE_STAGE = "dev"
# python3.11 Lambda runs on Amazon Linux 2: glibc 2.26.
LAMBDA_GLIBC = (2, 26)
PINS_MARKER = "# Lambda runtime pins"
# Environment variables the Lambda service reserves (a deployment setting one of these fails).
RESERVED_ENV = re.compile(r"^(AWS_|_|LAMBDA_TASK_ROOT$|LAMBDA_RUNTIME_DIR$|TZ$)")


# ---------------------------------------------------------------- helpers


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _chalice_config() -> dict[str, Any]:
    return _load(CHALICE_CONFIG)


def _stages() -> dict[str, dict[str, Any]]:
    stages: dict[str, dict[str, Any]] = _chalice_config()["stages"]
    return stages


def _stage_env(stage: str) -> dict[str, str]:
    return {**_chalice_config().get("environment_variables", {}),
            **_stages()[stage].get("environment_variables", {})}


def _req_key(req: Requirement) -> tuple[str, frozenset[str], str, str]:
    return (canonicalize_name(req.name), frozenset(req.extras), str(req.specifier), str(req.marker or ""))


def _requirements_sections() -> tuple[list[Requirement], list[Requirement]]:
    """requirements.txt as (dependencies, Lambda runtime pins below the PINS_MARKER comment)."""
    deps: list[Requirement] = []
    pins: list[Requirement] = []
    target = deps
    for raw in (ROOT / "requirements.txt").read_text().splitlines():
        line = raw.strip()
        if line.startswith(PINS_MARKER):
            target = pins
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"requirements.txt: options are not supported here: {line}"
        target.append(Requirement(line))
    return deps, pins


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items()
            if res.get("Type") == "AWS::Serverless::Function"}


def _function_env(template: dict[str, Any], name: str) -> dict[str, Any]:
    """A function's environment after SAM merges Globals into it (the function's own keys win)."""
    glob = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = template["Resources"][name]["Properties"].get("Environment", {}).get("Variables", {})
    return {**glob, **own}


def _statements(policy_document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = policy_document["Statement"]
    return statements if isinstance(statements, list) else [statements]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _wheel_tag_ok(tag: str) -> bool:
    platform = tag.rsplit("-", 1)[-1]
    for plat in platform.split("."):
        if plat == "any" or plat in {"manylinux1_x86_64", "manylinux2010_x86_64", "manylinux2014_x86_64"}:
            return True
        m = re.fullmatch(r"manylinux_(\d+)_(\d+)_x86_64", plat)
        if m and (int(m.group(1)), int(m.group(2))) <= LAMBDA_GLIBC:
            return True
    return False


# ---------------------------------------------------------------- the package, once per session


def _copy_project(dest: Path) -> None:
    """What `chalice package` reads, without caches: a fresh package every session (chalice keys its
    own cache on requirements.txt and the app's files only, and concurrent runs would share it)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    dest.mkdir()
    shutil.copy2(ROOT / "app.py", dest / "app.py")
    shutil.copy2(ROOT / "requirements.txt", dest / "requirements.txt")
    shutil.copytree(ROOT / "chalicelib", dest / "chalicelib", ignore=ignore)
    if (ROOT / "vendor").is_dir():
        shutil.copytree(ROOT / "vendor", dest / "vendor", ignore=ignore)
    (dest / ".chalice").mkdir()
    for path in (ROOT / ".chalice").glob("*.json"):
        shutil.copy2(path, dest / ".chalice" / path.name)


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    work = tmp_path_factory.mktemp("chalice-package")
    project, out = work / "project", work / "out"
    _copy_project(project)
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    env.pop("ONRAMP_TABLE_STREAM_ARN", None)
    cmd = [sys.executable, "-c", "import sys; from chalice.cli import main; sys.exit(main())",
           "package", "--stage", PACKAGE_STAGE, "--merge-template", str(MERGE_TEMPLATE), str(out)]
    proc = subprocess.run(cmd, cwd=project, env=env, capture_output=True, text=True, timeout=900)
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        pytest.fail(f"chalice package failed (exit {proc.returncode}):\n{output[-4000:]}")
    # chalice only warns when a dependency cannot be installed (no network, no compatible wheel)
    if "Could not install dependencies" in output:
        pytest.fail(f"chalice package left dependencies out:\n{output[-4000:]}")
    return {"template": _load(out / "sam.json"), "sam_path": out / "sam.json",
            "zip": out / "deployment.zip", "output": output}


@pytest.fixture(scope="session")
def template(packaged: dict[str, Any]) -> dict[str, Any]:
    tpl: dict[str, Any] = packaged["template"]
    return tpl


# ---------------------------------------------------------------- requirements.txt


def test_requirements_are_pyproject_dependencies_less_chalice() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    expected = {_req_key(Requirement(d)) for d in pyproject["project"]["dependencies"]
                if canonicalize_name(Requirement(d).name) != "chalice"}
    deps, _ = _requirements_sections()
    got = [_req_key(r) for r in deps]
    assert len(got) == len(set(got)), "requirements.txt lists a dependency twice"
    assert set(got) == expected, (
        f"only in pyproject: {sorted(expected - set(got))}; only in requirements.txt: "
        f"{sorted(set(got) - expected)}"
    )


def test_lambda_runtime_pins_constrain_transitive_dependencies_only() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    direct = {canonicalize_name(Requirement(d).name) for d in pyproject["project"]["dependencies"]}
    _, pins = _requirements_sections()
    for pin in pins:
        assert canonicalize_name(pin.name) not in direct, (
            f"{pin.name} is a direct dependency: constrain it in pyproject.toml, not as a Lambda pin")
        assert str(pin.specifier), f"a Lambda pin without a version range: {pin}"


# ---------------------------------------------------------------- .chalice/config.json


def test_chalice_config_stages() -> None:
    config = _chalice_config()
    assert config["app_name"] == "onramp" and config["version"] == "2.0"
    assert {"dev", "prod-us", "prod-eu"} <= set(_stages())
    import boto3

    regions = set(boto3.session.Session().get_available_regions("dynamodb"))
    for stage in _stages():
        env = _stage_env(stage)
        assert env["ONRAMP_STAGE"] == stage
        assert env["ONRAMP_REGION"] in regions, f"{stage}: unknown region {env['ONRAMP_REGION']}"
        assert env["ONRAMP_ISSUER"].startswith("https://")
        assert env["POWERTOOLS_SERVICE_NAME"] == "onramp"
        assert env["POWERTOOLS_METRICS_NAMESPACE"] == "Onramp"


def test_chalice_config_holds_no_reserved_variables_accounts_or_secrets() -> None:
    text = CHALICE_CONFIG.read_text()
    assert not re.search(r"(?<!\d)\d{12}(?!\d)", text), "an AWS account id in .chalice/config.json"
    assert "arn:aws" not in text
    scopes = [_chalice_config(), *_stages().values(),
              *_chalice_config().get("lambda_functions", {}).values(),
              *(f for s in _stages().values() for f in s.get("lambda_functions", {}).values())]
    for scope in scopes:
        for name in scope.get("environment_variables", {}):
            assert not RESERVED_ENV.match(name), f"Lambda reserves {name}; the region comes from the stack"
            assert "SECRET" not in name and "PASSWORD" not in name, f"{name}: secrets come from infra/"


def test_stage_parameter_and_region_rules_match_chalice_stages() -> None:
    infra = _load(MERGE_TEMPLATE)
    assert sorted(infra["Parameters"]["Stage"]["AllowedValues"]) == sorted(_stages())
    # CloudFormation refuses to deploy a stage outside its ONRAMP_REGION
    rules = {}
    for rule in infra["Rules"].values():
        (ref, stage) = rule["RuleCondition"]["Fn::Equals"]
        (assertion,) = rule["Assertions"]
        (region_ref, region) = assertion["Assert"]["Fn::Equals"]
        assert ref == {"Ref": "Stage"} and region_ref == {"Ref": "AWS::Region"}
        rules[stage] = region
    assert rules == {stage: _stage_env(stage)["ONRAMP_REGION"] for stage in _stages()}


# ---------------------------------------------------------------- the package


def test_packaged_template_passes_cfn_lint(packaged: dict[str, Any]) -> None:
    from cfnlint.api import lint

    regions = sorted({_stage_env(stage)["ONRAMP_REGION"] for stage in _stages()})
    matches = lint(packaged["sam_path"].read_text(), regions=regions)
    errors = [m for m in matches if m.rule.id.startswith("E")]
    others = [m for m in matches if not m.rule.id.startswith("E")]
    for match in others:
        warnings.warn(f"cfn-lint {match.rule.id} line {match.linenumber}: {match.message}", stacklevel=1)
    assert not errors, "\n".join(f"{m.rule.id} line {m.linenumber}: {m.message}" for m in errors)


def test_deployment_package_holds_the_app_and_lambda_compatible_wheels(packaged: dict[str, Any]) -> None:
    with zipfile.ZipFile(packaged["zip"]) as zf:
        names = set(zf.namelist())
        wheels = {n.split("/")[0]: zf.read(n).decode() for n in names if re.fullmatch(r"[^/]+\.dist-info/WHEEL", n)}
    assert {"app.py", "chalicelib/__init__.py", "chalice/app.py"} <= names
    for top in ("pynamodb/", "boto3/", "aws_lambda_powertools/", "jwt/", "cryptography/", "jinja2/",
                "pydantic_core/", "fpdf/"):
        assert any(n.startswith(top) for n in names), f"{top} missing from the deployment package"
    built_here = {dist: [ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("Tag:")]
                  for dist, text in wheels.items()}
    bad = {dist: tags for dist, tags in built_here.items() if not any(_wheel_tag_ok(t) for t in tags)}
    assert not bad, (
        f"wheels the python3.11 Lambda runtime (glibc {LAMBDA_GLIBC}) cannot load, built on this machine: "
        f"{bad}; pin a release with manylinux2014 wheels under '{PINS_MARKER}' in requirements.txt")


def test_every_function_handler_exists_in_the_app(template: dict[str, Any]) -> None:
    import app

    for name, fn in _functions(template).items():
        module, _, attr = fn["Properties"]["Handler"].partition(".")
        assert module == "app"
        assert callable(getattr(app, attr, None)), (
            f"{name}: Lambda would call app.{attr}, which app.py does not define")


# ---------------------------------------------------------------- the merged template


def test_table_is_durable_encrypted_streamed(template: dict[str, Any]) -> None:
    table = template["Resources"]["Table"]
    props = table["Properties"]
    assert table["Type"] == "AWS::DynamoDB::Table" and table["DeletionPolicy"] == "Retain"
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    assert props["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert {g["IndexName"] for g in props["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}


def test_content_bucket_is_private_encrypted_versioned(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["ContentBucket"]
    props = bucket["Properties"]
    assert bucket["Type"] == "AWS::S3::Bucket" and bucket["DeletionPolicy"] == "Retain"
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rules and all(r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules)
    block = props["PublicAccessBlockConfiguration"]
    assert all(block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                                          "RestrictPublicBuckets"))
    policy = template["Resources"]["ContentBucketPolicy"]["Properties"]
    assert policy["Bucket"] == {"Ref": "ContentBucket"}
    assert any(s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
               for s in _statements(policy["PolicyDocument"]))


def test_stream_consumer_reads_the_table_stream_with_partial_failures_and_a_dlq(
        template: dict[str, Any]) -> None:
    events = template["Resources"]["OnTableChange"]["Properties"]["Events"]
    sources = [e for e in events.values() if e["Type"] == "DynamoDB"]
    assert len(sources) == 1
    props = sources[0]["Properties"]
    assert props["Stream"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert 0 <= props["MaximumRetryAttempts"] <= 10
    assert props["BisectBatchOnFunctionError"] is True
    on_failure = props["DestinationConfig"]["OnFailure"]
    assert on_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": ["TableStreamDLQ", "Arn"]}}
    assert template["Resources"]["TableStreamDLQ"]["Type"] == "AWS::SQS::Queue"
    # the filter lets through exactly what chalicelib/events/consumer.py handles: INSERTed Event items
    (flt,) = props["FilterCriteria"]["Filters"]
    assert json.loads(flt["Pattern"]) == {"eventName": ["INSERT"],
                                          "dynamodb": {"NewImage": {"type": {"S": ["Event"]}}}}


def test_every_function_gets_table_bucket_and_secret(template: dict[str, Any]) -> None:
    functions = _functions(template)
    assert {"APIHandler", "OnTableChange", "JobRotateSigningKeys"} <= set(functions)
    for name in functions:
        env = _function_env(template, name)
        assert env["ONRAMP_TABLE"] == {"Ref": "Table"}, name
        assert env["ONRAMP_BUCKET"] == {"Ref": "ContentBucket"}, name
        assert env["ONRAMP_SECRET"] == {"Fn::Sub": "onramp/${Stage}/platform"}, name
        assert env["ONRAMP_STAGE"] == PACKAGE_STAGE, name
        assert functions[name]["Properties"]["Role"] == {"Fn::GetAtt": ["DefaultRole", "Arn"]}, name
    assert functions["APIHandler"]["Properties"]["Timeout"] <= 29  # API Gateway's integration limit
    assert all(fn["Properties"]["MemorySize"] >= 512 for fn in functions.values())


def test_function_role_is_least_privilege(template: dict[str, Any]) -> None:
    role = template["Resources"]["DefaultRole"]["Properties"]
    assert [p["PolicyName"] for p in role["Policies"]] == ["OnrampFunctions"], "Chalice's autogen policy survived"
    by_sid = {s["Sid"]: s for s in _statements(role["Policies"][0]["PolicyDocument"])}
    for sid, stmt in by_sid.items():
        assert stmt["Effect"] == "Allow"
        actions = _as_list(stmt["Action"])
        assert all(a != "*" and not a.endswith(":*") for a in actions), sid
        assert "*" not in _as_list(stmt["Resource"]), sid
    table_actions = set(by_sid["TableItems"]["Action"])
    assert "dynamodb:Scan" not in table_actions and "dynamodb:DeleteTable" not in table_actions
    assert by_sid["TableItems"]["Resource"] == [{"Fn::GetAtt": ["Table", "Arn"]},
                                                {"Fn::Sub": "${Table.Arn}/index/*"}]
    assert by_sid["TableStream"]["Resource"] == {"Fn::Sub": "${Table.Arn}/stream/*"}
    assert by_sid["StreamFailures"]["Resource"] == {"Fn::GetAtt": ["TableStreamDLQ", "Arn"]}
    assert all("ContentBucket" in json.dumps(by_sid[s]["Resource"]) for s in ("ContentObjects", "ContentListing"))
    secret = by_sid["PlatformSecret"]
    # keys.py creates the secret on first use and puts a new version on rotation
    assert set(secret["Action"]) == {"secretsmanager:GetSecretValue", "secretsmanager:CreateSecret",
                                     "secretsmanager:PutSecretValue"}
    assert secret["Resource"]["Fn::Sub"].endswith(":secret:onramp/${Stage}/*")


def test_tenant_role_is_confined_to_its_tenants_partition_keys(template: dict[str, Any]) -> None:
    role = template["Resources"]["TenantAccessRole"]
    assert role["Type"] == "AWS::IAM::Role"
    trust = _statements(role["Properties"]["AssumeRolePolicyDocument"])
    assert all(s["Principal"] == {"AWS": {"Fn::GetAtt": ["DefaultRole", "Arn"]}} for s in trust)
    tagging = [s for s in trust if s["Action"] == "sts:TagSession"]
    assert tagging and tagging[0]["Condition"]["StringLike"] == {"aws:RequestTag/tenant": "?*"}
    (policy,) = role["Properties"]["Policies"]
    for stmt in _statements(policy["PolicyDocument"]):
        assert stmt["Effect"] == "Allow"
        assert not {"dynamodb:Scan", "dynamodb:*", "*"} & set(_as_list(stmt["Action"]))
        assert stmt["Condition"] == {
            "ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["T#${aws:PrincipalTag/tenant}#*"]}}


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["TableName"]["Value"] == {"Ref": "Table"}
    assert outputs["TableStreamArn"]["Value"] == {"Fn::GetAtt": ["Table", "StreamArn"]}
    assert outputs["BucketName"]["Value"] == {"Ref": "ContentBucket"}
    assert outputs["TableStreamDLQUrl"]["Value"] == {"Ref": "TableStreamDLQ"}
    assert outputs["TenantAccessRoleArn"]["Value"] == {"Fn::GetAtt": ["TenantAccessRole", "Arn"]}
    assert "EndpointURL" in outputs  # Chalice's own outputs are kept


def test_uploads_go_from_the_bucket_to_a_queue_with_a_dlq_that_feeds_the_ingest_function(
        template: dict[str, Any]) -> None:
    from chalicelib.config import settings

    res = template["Resources"]
    bucket = res["ContentBucket"]
    # S3 checks that it may send to the queue when the notification is set: the queue policy comes first
    assert bucket["DependsOn"] == ["UploadsQueuePolicy"]
    (notification,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert notification == {"Event": "s3:ObjectCreated:*", "Queue": {"Fn::GetAtt": ["UploadsQueue", "Arn"]},
                            "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": settings().uploads_prefix}]}}}
    queue = res["UploadsQueue"]["Properties"]
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["UploadsDLQ", "Arn"]},
                                      "maxReceiveCount": 3}
    assert res["UploadsDLQ"]["Type"] == "AWS::SQS::Queue"
    ingest = _functions(template)["OnPackageUploaded"]["Properties"]
    assert queue["VisibilityTimeout"] >= ingest["Timeout"]  # Lambda refuses a mapping otherwise (AWS advises 6x)
    (stmt,) = _statements(res["UploadsQueuePolicy"]["Properties"]["PolicyDocument"])
    assert stmt["Principal"] == {"Service": "s3.amazonaws.com"} and stmt["Action"] == "sqs:SendMessage"
    assert stmt["Resource"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    assert stmt["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    (source,) = ingest["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["Queue"] == {"Fn::Sub": "${UploadsQueue.Arn}"}  # not the name app.py was packaged with
    for name in _functions(template):
        assert _function_env(template, name)["ONRAMP_UPLOADS_QUEUE"] == {"Fn::GetAtt": ["UploadsQueue", "QueueName"]}
    role = template["Resources"]["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    consume = {s["Sid"]: s for s in _statements(role)}["UploadEvents"]
    assert consume["Resource"] == {"Fn::GetAtt": ["UploadsQueue", "Arn"]}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"} <= set(consume["Action"])


def test_xapi_forwarding_goes_through_a_queue_with_a_dlq_that_feeds_the_delivery_function(
        template: dict[str, Any]) -> None:
    res = template["Resources"]
    queue = res["XapiForwardingQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["XapiForwardingDLQ", "Arn"]}
    assert queue["RedrivePolicy"]["maxReceiveCount"] >= 5  # an external LRS's outage of about an hour
    assert res["XapiForwardingDLQ"]["Type"] == "AWS::SQS::Queue"
    assert queue["SqsManagedSseEnabled"] is True  # the messages name statements (ids), nothing more
    deliver = _functions(template)["OnXapiForwarding"]["Properties"]
    assert queue["VisibilityTimeout"] >= deliver["Timeout"]
    (source,) = deliver["Events"].values()
    assert source["Type"] == "SQS" and source["Properties"]["BatchSize"] == 1
    assert source["Properties"]["Queue"] == {"Fn::Sub": "${XapiForwardingQueue.Arn}"}
    for name in _functions(template):  # the stream consumer sends, the delivery function receives
        assert _function_env(template, name)["ONRAMP_XAPI_FORWARDING_QUEUE"] == {
            "Fn::GetAtt": ["XapiForwardingQueue", "QueueName"]}
    role = res["DefaultRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    by_sid = {s["Sid"]: s for s in _statements(role)}
    assert set(by_sid["XapiForwardingSend"]["Action"]) == {"sqs:SendMessage", "sqs:GetQueueUrl"}
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"} <= set(
        by_sid["XapiForwardingDeliveries"]["Action"])
    for sid in ("XapiForwardingSend", "XapiForwardingDeliveries"):
        assert by_sid[sid]["Resource"] == {"Fn::GetAtt": ["XapiForwardingQueue", "Arn"]}
    assert template["Outputs"]["XapiForwardingDLQUrl"]["Value"] == {"Ref": "XapiForwardingDLQ"}


CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_one_distribution_serves_the_api_and_the_content_same_origin(template: dict[str, Any]) -> None:
    res = template["Resources"]
    config = res["Distribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    default = config["DefaultCacheBehavior"]
    api = origins[default["TargetOriginId"]]
    assert api["DomainName"] == {"Fn::Sub": "${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}"}
    assert api["OriginPath"] == "/" + res["RestAPI"]["Properties"]["StageName"]  # Chalice's API Gateway stage
    assert api["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    assert default["CachePolicyId"] == CACHING_DISABLED
    assert default["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER  # API Gateway needs its own Host
    assert set(default["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}
    (content,) = config["CacheBehaviors"]
    assert content["PathPattern"] == "/content/*" and content["CachePolicyId"] == CACHING_OPTIMIZED
    bucket = origins[content["TargetOriginId"]]
    assert bucket["DomainName"] == {"Fn::GetAtt": ["ContentBucket", "RegionalDomainName"]}
    assert bucket["OriginAccessControlId"] == {"Fn::GetAtt": ["ContentOriginAccessControl", "Id"]}
    assert bucket["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    oac = res["ContentOriginAccessControl"]["Properties"]["OriginAccessControlConfig"]
    assert oac["OriginAccessControlOriginType"] == "s3" and oac["SigningBehavior"] == "always"
    assert all(b["ViewerProtocolPolicy"] != "allow-all" for b in [default, content])
    # only this distribution reads the bucket, and only the public assets' folders of content/ (course files
    # under content/<owner>/... are served through the API, behind a content token)
    from chalicelib.content import assets

    grants = [s for s in _statements(res["ContentBucketPolicy"]["Properties"]["PolicyDocument"])
              if s["Effect"] == "Allow"]
    assert grants == [{
        "Sid": "DistributionReadsContent", "Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": [{"Fn::Sub": f"${{ContentBucket.Arn}}/content/{folder}/*"} for folder in assets.PUBLIC],
        "Condition": {"StringEquals": {"AWS:SourceArn": {
            "Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}"}}}}]
    assert template["Outputs"]["DistributionDomainName"]["Value"] == {"Fn::GetAtt": ["Distribution", "DomainName"]}


def test_merge_only_extends_resources_chalice_generated(template: dict[str, Any]) -> None:
    # a merge override of a renamed Chalice resource would leave a resource without a Type
    assert all("Type" in res for res in template["Resources"].values())


# ---------------------------------------------------------------- models agree with infra/


def test_pynamodb_models_agree_with_the_table_definition() -> None:
    from chalicelib.store.models import Item

    props = _load(MERGE_TEMPLATE)["Resources"]["Table"]["Properties"]
    schema = Item._get_schema()
    assert Item._hash_key_attribute().attr_name == "PK"
    assert Item._range_key_attribute().attr_name == "SK"

    def pairs(items: list[dict[str, str]], value: str) -> set[tuple[str, str]]:
        return {(i["AttributeName"], i[value]) for i in items}

    assert pairs(schema["key_schema"], "KeyType") == pairs(props["KeySchema"], "KeyType")
    assert pairs(schema["attribute_definitions"], "AttributeType") == pairs(
        props["AttributeDefinitions"], "AttributeType")
    model_indexes = {i["index_name"]: i for i in schema["global_secondary_indexes"]}
    infra_indexes = {g["IndexName"]: g for g in props["GlobalSecondaryIndexes"]}
    assert set(model_indexes) == set(infra_indexes) == {"GSI1", "GSI2"}
    for name, gsi in infra_indexes.items():
        assert pairs(model_indexes[name]["key_schema"], "KeyType") == pairs(gsi["KeySchema"], "KeyType")
        assert model_indexes[name]["projection"] == gsi["Projection"]
    assert Item.ttl.attr_name == props["TimeToLiveSpecification"]["AttributeName"]


# ---------------------------------------------------------------- the stacks in moto, every stage in its region


def _infra_only(template: dict[str, Any]) -> dict[str, Any]:
    """The merged template without the SAM transform: moto creates what infra/ adds (and Chalice's
    role); the functions themselves need the SAM translator, which this suite does not install."""
    tpl = copy.deepcopy(template)
    tpl.pop("Transform", None)
    tpl.pop("Globals", None)
    dropped = {name for name, res in tpl["Resources"].items() if res["Type"].startswith("AWS::Serverless::")}

    def uses_dropped(obj: Any) -> bool:
        text = json.dumps(obj)
        return any(f'"{name}"' in text or f"${{{name}" in text for name in dropped)

    while True:
        more = {name for name, res in tpl["Resources"].items() if name not in dropped and uses_dropped(res)}
        if not more:
            break
        dropped |= more
    tpl["Resources"] = {k: v for k, v in tpl["Resources"].items() if k not in dropped}
    tpl["Outputs"] = {k: v for k, v in tpl.get("Outputs", {}).items() if not uses_dropped(v)}
    return tpl


@pytest.mark.filterwarnings("ignore:Tried to parse AWS")
def test_every_stage_creates_in_its_region(template: dict[str, Any]) -> None:
    import boto3
    from moto import mock_aws

    body = json.dumps(_infra_only(template))
    assert {"Table", "ContentBucket", "TableStreamDLQ", "DefaultRole", "TenantAccessRole", "UploadsQueue",
            "UploadsDLQ", "XapiForwardingQueue", "XapiForwardingDLQ"} <= set(json.loads(body)["Resources"])
    targets = {stage: _stage_env(stage)["ONRAMP_REGION"] for stage in _stages()}
    assert len(set(targets.values())) >= 2
    with mock_aws():  # two stages share us-east-1: nothing in the template may have a fixed name
        for stage, region in targets.items():
            cfn = boto3.client("cloudformation", region_name=region)
            cfn.create_stack(StackName=f"onramp-{stage}", TemplateBody=body, Capabilities=["CAPABILITY_IAM"],
                             Parameters=[{"ParameterKey": "Stage", "ParameterValue": stage}])
            stack = cfn.describe_stacks(StackName=f"onramp-{stage}")["Stacks"][0]
            assert stack["StackStatus"] == "CREATE_COMPLETE", stack.get("StackStatusReason")
            outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
            table = boto3.client("dynamodb", region_name=region).describe_table(
                TableName=outputs["TableName"])["Table"]
            assert table["TableArn"].split(":")[3] == region
            assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
            assert outputs["TableStreamArn"] == table["LatestStreamArn"]
            assert {g["IndexName"] for g in table["GlobalSecondaryIndexes"]} == {"GSI1", "GSI2"}
            assert f"sqs.{region}." in outputs["TableStreamDLQUrl"]
            redrive = boto3.client("sqs", region_name=region).get_queue_attributes(
                QueueUrl=outputs["UploadsQueueUrl"], AttributeNames=["RedrivePolicy"])["Attributes"]["RedrivePolicy"]
            assert json.loads(redrive)["maxReceiveCount"] == 3
            assert outputs["PlatformSecretName"] == f"onramp/{stage}/platform"
            # (moto's CloudFormation applies the bucket's encryption but not its versioning)
            encryption = boto3.client("s3", region_name=region).get_bucket_encryption(
                Bucket=outputs["BucketName"])["ServerSideEncryptionConfiguration"]
            assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_functions_send_mail_only_from_the_sender_identity() -> None:
    infra = _load(MERGE_TEMPLATE)
    assert infra["Globals"]["Function"]["Environment"]["Variables"]["ONRAMP_SENDER_EMAIL"] == {"Ref": "SenderEmail"}
    (policy,) = infra["Resources"]["DefaultRole"]["Properties"]["Policies"]
    (mail,) = [s for s in _statements(policy["PolicyDocument"]) if s["Sid"] == "SendMail"]
    assert mail["Action"] == "ses:SendEmail"
    resources = json.dumps(mail["Resource"])
    assert ":identity/${SenderEmail}" in resources and ":identity/${Domain}" in resources and '"*"' not in resources
    assert mail["Condition"] == {"StringEquals": {"ses:FromAddress": {"Ref": "SenderEmail"}}}
    assert re.fullmatch(infra["Parameters"]["SenderEmail"]["AllowedPattern"], "no-reply@onramp.example")
