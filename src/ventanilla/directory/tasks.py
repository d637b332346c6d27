"""Background jobs of the directory app."""

from __future__ import annotations

from celery import shared_task

from ventanilla.directory import jobs


@shared_task(name="ventanilla.directory.run_import")
def run_import(job_id: int) -> bool:
    """Import the file of one staff import job. Safe to run twice: a job runs once (it is claimed)."""
    return jobs.run_import_job(job_id)
