"""Registration exports: scoped, with a reason, audited, HXL that parses, inert formulas, de-identified."""

from __future__ import annotations

import csv
import datetime
import io
import zipfile

import hxl
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from ventanilla.accounts import services as account_services
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.registration import exports, services
from ventanilla.registration.models import Consent, ExportJob, ExportKind, ExportStatus
from ventanilla.registration.tests.test_register import TODAY, answers
from ventanilla.testing.factories import UserFactory

PHONE = "+50499887766"


@pytest.fixture
def form(db):
    return services.shipped_form()


@pytest.fixture(autouse=True)
def _data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def register(world, form, org="a", site=0, **changes):
    side = getattr(world, org)
    return services.register(
        form,
        answers(**changes),
        organisation=side.organisation,
        site=side.sites[site],
        by=_registrar(side, site),
        language="es",
        today=TODAY,
    )


def _registrar(side, site):
    """A site manager of the given site (the world's site-scoped roles hold the first site only)."""
    if site == 0:
        return side.users["site_manager"]
    user = UserFactory()
    account_services.grant_membership(
        user=user, organisation=side.organisation, role="site_manager", sites=[side.sites[site]], by=None
    )
    return user


@pytest.fixture
def people(world, form):
    """A: two people at site 1 (one named like a formula), one at site 2, one anonymous; B: one person."""
    return {
        "ana": register(world, form, given_name="Ana", family_name="López", phone=PHONE),
        "formula": register(
            world,
            form,
            given_name='=HYPERLINK("http://x")',
            family_name="Ruiz",
            age_estimate="30",
            child_care=None,
        ),
        "site2": register(
            world, form, site=1, given_name="Berta", family_name="Dos", age_estimate="40", child_care=None
        ),
        "b": register(
            world, form, org="b", given_name="Carla", family_name="Otra", age_estimate="33", child_care=None
        ),
        "anonymous": register(world, form, consent_registration="no", consent_statistics="yes"),
    }


def export(user, kind, file_format="csv", reason="case review", **filters):
    job = exports.request_export(
        by=user, kind=kind, file_format=file_format, reason=reason, filters=exports.Filters(**filters)
    )
    written = exports.run_export(job)
    assert written is not None
    job.refresh_from_db()
    return job, written


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_personal_export_holds_only_the_people_the_user_may_export(world, people):
    manager = world.a.users["site_manager"]
    job, written = export(manager, ExportKind.PERSONAL)
    rows = csv_rows(written.content)
    header, tags, data = rows[0], rows[1], rows[2:]
    references = {row[header.index("reference")] for row in data}
    # A's first site only: not A's second site, not B, not the anonymous record
    assert references == {people["ana"].person.reference, people["formula"].person.reference}
    ana = next(row for row in data if row[0] == people["ana"].person.reference)
    assert ana[header.index("given_name")] == "Ana"
    assert ana[header.index("phone")] == PHONE
    assert ana[header.index("age")] == "15"
    assert ana[header.index("flags")] == "international_protection;separated_child"
    assert ana[header.index("consents")] == "referral;registration;statistics"
    # the answers follow, flattened: a repeat becomes numbered columns
    assert ana[header.index("leg_1_leg_country")] == "GT"
    assert ana[header.index("leg_2_leg_place")] == "Tapachula"
    assert header.count("given_name") == 1
    assert tags[header.index("reference")] == "#beneficiary+code"
    assert tags[header.index("leg_1_leg_country")] == "#meta+q_leg_1_leg_country"
    assert job.rows == 2


def test_caseworker_without_the_export_right_is_refused(world, people):
    with pytest.raises(exports.ExportRefused):
        export(world.a.users["caseworker"], ExportKind.PERSONAL)
    assert not ExportJob.objects.exists()


def test_filters_narrow_the_export(world, people):
    manager = world.a.users["site_manager"]
    _job, written = export(manager, ExportKind.PERSONAL, flag="separated_child")
    assert [row[0] for row in csv_rows(written.content)[2:]] == [people["ana"].person.reference]
    _job, written = export(manager, ExportKind.PERSONAL, registered_to=datetime.date(2000, 1, 1))
    assert csv_rows(written.content)[2:] == []


def test_a_reason_is_required_and_kept_encrypted_and_the_export_is_audited_with_codes_only(world, people):
    manager = world.a.users["site_manager"]
    with pytest.raises(exports.InvalidExport) as refused:
        exports.request_export(
            by=manager, kind=ExportKind.PERSONAL, file_format="csv", reason="  ", filters=exports.Filters()
        )
    assert set(refused.value.errors) == {"reason"}
    job, _written = export(
        manager, ExportKind.PERSONAL, reason="Referral of Ana López", site=world.a.sites[0].pk
    )
    assert job.reason == "Referral of Ana López"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reason FROM {ExportJob._meta.db_table} WHERE id = %s", [job.pk])  # noqa: S608
        stored = cursor.fetchone()[0]
    assert stored.startswith("v1:")  # the column holds ciphertext
    assert "Ana" not in stored
    entry = AuditEntry.objects.filter(action=AuditAction.EXPORT).get()
    assert entry.actor_id == manager.pk
    assert entry.detail == {
        "step": "written",
        "kind": "personal",
        "format": "csv",
        "rows": 2,
        "filters": {"site": world.a.sites[0].pk},
        "reason_given": True,
    }
    assert "Ana" not in str(entry.detail)


def test_hxl_rows_parse_with_libhxl(world, people):
    manager = world.a.users["site_manager"]
    _job, personal = export(manager, ExportKind.PERSONAL)
    dataset = hxl.data(io.BytesIO(personal.content))
    tags = [column.display_tag for column in dataset.columns]
    assert "#beneficiary+code" in tags
    assert "#contact+phone" in tags
    assert len(list(dataset)) == 2
    _job, deidentified = export(manager, ExportKind.DEIDENTIFIED)
    with zipfile.ZipFile(io.BytesIO(deidentified.content)) as archive:
        assert sorted(archive.namelist()) == ["journey_legs.csv", "registrations.csv"]
        registrations = hxl.data(io.BytesIO(archive.read("registrations.csv")))
        legs = hxl.data(io.BytesIO(archive.read("journey_legs.csv")))
        assert "#country+code+origin" in [c.display_tag for c in registrations.columns]
        assert len(list(registrations)) == 3  # Ana, the formula name, the anonymous record (site 1)
        assert "#loc+name" in [c.display_tag for c in legs.columns]
        assert len(list(legs)) == 6


def test_a_name_that_looks_like_a_formula_is_exported_inert(world, people):
    manager = world.a.users["site_manager"]
    _job, written = export(manager, ExportKind.PERSONAL)
    names = [row[1] for row in csv_rows(written.content)[2:]]
    assert '\'=HYPERLINK("http://x")' in names
    _job, xlsx = export(manager, ExportKind.PERSONAL, file_format="xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content))["people"]
    cells = [row[1] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert '\'=HYPERLINK("http://x")' in cells
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_deidentified_export_has_no_names_phones_or_exact_dates(world, people):
    analyst = world.a.users["data_analyst"]
    _job, written = export(analyst, ExportKind.DEIDENTIFIED, file_format="xlsx", reason="")
    workbook = load_workbook(io.BytesIO(written.content))
    assert workbook.sheetnames == ["registrations", "journey_legs"]
    text = "\n".join(
        str(cell)
        for sheet in workbook
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    )
    for secret in ("Ana", "López", "Berta", "HYPERLINK", PHONE, "2026-10-01", "VT-"):
        assert secret not in text
    _job, zipped = export(analyst, ExportKind.DEIDENTIFIED, reason="")
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as archive:
        raw = b"".join(archive.read(name) for name in archive.namelist())
    for secret in ("Ana", "López", "Berta", "Carla", PHONE, "2026-10-01"):
        assert secret.encode() not in raw
    registrations = csv_rows(zipfile.ZipFile(io.BytesIO(zipped.content)).read("registrations.csv"))
    header = registrations[0]
    # the analyst is organisation-wide: both of A's sites and the anonymous record, not B
    assert len(registrations[2:]) == 4
    assert {row[header.index("age_band")] for row in registrations[2:]} == {"12-17", "18-59", ""}
    assert {row[header.index("site")] for row in registrations[2:]} == {s.name for s in world.a.sites}
    legs = csv_rows(zipfile.ZipFile(io.BytesIO(zipped.content)).read("journey_legs.csv"))
    assert legs[2][legs[0].index("month_arrived")] == "2026-10"


def test_deidentified_export_leaves_out_withdrawn_statistics_consent(world, people):
    analyst = world.a.users["data_analyst"]
    consent = Consent.objects.get(registration=people["anonymous"].registration, purpose="statistics")
    services.withdraw_consent(consent, by=world.a.users["site_manager"])
    job, _written = export(analyst, ExportKind.DEIDENTIFIED, reason="")
    assert job.rows == 3


def test_export_job_lifecycle_status_page_and_audited_download(
    world, people, client_for, django_capture_on_commit_callbacks
):
    manager = world.a.users["site_manager"]
    client = client_for(manager)
    url = reverse("registration_exports:list")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"kind": "personal", "file_format": "csv", "reason": ""})
    assert refused.status_code == 200
    assert not ExportJob.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url, {"kind": "personal", "file_format": "csv", "reason": "monthly case review"}
        )
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("registration_exports:status", args=[job.pk])
    assert job.status == ExportStatus.DONE
    assert job.rows == 2
    stored = (exports.exports_dir() / job.file_name).read_bytes()
    assert b"Ana" not in stored  # encrypted on disk
    page = client.get(response["Location"])
    assert reverse("registration_exports:download", args=[job.pk]).encode() in page.content
    assert b"hx-trigger" not in page.content  # finished: no more polling
    download = client.get(reverse("registration_exports:download", args=[job.pk]))
    assert download.status_code == 200
    assert "Ana" in download.content.decode("utf-8-sig")
    assert download["Content-Disposition"].startswith('attachment; filename="registrations-personal-')
    steps = [e.detail["step"] for e in AuditEntry.objects.filter(action=AuditAction.EXPORT).order_by("pk")]
    assert steps == ["written", "downloaded"]
    # another user (even of the same organisation) cannot see or download the job
    other = client_for(world.a.users["data_analyst"])
    assert other.get(reverse("registration_exports:status", args=[job.pk])).status_code == 404
    assert other.get(reverse("registration_exports:download", args=[job.pk])).status_code == 404
    # after a day the file is gone and the page says so
    later = job.expires_at + datetime.timedelta(minutes=1)
    assert exports.purge_expired_exports(now=later) == 1
    assert not (exports.exports_dir() / job.file_name).exists()
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED
    assert client.get(reverse("registration_exports:download", args=[job.pk])).status_code == 404


def test_pending_status_page_polls_with_htmx_and_refreshes_without_javascript(world, people, client_for):
    manager = world.a.users["site_manager"]
    job = exports.request_export(
        by=manager, kind=ExportKind.DEIDENTIFIED, file_format="xlsx", reason="", filters=exports.Filters()
    )
    client = client_for(manager)
    page = client.get(reverse("registration_exports:status", args=[job.pk]))
    assert b'hx-trigger="every 2s"' in page.content
    assert b'<noscript><meta http-equiv="refresh" content="3"></noscript>' in page.content
    partial = client.get(
        reverse("registration_exports:status", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert b"<html" not in partial.content
    assert b'id="export-status"' in partial.content
    assert client.get(reverse("registration_exports:download", args=[job.pk])).status_code == 404


def test_running_an_export_twice_writes_it_once(world, people):
    manager = world.a.users["site_manager"]
    job, _written = export(manager, ExportKind.PERSONAL)
    assert exports.run_export(job) is None
    assert AuditEntry.objects.filter(action=AuditAction.EXPORT).count() == 1


def test_command_exports_with_a_reason_as_the_user(world, people, tmp_path):
    manager = world.a.users["site_manager"]
    target = tmp_path / "out.xlsx"
    out = io.StringIO()
    call_command(
        "export_registrations",
        "--kind=personal",
        "--format=xlsx",
        "--reason=audit sample",
        f"--user={manager.username}",
        f"--output={target}",
        stdout=out,
    )
    assert "Wrote 2 rows" in out.getvalue()
    sheet = load_workbook(target)["people"]
    assert sheet.max_row == 4  # header, HXL, two people
    job = ExportJob.objects.get()
    assert (job.reason, job.status, job.file_name) == ("audit sample", ExportStatus.DONE, "")
    with pytest.raises(CommandError, match="--reason"):
        call_command("export_registrations", "--kind=personal", "--format=csv", f"--user={manager.username}")
    with pytest.raises(CommandError, match="may not"):
        call_command(
            "export_registrations", "--kind=personal", "--format=csv", "--reason=x", "--user=a_caseworker"
        )


def test_asking_for_an_export_is_refused_without_the_right(world, people, client_for):
    url = reverse("registration_exports:list")
    data = {"kind": "personal", "file_format": "csv", "reason": "curious"}
    # a partner focal point holds none of the rights: 403 on the page and on the request
    partner = client_for(world.a.users["partner_focal_point"])
    assert partner.get(url).status_code == 403
    assert partner.post(url, data).status_code == 403
    # a caseworker may take the de-identified export only: personal data is not a choice offered
    caseworker = client_for(world.a.users["caseworker"])
    page = caseworker.get(url)
    assert b'value="deidentified"' in page.content
    assert b'value="personal"' not in page.content
    refused = caseworker.post(url, data)
    assert refused.status_code == 200
    assert "kind" in refused.context["form"].errors
    assert not ExportJob.objects.exists()
