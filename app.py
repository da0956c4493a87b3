"""Onramp's Chalice app: blueprints, the HTTP middleware, the stream consumer and scheduled jobs."""

from __future__ import annotations

import os
from typing import Any

from chalice import Chalice, Cron, Rate

from chalicelib.api import auth, content, courses, learning, meta, tenants, user_imports, users, xapi
from chalicelib.api import brandkits as brandkits_api
from chalicelib.api import certificate_pdf as certificate_pdf_api
from chalicelib.api import certifications as certifications_api
from chalicelib.api import integrations as crm_integrations
from chalicelib.api import leads as leads_api
from chalicelib.api import partners as partners_api
from chalicelib.api import scim as scim_api
from chalicelib.api import scorecards as scorecards_api
from chalicelib.api import sla as sla_api
from chalicelib.api import verify as verify_api
from chalicelib.config import settings
from chalicelib.http.middleware import edge
from chalicelib.jobs import JOBS, catalog, function_name
from chalicelib.lazy import lazy

app = Chalice(app_name="onramp", configure_logs=False)  # Powertools owns the "onramp" logger
app.register_middleware(edge, "http")
# Course files and player assets are served as bytes (deployed: API Gateway's binary media types).
app.api.binary_types.extend(["image/*", "font/*", "audio/*", "video/*", "application/pdf", "application/zip",
                             "application/wasm", "application/font-woff", "application/vnd.ms-fontobject"])
# xAPI statements with attachments: multipart/mixed requests reach Lambda byte-exact, and GET
# ?attachments=true answers bytes to clients whose Accept names it, else text when UTF-8 (docs/lrs.md).
app.api.binary_types.append("multipart/mixed")
for blueprint in (meta.bp, auth.bp, tenants.bp, users.bp, xapi.bp, courses.bp, learning.bp, content.bp,
                  user_imports.bp, crm_integrations.bp, scim_api.bp, certifications_api.bp):
    app.register_blueprint(blueprint)
for blueprint in (certificate_pdf_api.bp, verify_api.bp):  # certificates: the PDF, public verification
    app.register_blueprint(blueprint)
app.register_blueprint(partners_api.bp)  # partner program: tiers, quotes
app.register_blueprint(scorecards_api.bp)  # partner program: KPI scorecards, onboarding plans
app.register_blueprint(sla_api.bp)  # partner program: SLA calendars, support cases, uptime
app.register_blueprint(brandkits_api.bp)  # partner program: co-branding (brand kits)
app.register_blueprint(leads_api.bp)  # partner program: lead routing, claims, outcomes

_consumer = lazy("chalicelib.events.consumer")
_runner = lazy("chalicelib.jobs.runner")
_ingest = lazy("chalicelib.content.ingest")
_imports = lazy("chalicelib.users.import_job")
_cert_exports = lazy("chalicelib.certification.export_job")
_outbound = lazy("chalicelib.lrs.outbound")
# Deployed, infra/ sets the real stream ARN on the event source mapping; locally records are fed in tests.
TABLE_STREAM_ARN = os.environ.get(
    "ONRAMP_TABLE_STREAM_ARN", "arn:aws:dynamodb:us-east-1:000000000000:table/onramp-local/stream/local")


@app.on_dynamodb_record(stream_arn=TABLE_STREAM_ARN, batch_size=100, starting_position="TRIM_HORIZON")
def on_table_change(event: Any) -> dict[str, Any]:
    return _consumer.handle_records(event.to_dict().get("Records", []))


@app.on_sqs_message(queue=settings().uploads_queue_name, batch_size=1)
def on_package_uploaded(event: Any) -> None:
    """S3 `ObjectCreated` notifications for uploaded packages and user-import CSVs, and the imports' own chunk
    messages (via SQS, so failures retry, then DLQ)."""
    import json

    for record in event:
        body = json.loads(record.body)
        # user-import CSVs (uploads/user-imports/...) and their chunk messages share the queue
        if not _imports.handle_message(body, event.context) and not _cert_exports.handle_message(body, event.context):
            _ingest.handle_s3_event(body)


@app.on_sqs_message(queue=settings().forwarding_queue_name, batch_size=1)
def on_xapi_forwarding(event: Any) -> None:
    """Statements to POST to a tenant's external LRS; a failure that may pass raises, so SQS redelivers the
    message (and after maxReceiveCount moves it to the DLQ)."""
    for record in event:
        _outbound.handle_record(record.to_dict())


def _schedule(expression: str) -> Any:
    kind, _, args = expression.partition("(")
    parts = args.rstrip(")").split()
    if kind == "rate":
        units = {"minute": Rate.MINUTES, "minutes": Rate.MINUTES, "hour": Rate.HOURS, "hours": Rate.HOURS,
                 "day": Rate.DAYS, "days": Rate.DAYS}
        return Rate(int(parts[0]), unit=units[parts[1]])
    return Cron(*parts)


def _job_handler(name: str) -> Any:
    def run(event: Any) -> dict[str, Any]:
        return _runner.run_scheduled(name, event)

    run.__name__ = run.__qualname__ = function_name(name)  # Chalice's Lambda Handler is app.<__name__>
    return run


# Lambda finds each handler as a module attribute (`app.job_<name>`), so each is bound to one here.
for _job in (JOBS[name] for name in sorted(JOBS)):
    globals()[function_name(_job.name)] = app.schedule(
        _schedule(_job.schedule), name=function_name(_job.name))(_job_handler(_job.name))

assert catalog  # imported for its registrations
