"""Imports started from the staff page run as background tasks and report through an `ImportJob`.

`start_import` records the job and enqueues `tasks.run_import` after the commit (in-process without a
broker, on Celery with one); `run_import_job` claims the job once, imports the file with the same code as
the command line (`imports.import_directory`), stores progress while the rows are checked, and ends with
the counts or every row error. The uploaded file is removed when the job ends, whatever the outcome.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ventanilla.accounts.models import Organisation, User
from ventanilla.core.tasks import enqueue
from ventanilla.directory import imports
from ventanilla.directory.models import ImportJob, ImportStatus

# Progress is written every this many rows: often enough for a status page, cheap for the database.
PROGRESS_EVERY = 50


def upload_dir() -> Path:
    """Where uploads wait between the check and the import (under the data folder, never served)."""
    directory = Path(settings.DATA_DIR) / "imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@transaction.atomic
def start_import(
    stored_name: str, *, organisation: Organisation, by: User, file_name: str, skip_invalid: bool
) -> ImportJob:
    """Record the job and run it after the commit. Who may import was checked by the caller, and is
    checked again by the import itself."""
    job = ImportJob.objects.create(
        organisation=organisation,
        created_by=by,
        file_name=file_name[:200],
        stored_name=stored_name,
        skip_invalid=skip_invalid,
    )
    from ventanilla.directory import tasks  # tasks import this module

    enqueue(tasks.run_import, job.pk)
    return job


def _count_rows(path: Path) -> int:
    try:
        return max(0, sum(1 for _record in imports.read_records(path)) - 1)
    except Exception:
        return 0


def run_import_job(job_id: int) -> bool:
    """Run a pending job; a job already claimed (a second delivery of the task) is left alone."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING
    )
    if not claimed:
        return False
    job = ImportJob.objects.select_related("organisation", "created_by").get(pk=job_id)
    path = upload_dir() / job.stored_name
    checked = 0

    def progress(count: int) -> None:
        nonlocal checked
        checked += count
        if checked % PROGRESS_EVERY == 0:
            ImportJob.objects.filter(pk=job.pk).update(rows_checked=checked)

    try:
        ImportJob.objects.filter(pk=job.pk).update(rows_total=imports.count_rows(path))
        result = imports.import_directory(
            path,
            organisation=job.organisation,
            by=job.created_by,
            skip_invalid=job.skip_invalid,
            file_format=path.suffix.lstrip("."),
            progress=progress,
        )
    except imports.DirectoryImportError as error:
        _finish(job, ImportStatus.FAILED, checked, error.report.errors, warnings=len(error.report.warnings))
        return True
    except (FileNotFoundError, imports.services.DirectoryPermissionError) as error:
        message = str(error) if isinstance(error, imports.services.DirectoryPermissionError) else ""
        problem = imports.Problem(0, imports.FILE, message or imports.file_gone_message())
        _finish(job, ImportStatus.FAILED, checked, [problem])
        return True
    finally:
        path.unlink(missing_ok=True)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.DONE,
        rows_checked=result.rows,
        points_created=result.points_created,
        points_updated=result.points_updated,
        providers_created=result.providers_created,
        rows_skipped=result.rows_skipped,
        warnings=result.warnings,
        finished_at=timezone.now(),
    )
    return True


def _finish(
    job: ImportJob, status: str, checked: int, problems: list[imports.Problem], *, warnings: int = 0
) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status,
        rows_checked=checked,
        warnings=warnings,
        errors=[{"row": p.row, "column": p.column, "message": p.message} for p in problems],
        finished_at=timezone.now(),
    )
