"""Staff imports as background jobs: the job's lifecycle, its status page, and who may see it."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ventanilla.directory import jobs
from ventanilla.directory.models import ImportJob, ServicePoint
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory

pytestmark = pytest.mark.django_db

HEADER = ["id", "provider", "name", "categories", "status"]


def upload(tmp_path: Path, rows: list[list[str]], name: str = "points.csv") -> str:
    """Write a file where the staff page keeps uploads; return its stored name."""
    path = jobs.upload_dir() / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path.name


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path


def start(world, stored: str, *, skip_invalid: bool = False, capture=None) -> ImportJob:
    with capture(execute=True):
        job = jobs.start_import(
            stored,
            organisation=world.a.organisation,
            by=world.user("a", "information_officer"),
            file_name="points.csv",
            skip_invalid=skip_invalid,
        )
    job.refresh_from_db()
    return job


def test_a_job_runs_after_commit_and_ends_with_its_counts(
    world, tmp_path, django_capture_on_commit_callbacks
):
    # given a file with a new point and an update of one of A's points
    mine = PointFactory(provider=ProviderFactory(owner=world.a.organisation, name="Casa"), name="Old")
    stored = upload(
        tmp_path,
        [["", "Casa", "New point", "food", "draft"], [str(mine.pk), "Casa", "Renamed", "food", "draft"]],
    )
    # when the job is started (tasks run in-process after the commit)
    job = start(world, stored, capture=django_capture_on_commit_callbacks)
    # then it is done with its counts, the points are written, and the file is removed
    assert (job.status, job.rows_total, job.rows_checked, job.points_created, job.points_updated) == (
        "done",
        2,
        2,
        1,
        1,
    )
    assert (job.errors, job.finished_at is not None, job.percent) == ([], True, 100)
    assert ServicePoint.objects.get(pk=mine.pk).name == "Renamed"
    assert not (jobs.upload_dir() / stored).exists()
    # and running the task again (a second delivery) changes nothing
    assert jobs.run_import_job(job.pk) is False
    assert ServicePoint.objects.count() == 2


def test_a_job_with_bad_rows_fails_naming_every_row_and_writes_nothing(
    world, tmp_path, django_capture_on_commit_callbacks
):
    theirs = PointFactory(provider=ProviderFactory(owner=world.b.organisation), name="Theirs")
    stored = upload(
        tmp_path,
        [["", "Casa", "Fine", "food", "draft"], [str(theirs.pk), "Casa", "Taken", "teleport", "draft"]],
    )
    before = ServicePoint.objects.count()
    job = start(world, stored, capture=django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "categories")]
    assert ServicePoint.objects.count() == before
    # when the same file is imported skipping bad rows, the good row is written and the skip is counted
    stored = upload(
        tmp_path, [["", "Casa", "Fine", "food", "draft"], ["", "Casa", "Bad", "teleport", "draft"]]
    )
    job = start(world, stored, skip_invalid=True, capture=django_capture_on_commit_callbacks)
    assert (job.status, job.points_created, job.rows_skipped) == ("done", 1, 1)
    assert [(e["row"], e["column"]) for e in job.errors] == []


def test_a_job_whose_file_is_gone_fails_with_a_file_problem(world, django_capture_on_commit_callbacks):
    job = start(world, "missing.csv", capture=django_capture_on_commit_callbacks)
    assert job.status == "failed"
    assert [(e["row"], e["column"]) for e in job.errors] == [(0, "file")]


def test_the_status_page_refreshes_while_running_and_shows_the_report_at_the_end(
    world, client_for, tmp_path, django_capture_on_commit_callbacks
):
    # given a job still waiting to run (its task not run yet)
    stored = upload(tmp_path, [["", "Casa", "New point", "food", "draft"]])
    job = jobs.start_import(
        stored,
        organisation=world.a.organisation,
        by=world.user("a", "information_officer"),
        file_name="points.csv",
        skip_invalid=False,
    )
    ImportJob.objects.filter(pk=job.pk).update(rows_total=200, rows_checked=50)
    url = f"/en/staff/directory/import/{job.pk}/"
    client = client_for(world.user("a", "administrator"))
    # when a content manager of A opens the status page, then it shows progress and refreshes itself
    page = client.get(url).content.decode()
    assert '<progress max="100" value="25">' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page
    assert 'hx-trigger="every 2s"' in page
    # and htmx gets only the status part
    partial = client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<section id="import-job"')
    assert "<html" not in partial
    # when the job has run
    jobs.run_import_job(job.pk)
    page = client.get(url).content.decode()
    # then the page shows the report and stops refreshing
    assert "1 new service points, 0 updated, 1 new providers (drafts)." in page
    assert "http-equiv" not in page
    assert "hx-trigger" not in page


@pytest.mark.parametrize(
    ("org", "role", "status"),
    [
        ("a", "information_officer", 200),
        ("a", "site_manager", 200),
        ("a", "caseworker", 403),
        ("b", "administrator", 404),
    ],
)
def test_only_content_managers_of_the_importing_organisation_see_a_job(world, client_for, org, role, status):
    job = ImportJob.objects.create(organisation=world.a.organisation, file_name="x.csv", stored_name="x.csv")
    assert (
        client_for(world.user(org, role)).get(f"/en/staff/directory/import/{job.pk}/").status_code == status
    )
    assert list(ImportJob.objects.visible_to(world.user("b", "administrator"))) == []
