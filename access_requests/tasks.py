"""Thin Celery wrappers: they take ids and call ``access_requests.exporting`` (safe to run twice)."""

from celery import shared_task


@shared_task(acks_late=True, reject_on_worker_lost=True)
def export_render(export_id: int) -> str:
    from access_requests.exporting import export_render as render

    return render(export_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def export_package(export_id: int) -> str:
    from access_requests.exporting import export_package as package

    return package(export_id)


@shared_task
def exports_resume() -> int:
    from access_requests.exporting import exports_resume as resume

    return resume()


@shared_task
def requests_remind() -> int:
    from access_requests.notify import requests_remind as remind

    return remind()
