"""Factories for the registry. They go through the audited services, as the admin and the seed do."""

from __future__ import annotations

from typing import Any

import factory
from django.utils.text import slugify

from cameras import services
from cameras.models import Camera, Site


class SiteFactory(factory.django.DjangoModelFactory):
    """An eldership, saved with ``services.site_save`` (so its ``site.created`` event is written)."""

    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Seniūnija {n}")
    slug = factory.LazyAttribute(lambda site: slugify(site.name))
    address = factory.LazyAttribute(lambda site: f"{site.name}, Biržų r. sav.")

    @classmethod
    def _create(cls, model_class: type[Site], *args: Any, by: Any = None, **kwargs: Any) -> Site:
        return services.site_save(site=model_class(*args, **kwargs), by=by)


class CameraFactory(factory.django.DjangoModelFactory):
    """A camera, made with ``services.camera_create`` (credentials in the URL end up encrypted)."""

    class Meta:
        model = Camera

    site = factory.SubFactory(SiteFactory)
    name = factory.Sequence(lambda n: f"Kamera {n}")
    location = factory.LazyAttribute(lambda camera: f"{camera.name}, centrinė aikštė")
    stream_url = factory.Sequence(lambda n: f"rtsp://10.0.{n // 250}.{n % 250 + 1}:554/stream1")
    purpose = "Viešosios tvarkos palaikymas seniūnijos centre."
    legal_basis = "BDAR 6 straipsnio 1 dalies e punktas."

    @classmethod
    def _create(cls, model_class: type[Camera], *args: Any, by: Any = None, **kwargs: Any) -> Camera:
        return services.camera_create(site=kwargs.pop("site"), name=kwargs.pop("name"),
                                      stream_url=kwargs.pop("stream_url"), by=by, **kwargs)


# --- footage ---------------------------------------------------------------------------------------


def footage_index(camera: Camera, start: Any, *, count: int, seconds: float = 10.0, with_files: bool = True,
                  payload: bytes = b"\x47" * 188) -> list[Any]:
    """A run of ``count`` contiguous segments from ``start``, indexed as ingest would, with their
    files on the footage storage (one TS packet each) unless ``with_files`` is False."""
    import hashlib
    from datetime import timedelta

    from django.core.files.base import ContentFile

    from cameras.services import health_count_stored
    from footage.models import Run, Segment
    from footage.services import footage_storage, storage_name_for

    storage = footage_storage()
    run = Run.objects.create(camera=camera, started_at=start, recorder="factory")
    segments = []
    for sequence in range(count):
        seg_start = start + timedelta(seconds=sequence * seconds)
        seg_end = seg_start + timedelta(seconds=seconds)
        name = storage_name_for(camera, run, sequence, seg_start)
        if with_files:
            storage.save(name, ContentFile(payload))
        segments.append(Segment(camera=camera, run=run, sequence=sequence, start=seg_start, end=seg_end,
                                duration=seconds, size=len(payload), sha256=hashlib.sha256(payload).hexdigest(),
                                storage_name=name))
        health_count_stored(camera_id=camera.pk, size=len(payload), seconds=seconds, start=seg_start)
    Run.objects.filter(pk=run.pk).update(ended_at=start + timedelta(seconds=count * seconds))
    return Segment.objects.bulk_create(segments)
