"""Background jobs of registration: writing exports, deleting old export files, the nightly retention."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ventanilla.registration.run_export")
def run_export(job_id: int) -> int:
    """Write an export asked for in the staff pages. Returns the row count (never data: Celery logs it)."""
    from ventanilla.registration import exports
    from ventanilla.registration.models import ExportJob

    job = ExportJob.objects.select_related("requested_by").filter(pk=job_id).first()
    if job is None or job.requested_by is None:
        return 0
    written = exports.run_export(job)
    return written.rows if written is not None else 0


@shared_task(name="ventanilla.registration.purge_expired_exports")
def purge_expired_exports() -> int:
    """Export files live a day; the job rows stay as the record of who exported what and why."""
    from ventanilla.registration import exports

    return exports.purge_expired_exports()


@shared_task(name="ventanilla.registration.apply_retention")
def apply_retention() -> int:
    """Nightly: erase personal data past each organisation's retention period (the count, never names)."""
    from ventanilla.registration import services

    return services.apply_retention()
