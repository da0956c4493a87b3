"""Automatic enrollment rules: "enroll every Account Executive in EMEA hired in the last 30 days in onboarding".

A rule is a list of conditions over user attributes (all must hold; none: everyone) and a target course or
learning path. It applies:
- **to a user who is created or changes** (`UserCreated`, `UserUpdated`, `UserReactivated` from the outbox):
  the tenant's rules are one Query, each is evaluated on the user in the event, matches are enrolled
  (source `rule`; the one-per-user-and-course claim makes repeats no-ops);
- **retroactively** when a rule is created, or edited in who or what it targets (a new `generation`): a
  back-fill walks the users the rule can match through the users' attribute index (one partition per
  attribute value, group, or the hire-date range; `users.service.index_entries`), a chunk at a time. Its cost
  is proportional to the users under the chosen index value, not to the tenant's size. Each chunk is 1 Query
  + 1 BatchGetItem + one transaction per new enrollment + 1 transaction that records progress and, when
  there is more, puts the next `EnrollmentRuleBackfillStep` event in the outbox: the stream carries the work
  on, chunk by chunk, within any Lambda's time limit. The progress write is conditional on the step, so a
  redelivered step does nothing twice.

Rules never withdraw: a user who stops matching keeps what they were enrolled in.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pynamodb.models import Model

from chalicelib import observability
from chalicelib.auth.principal import TenantContext, system_context
from chalicelib.clock import new_id, utcnow, utcnow_iso
from chalicelib.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_error
from chalicelib.events.consumer import EventEnvelope, subscribe
from chalicelib.events.outbox import event_item
from chalicelib.store import keys
from chalicelib.store.models import EnrollmentRule, Item, User, UserIndexEntry, plain
from chalicelib.store.tx import Tx, TxConflict

CHUNK = 100
SUBJECT = "system:rules"
INDEX_PREFERENCE = ("group", "department", "region", "salesRole")  # the likely most selective first
USER_FIELDS = {"salesRole": "sales_role", "region": "region", "department": "department", "hireDate": "hire_date"}
RELEVANT_CHANGES = {"salesRole", "region", "department", "hireDate", "groups", "status"}


# -- evaluation ------------------------------------------------------------------------------------------------
def _norm(value: Any) -> str:
    return str(value).strip().lower()


def condition_holds(cond: dict[str, Any], user: dict[str, Any], today: date) -> bool:
    """One condition on a user given as the API shows it (salesRole, region, department, groups, hireDate)."""
    attribute, op = cond["attribute"], cond["op"]
    if attribute == "hireDate":
        hired = user.get("hireDate")
        return bool(hired) and today - timedelta(days=int(cond["days"])) <= date.fromisoformat(str(hired)) <= today
    wanted = {_norm(cond["value"])} if op == "eq" else {_norm(v) for v in cond["values"]}
    have = {_norm(g) for g in user.get("groups") or ()} if attribute == "group" else (
        {_norm(user[attribute])} if user.get(attribute) else set())
    return bool(wanted & have)


def matches(conditions: list[dict[str, Any]], user: dict[str, Any], today: date) -> bool:
    return user.get("status") == "active" and all(condition_holds(c, user, today) for c in conditions)


# -- the API ------------------------------------------------------------------------------------------------------
def to_json(rule: EnrollmentRule) -> dict[str, Any]:
    backfill = plain(rule.backfill) or {}
    return {
        "id": rule.id, "tenantId": rule.tenant_id, "name": rule.name, "conditions": plain(rule.conditions),
        "courseId": rule.course_id, "pathId": rule.path_id,
        "dueInDays": None if rule.due_in_days is None else int(rule.due_in_days), "active": rule.active,
        "generation": int(rule.generation),
        "backfill": {k: backfill.get(k) for k in ("status", "examined", "matched", "enrolled", "alreadyEnrolled",
                                                  "failed", "chunks", "asOf", "startedAt", "finishedAt")},
        "createdAt": rule.created_at, "updatedAt": rule.updated_at,
    }


def _admin(ctx: TenantContext) -> None:
    if not ctx.acts_as_admin:
        raise Forbidden("Only admins manage enrollment rules.")


def _check_target(ctx: TenantContext, course_id: str | None, path_id: str | None) -> None:
    from chalicelib.catalog.paths import load_path
    from chalicelib.enrollment.service import enrollable

    if (course_id is None) == (path_id is None):
        raise ValidationFailed("Give exactly one of courseId and pathId.",
                               errors=[field_error("courseId", "exactly one of courseId and pathId")])
    if course_id is not None:
        enrollable(ctx.tenant_id, course_id, "courseId")
        return
    try:
        load_path(ctx.tenant_id, str(path_id))
    except NotFound:
        raise ValidationFailed("pathId must be a learning path of this tenant.",
                               errors=[field_error("pathId", "no such path")]) from None


def _fresh_backfill(generation: int, active: bool) -> dict[str, Any]:
    return {"generation": generation, "status": "pending" if active else "paused", "step": 0, "cursor": None,
            "examined": 0, "matched": 0, "enrolled": 0, "alreadyEnrolled": 0, "failed": 0, "chunks": 0,
            "asOf": utcnow().date().isoformat(), "startedAt": None, "finishedAt": None}


def _step_event(ctx: TenantContext | None, rule: EnrollmentRule, step: int, event_type: str) -> Item:
    return event_item(rule.tenant_id, event_type, {"ruleId": rule.id, "generation": int(rule.generation),
                                                   "step": step},
                      actor=ctx.principal.subject if ctx else SUBJECT,
                      correlation_id=ctx.correlation_id if ctx else None)


def create_rule(ctx: TenantContext, body: Any) -> dict[str, Any]:
    _admin(ctx)
    _check_target(ctx, body.courseId, body.pathId)
    now = utcnow_iso()
    rule = EnrollmentRule(
        PK=keys.rules_pk(ctx.tenant_id), SK=keys.rule_sk(rule_id := new_id("ru")), id=rule_id,
        tenant_id=ctx.tenant_id, name=body.name, conditions=[c.model_dump(exclude_none=True) for c in body.conditions],
        course_id=body.courseId, path_id=body.pathId, due_in_days=body.dueInDays, active=body.active, generation=1,
        backfill=_fresh_backfill(1, body.active), created_by=ctx.principal.subject, created_at=now, updated_at=now)
    tx = Tx()
    tx.put(rule, Item.PK.does_not_exist(), "rule")
    tx.put(_step_event(ctx, rule, 0, "EnrollmentRuleChanged"))
    tx.commit()
    observability.count("EnrollmentRuleCreated")
    return to_json(rule)


def load_rule(tenant_id: str, rule_id: str) -> EnrollmentRule:
    try:
        return EnrollmentRule.get(keys.rules_pk(tenant_id), keys.rule_sk(rule_id))
    except (Model.DoesNotExist, ValueError):
        raise NotFound("No such enrollment rule.") from None


def get_rule(ctx: TenantContext, rule_id: str) -> dict[str, Any]:
    _admin(ctx)
    return to_json(load_rule(ctx.tenant_id, rule_id))


def tenant_rules(tenant_id: str) -> list[EnrollmentRule]:
    """Every rule of the tenant: one Query (a tenant has tens of rules, not thousands)."""
    return [r for r in EnrollmentRule.query(keys.rules_pk(tenant_id), EnrollmentRule.SK.startswith(keys.rule_sk()))
            if isinstance(r, EnrollmentRule)]


def list_rules(ctx: TenantContext) -> dict[str, Any]:
    _admin(ctx)
    return {"items": [to_json(r) for r in tenant_rules(ctx.tenant_id)]}


def update_rule(ctx: TenantContext, rule_id: str, body: Any) -> dict[str, Any]:
    """Change a rule; a change of conditions or target (or re-activation) starts a new back-fill."""
    _admin(ctx)
    rule = load_rule(ctx.tenant_id, rule_id)
    fields = set(body.model_fields_set)
    if "name" in fields and body.name is None:
        raise ValidationFailed("name cannot be null.", errors=[field_error("name", "null")])
    course_id = body.courseId if "courseId" in fields else (None if "pathId" in fields else rule.course_id)
    path_id = body.pathId if "pathId" in fields else (None if "courseId" in fields else rule.path_id)
    if {"courseId", "pathId"} & fields:
        _check_target(ctx, course_id, path_id)
    expected = int(rule.version)
    rerun = bool({"conditions", "courseId", "pathId"} & fields) or (
        "active" in fields and body.active and not rule.active)
    if "name" in fields:
        rule.name = body.name
    if "conditions" in fields:
        rule.conditions = [c.model_dump(exclude_none=True) for c in body.conditions or []]
    rule.course_id, rule.path_id = course_id, path_id
    if "dueInDays" in fields:
        rule.due_in_days = body.dueInDays
    if "active" in fields and body.active is not None:
        rule.active = body.active
    if rerun:
        rule.generation = int(rule.generation) + 1
        rule.backfill = _fresh_backfill(int(rule.generation), bool(rule.active))
    rule.version, rule.updated_at = expected + 1, utcnow_iso()
    tx = Tx()
    tx.put(rule, EnrollmentRule.version == expected, "rule")
    if rerun:
        tx.put(_step_event(ctx, rule, 0, "EnrollmentRuleChanged"))
    try:
        tx.commit()
    except TxConflict:
        raise Conflict("The rule changed while this request ran; retry it.") from None
    return to_json(rule)


def delete_rule(ctx: TenantContext, rule_id: str) -> None:
    """Delete a rule (its enrollments stay); a back-fill in flight stops at its next chunk."""
    _admin(ctx)
    load_rule(ctx.tenant_id, rule_id).delete()


# -- applying rules ------------------------------------------------------------------------------------------------
def _due(rule: EnrollmentRule, today: date) -> str | None:
    return None if rule.due_in_days is None else (today + timedelta(days=int(rule.due_in_days))).isoformat()


def _enroll(ctx: TenantContext, rule: EnrollmentRule, user: User, today: date, entry: Any = None) -> bool | None:
    """Enroll one matching user: True (new), False (already enrolled), None (the target is gone)."""
    from chalicelib.enrollment.service import enroll_automatically

    try:
        _doc, created = enroll_automatically(ctx, user, course_id=rule.course_id, path_id=rule.path_id,
                                             source="rule", due=_due(rule, today), entry=entry)
    except (ValidationFailed, NotFound):
        observability.logger().warning("rule target cannot be enrolled",
                                       extra={"rule_id": rule.id, "tenant_id": rule.tenant_id})
        return None
    return created


@subscribe("UserCreated")
@subscribe("UserUpdated")
@subscribe("UserReactivated")
def on_user_changed(event: EventEnvelope) -> None:
    if event.tenant_id is None:
        return
    doc = event.detail.get("user") or {}
    changed = set(event.detail.get("changed") or RELEVANT_CHANGES)
    if doc.get("status") != "active" or not changed & RELEVANT_CHANGES:
        return
    today = utcnow().date()
    rules = [r for r in tenant_rules(event.tenant_id) if r.active and matches(plain(r.conditions), doc, today)]
    if not rules:
        return
    from chalicelib.users.service import load_user

    ctx = system_context(event.tenant_id, SUBJECT, event.correlation_id or "")
    user = load_user(event.tenant_id, doc["id"])
    for rule in rules:
        if _enroll(ctx, rule, user, today):
            observability.count("RuleEnrollment")


# -- the back-fill ---------------------------------------------------------------------------------------------------
def _source(tenant_id: str, conditions: list[dict[str, Any]], as_of: date) -> list[tuple[str, str | None]]:
    """The index partitions a back-fill walks: [(partition key, lowest sort key or None)]; [] = all users."""
    by_attribute = {c["attribute"]: c for c in conditions}
    for attribute in INDEX_PREFERENCE:
        cond = by_attribute.get(attribute)
        if cond:
            values = [cond["value"]] if cond["op"] == "eq" else sorted({_norm(v) for v in cond["values"]})
            return [(keys.user_attribute_pk(tenant_id, attribute, v), None) for v in values]
    cond = by_attribute.get("hireDate")
    if cond:
        since = (as_of - timedelta(days=int(cond["days"]))).isoformat()
        return [(keys.users_by_hire_date_pk(tenant_id), keys.users_by_hire_date_sk(since))]
    return []


def _page(tenant_id: str, partitions: list[tuple[str, str | None]], cursor: dict[str, Any] | None
          ) -> tuple[list[User], int, dict[str, Any] | None]:
    """One chunk of candidate users from the cursor: (users, index entries read, the next cursor or None)."""
    cursor = cursor or {"part": 0, "last": None}
    part, last = int(cursor["part"]), cursor.get("last")
    if not partitions:  # no indexable condition: the tenant's users list
        from chalicelib.users.service import users_page

        users, last = users_page(tenant_id, CHUNK, last)
        return users, len(users), ({"part": 0, "last": last} if last else None)
    pk, low = partitions[part]
    results = UserIndexEntry.query(pk, UserIndexEntry.SK >= low if low else None, limit=CHUNK,
                                   last_evaluated_key=last)
    ids = [e.user_id for e in results if isinstance(e, UserIndexEntry)]
    last = results.last_evaluated_key
    users = [u for u in User.batch_get([(keys.user_pk(tenant_id, i), keys.USER_SK) for i in ids])
             if isinstance(u, User)] if ids else []
    if last:
        nxt: dict[str, Any] | None = {"part": part, "last": last}
    elif part + 1 < len(partitions):
        nxt = {"part": part + 1, "last": None}
    else:
        nxt = None
    return users, len(ids), nxt


@subscribe("EnrollmentRuleChanged")
@subscribe("EnrollmentRuleBackfillStep")
def on_backfill_step(event: EventEnvelope) -> None:
    if event.tenant_id:
        run_backfill_step(event.tenant_id, str(event.detail["ruleId"]), int(event.detail["generation"]),
                          int(event.detail["step"]))


def run_backfill_step(tenant_id: str, rule_id: str, generation: int, step: int) -> None:
    """Process one chunk of a rule's back-fill, if this step is still the rule's next one."""
    try:
        rule = load_rule(tenant_id, rule_id)
    except NotFound:
        return  # deleted: the back-fill stops
    state = plain(rule.backfill) or {}
    if (int(rule.generation) != generation or state.get("generation") != generation or int(state.get("step", 0)) != step
            or state.get("status") not in ("pending", "running") or not rule.active):
        return  # an older generation, a step already done (a redelivery), or a paused rule
    as_of = date.fromisoformat(str(state["asOf"]))
    conditions = plain(rule.conditions)
    users, examined, nxt = _page(tenant_id, _source(tenant_id, conditions, as_of), state.get("cursor"))
    ctx = system_context(tenant_id, SUBJECT)
    entry = None
    if rule.course_id:
        from chalicelib.enrollment.service import enrollable

        try:
            entry = enrollable(tenant_id, rule.course_id, "courseId")
        except ValidationFailed:
            users, nxt = [], None  # the course left the catalog: nothing more to enroll
    counts = {"examined": examined, "matched": 0, "enrolled": 0, "alreadyEnrolled": 0, "failed": 0}
    for user in users:
        from chalicelib.users.service import to_json as user_json

        if not matches(conditions, user_json(user), as_of):
            continue
        counts["matched"] += 1
        outcome = _enroll(ctx, rule, user, as_of, entry)
        counts["enrolled" if outcome else "alreadyEnrolled" if outcome is False else "failed"] += 1
    _record_step(rule, state, step, counts, nxt)


def _record_step(rule: EnrollmentRule, state: dict[str, Any], step: int, counts: dict[str, int],
                 nxt: dict[str, Any] | None) -> None:
    now = utcnow_iso()
    new_state = {**state, **{k: int(state.get(k) or 0) + v for k, v in counts.items()},
                 "step": step + 1, "cursor": nxt, "chunks": int(state.get("chunks") or 0) + 1,
                 "status": "running" if nxt else "done", "startedAt": state.get("startedAt") or now,
                 "finishedAt": None if nxt else now}
    tx = Tx()
    tx.update(rule, [EnrollmentRule.backfill.set(new_state)],
              (EnrollmentRule.generation == int(rule.generation)) & (EnrollmentRule.backfill["step"] == step),
              "rule")
    if nxt:
        tx.put(_step_event(None, rule, step + 1, "EnrollmentRuleBackfillStep"))
    try:
        tx.commit()
    except TxConflict:
        return  # a concurrent delivery of the same step recorded it (its enrollments were no-ops here)
