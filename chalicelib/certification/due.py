"""The due-date index: a certificate with something due (a reminder, its expiry) sits under that day.

`next_due` is the earliest of its `reminders_due` days and its `expires_at` day while it is active or
expiring; GSI2 = keys.cert_due_gsi2pk(next_due, shard) / keys.cert_due_gsi2sk(tenant, certificate), the
shard a CRC of the certificate id. The daily job reads one day's shards (work = what is due) and advances a
certificate with a conditional update on `next_due`, so a re-run acts on nothing twice.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import Any

from chalicelib.store import keys
from chalicelib.store.models import Certificate

DEFAULT_REMINDER_DAYS = (90, 60, 30)
WATCHED = ("active", "expiring")  # the states with something still due


def shard(certificate_id: str) -> int:
    return zlib.crc32(certificate_id.encode()) % keys.CERT_DUE_SHARDS


def expiry_day(issue_day: str, validity_days: int | None) -> str | None:
    if validity_days is None:
        return None
    return (date.fromisoformat(issue_day) + timedelta(days=validity_days)).isoformat()


def reminder_days(issue_day: str, expires_at: str | None, offsets: list[int] | tuple[int, ...]) -> list[str]:
    """The reminder days of a certificate: `expires_at - d` for each offset, those after the issue day, sorted."""
    if not expires_at:
        return []
    end = date.fromisoformat(expires_at)
    days = {(end - timedelta(days=int(d))).isoformat() for d in offsets}
    return sorted(d for d in days if d > issue_day)


def next_due_of(cert: Certificate) -> str | None:
    if cert.status not in WATCHED or not cert.expires_at:
        return None
    return min([*(str(d) for d in cert.reminders_due or []), str(cert.expires_at)])


def set_next_due(cert: Certificate) -> Certificate:
    """Set `next_due` and the GSI2 keys on the item from its state (or clear them: nothing due)."""
    due = next_due_of(cert)
    cert.next_due = due
    cert.GSI2PK = keys.cert_due_gsi2pk(due, shard(cert.id)) if due else None
    cert.GSI2SK = keys.cert_due_gsi2sk(cert.tenant_id, cert.id) if due else None
    return cert


def due_actions(cert: Certificate) -> list[Any]:
    """pynamodb update actions writing what `set_next_due` computed (for a conditional update)."""
    set_next_due(cert)
    if cert.next_due is None:
        return [Certificate.next_due.remove(), Certificate.GSI2PK.remove(), Certificate.GSI2SK.remove()]
    return [Certificate.next_due.set(cert.next_due), Certificate.GSI2PK.set(cert.GSI2PK),
            Certificate.GSI2SK.set(cert.GSI2SK)]
