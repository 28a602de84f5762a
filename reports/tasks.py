"""Thin Celery wrappers: they take ids and call ``reports.rollup`` / ``reports.jobs`` (safe to run twice)."""

from celery import shared_task


@shared_task
def statistics_rollup() -> int:
    from reports.rollup import statistics_rollup_recent

    return statistics_rollup_recent()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def report_render(report_id: int) -> str:
    from reports.jobs import report_render as render

    return render(report_id)


@shared_task
def reports_resume() -> int:
    from reports.jobs import reports_resume as resume

    return resume()
