"""The daily job's reads, each cached for the run: programs, tenants, recertification titles; users."""

from __future__ import annotations

from chalicelib.certification import mail
from chalicelib.errors import NotFound
from chalicelib.store.models import Certificate, CertificationProgram, Tenant, User


class Lookups:
    def __init__(self) -> None:
        self._tenants: dict[str, Tenant | None] = {}
        self._programs: dict[tuple[str, str], CertificationProgram | None] = {}
        self._titles: dict[tuple[str, str], str | None] = {}

    def program(self, cert: Certificate) -> CertificationProgram | None:
        from chalicelib.certification.programs import load_program

        key = (cert.tenant_id, cert.program_id)
        if key not in self._programs:
            try:
                self._programs[key] = load_program(*key)
            except NotFound:
                self._programs[key] = None
        return self._programs[key]

    def tenant(self, tenant_id: str) -> Tenant | None:
        from chalicelib.tenancy.service import load_tenant

        if tenant_id not in self._tenants:
            try:
                self._tenants[tenant_id] = load_tenant(tenant_id)
            except NotFound:
                self._tenants[tenant_id] = None
        return self._tenants[tenant_id]

    def renew_url(self, cert: Certificate, program: CertificationProgram | None) -> str:
        return mail.renew_url(cert.tenant_id, program.recert_course_id if program else None,
                              program.recert_path_id if program else None)

    def recert_title(self, cert: Certificate, program: CertificationProgram | None) -> str | None:
        from chalicelib.catalog.catalog import load_entry
        from chalicelib.catalog.paths import load_path

        if program is None or not (program.recert_course_id or program.recert_path_id):
            return None
        key = (cert.tenant_id, program.id)
        if key not in self._titles:
            try:
                self._titles[key] = (load_entry(cert.tenant_id, program.recert_course_id).title
                                     if program.recert_course_id else load_path(cert.tenant_id,
                                                                                str(program.recert_path_id)).title)
            except NotFound:
                self._titles[key] = None
        return self._titles[key]

    def user(self, cert: Certificate) -> User | None:
        from chalicelib.users.service import load_user

        try:
            return load_user(cert.tenant_id, cert.user_id)
        except NotFound:
            return None
