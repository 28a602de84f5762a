"""Fuzzing the API: every operation of ``/api/v1/schema/``, as each persona, with Schemathesis.

What must hold whatever the input: no answer is a 5xx; every answer's status code is documented
for that operation, its content type is the documented one and its body matches the documented
schema (errors included: ``safecam.schema`` documents them once for every operation).

How it runs, and why so:
- The schema comes from the application itself (``/api/v1/schema/`` through the WSGI path, once,
  at collection), so the fuzz checks what clients download, not a copy.
- Requests go in process through Django's test-client handler (a small WSGI adapter below): the
  test database transaction stays open across requests (a plain WSGI handler would close the
  connection after each one), and the CSRF check stays on (the persona's session sends the token,
  as the portal's pages do).
- Each persona signs in through ``tests.conftest._logged_in`` (which will mark the session as
  second-factor verified once two-factor authentication lands); its session cookie is sent with
  every request.
- The registry is seeded once for the module (in a transaction rolled back at its end): both elderships with cameras and footage, holds,
  incidents, requests (one with footage found, an erasure request ready to erase, a police
  disclosure request), an export, a report, a retention record and the audit events all of them
  wrote. Path parameters, body fields and filters that name an object are, part of the time, one
  of those real objects, so the fuzz reaches past "not found" into the views and serializers.
- Each example runs in a savepoint rolled back afterwards, so every example meets the same seed
  and a run is reproducible (fixed seed, no example database). The footage files, which a
  rollback does not bring back, are restored after each write.
- Jobs: nothing reaches a broker or starts ffmpeg for an export or a report. The API only
  enqueues in ``transaction.on_commit`` (STYLE.md), and inside the test's transaction nothing
  commits, so those callbacks never run (neither eager mode, which would run ffmpeg in the test,
  nor a real queue, which a worker might consume). As a guard, ``Task.apply_async`` fails the
  test, so a stray direct ``.delay()`` cannot reach the broker either. Temporary files (the
  preview's segment copy) go to the test's own folder.

Bounded: a few examples per operation and persona (``MAX_EXAMPLES*`` below), valid and invalid
input, a fixed seed; Schemathesis' coverage phase (thousands of boundary cases per write) is off.
Run alone with ``pytest -m fuzz``; ``make test`` runs it with the rest. ``SAFECAM_FUZZ_STATS=file``
writes one line per request sent (persona, operation), to count what a run covered.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis.configuration import set_hypothesis_home_dir
import pytest
import schemathesis
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser
from django.core.signals import got_request_exception
from django.db import transaction
from django.middleware.csrf import CSRF_ALLOWED_CHARS
from django.test import Client, override_settings
from django.test.client import ClientHandler
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.crypto import get_random_string
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from access_requests.models import RequestKind, RequestState
from access_requests.services import export_create, footage_attach, request_move
from footage.models import DeletionKind, JobStatus, RetentionRecord, RetentionRun
from footage.services import hold_place, incident_mark
from safecam import roles
from safecam.models import AuditChainHead, AuditEvent
from tests.access_requests.conftest import request_make
from tests.conftest import PERSONAS, _logged_in, make_specialist, make_user
from tests.factories import CameraFactory, SiteFactory, footage_index

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

# Hypothesis caches the constants it mines from the source (Schemathesis asks while collecting): in a
# temporary folder, not in the checkout. No example database at all (``database: none`` below).
_HYPOTHESIS_HOME = tempfile.mkdtemp(prefix="safecam-hypothesis-")
atexit.register(shutil.rmtree, _HYPOTHESIS_HOME, ignore_errors=True)
set_hypothesis_home_dir(_HYPOTHESIS_HOME)

SCHEMA_PATH = "/api/v1/schema/"
SEED = 20261204
# Examples per operation and persona (Hypothesis' generation phase). The personas who reach most (their own eldership's footage, every camera, every request) get the
# most; the Pabiržė specialist mirrors the Vabalninkas one and the coordinator meets 404 almost
# everywhere, so fewer add as much; the anonymous visitor meets 401 everywhere.
REACHING_PERSONAS = ["spec_vabalninkas", "public_order", "dpo"]
OTHER_PERSONAS = [name for name in PERSONAS if name not in REACHING_PERSONAS and name != "anonymous"]
MAX_EXAMPLES = 12
MAX_EXAMPLES_OTHERS = 6
MAX_EXAMPLES_ANONYMOUS = 4
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# --- the application, in process ------------------------------------------------------------------


class ClientHandlerApplication:
    """Django's test-client handler behind a WSGI interface, for Schemathesis' WSGI transport.

    ``ClientHandler`` keeps the database connection of the test open across requests (Django's own
    ``WSGIHandler`` closes it when a request finishes, which would end the test's transaction)."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        response = self.handler(environ)
        headers = [*response.items(), *(("Set-Cookie", morsel.output(header="").strip())
                                        for morsel in response.cookies.values())]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return response


APPLICATION = ClientHandlerApplication()


@dataclass
class Seeded:
    """What the seed made: the personas, and the objects by kind for the fuzz to pick from."""

    users: dict[str, Any]
    known: dict[str, list[Any]]
    storage: Path
    pristine: Path


@pytest.fixture(scope="module")
def seeded(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """The registry, made once for the module in a transaction rolled back at its end (each test
    then runs in a savepoint inside it, as pytest-django's ``db`` does for any test)."""
    folder = tmp_path_factory.mktemp("fuzz")
    storage = folder / "storage"
    with django_db_blocker.unblock(), override_settings(
            STORAGES={**django_settings.STORAGES, "footage": {
                "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(storage)}}},
            SPOOL_DIR=folder / "spool", DATA_DIR=folder / "data",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield _seed(storage)
            if STATS is not None:
                Path(os.environ["SAFECAM_FUZZ_STATS"]).write_text("\n".join(STATS))
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _seed(storage: Path) -> Seeded:
    from reports import jobs
    from reports.project import project_current

    AuditChainHead.objects.get_or_create(pk=1, defaults={"seq": 0, "hash": "0" * 64})
    project_current()
    groups = roles.roles_sync()
    vabalninkas = SiteFactory(name="Vabalninkas", slug="vabalninkas")
    pabirze = SiteFactory(name="Pabiržė", slug="pabirze")
    vab, vab_other = (CameraFactory(site=vabalninkas, name="Vabalninko aikštė"),
                      CameraFactory(site=vabalninkas, name="Vabalninko autobusų stotelė"))
    pab, pab_other = (CameraFactory(site=pabirze, name="Pabiržės bažnyčios šventorius"),
                      CameraFactory(site=pabirze, name="Pabiržės mokyklos kiemas"))
    users = {"anonymous": AnonymousUser(),
             "spec_vabalninkas": make_specialist("spec_vabalninkas", vabalninkas, groups),
             "spec_pabirze": make_specialist("spec_pabirze", pabirze, groups),
             "public_order": make_user("public_order", group=groups[roles.PUBLIC_ORDER_OFFICER]),
             "dpo": make_user("dpo", group=groups[roles.DATA_PROTECTION_OFFICER]),
             "coordinator": make_user("coordinator", group=groups[roles.PROJECT_COORDINATOR])}
    dpo, public_order = users["dpo"], users["public_order"]

    now = timezone.now().replace(microsecond=0)
    three_hours_ago, two_hours_ago = now - timedelta(hours=3), now - timedelta(hours=2)
    review_on = timezone.localdate() + timedelta(days=30)
    footage_index(vab, three_hours_ago, count=6)
    footage_index(pab, three_hours_ago, count=6)
    footage_index(vab_other, two_hours_ago, count=3)
    holds = [hold_place(camera=vab, start=three_hours_ago, end=three_hours_ago + timedelta(seconds=30),
                        reason="Vandalism at the square", by=users["spec_vabalninkas"], review_on=review_on),
             hold_place(camera=pab, start=three_hours_ago, end=three_hours_ago + timedelta(seconds=30),
                        reason="Traffic accident", by=public_order, review_on=review_on)]
    incidents = [incident_mark(camera=vab, start=three_hours_ago, end=three_hours_ago + timedelta(seconds=20),
                               note="Broken bench", by=public_order),
                 incident_mark(camera=pab, start=three_hours_ago, end=three_hours_ago + timedelta(seconds=20),
                               note="Fight", by=public_order)]

    def found(request: Any, camera: Any, start: Any, seconds: int) -> Any:
        request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document")
        request_move(request=request, to=RequestState.SEARCHING, by=dpo)
        attached = footage_attach(request=request, camera=camera, start=start, end=start + timedelta(seconds=seconds),
                                  by=dpo, note="Seen at the square")
        request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
        return attached

    access = request_make(by=dpo, camera=vab, start=three_hours_ago - timedelta(minutes=5))
    access_footage = found(access, vab, three_hours_ago, 60)
    erasure = request_make(by=dpo, kind=RequestKind.ERASURE, camera=vab_other,
                           start=two_hours_ago - timedelta(minutes=5))
    erasure_footage = found(erasure, vab_other, two_hours_ago, 30)
    disclosure = request_make(by=public_order, kind=RequestKind.DISCLOSURE, camera=pab,
                              start=three_hours_ago - timedelta(minutes=5))
    received = request_make(by=dpo, site=pabirze)
    export = export_create(found=access_footage, by=dpo)
    today = timezone.localdate()
    report = jobs.report_request(kind="publicity", language="lt", period_start=today.replace(day=1),
                                 period_end=today, by=users["coordinator"])
    run = RetentionRun.objects.create(kind=DeletionKind.RETENTION, status=JobStatus.DONE, finished_at=now)
    record = RetentionRecord.objects.create(run=run, camera=pab, removed_from=now - timedelta(days=4),
                                            removed_until=now - timedelta(days=3), segments=10, bytes=1880,
                                            retention_hours=72)

    pristine = storage.with_name("storage-pristine")
    shutil.copytree(storage, pristine)
    return Seeded(users=users, storage=storage, pristine=pristine, known={
        "camera": [str(c.public_id) for c in (vab, vab_other, pab, pab_other)],
        "site": [vabalninkas.slug, pabirze.slug],
        "hold": [str(h.public_id) for h in holds] + [str(access_footage.hold.public_id)],
        "incident": [str(i.public_id) for i in incidents],
        "request": [str(r.public_id) for r in (access, erasure, disclosure, received)],
        "footage": [str(f.public_id) for f in (access_footage, erasure_footage)],
        "export": [str(export.public_id)],
        "report": [str(report.public_id)],
        "retention": [record.pk],
        "audit": list(AuditEvent.objects.order_by("-seq").values_list("seq", flat=True)[:3]),
        "window": [(three_hours_ago - timedelta(minutes=1)).isoformat(),
                   (three_hours_ago + timedelta(hours=1)).isoformat()],
    })


# --- personas -------------------------------------------------------------------------------------


@dataclass
class Caller:
    """How a persona's requests are sent: its session cookie and the CSRF token that goes with it."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def caller_for(name: str, user: Any) -> Caller:
    client = _logged_in(Client(), user)
    caller = Caller(name=name)
    session = client.cookies.get(django_settings.SESSION_COOKIE_NAME)
    if session is not None:
        token = get_random_string(32, CSRF_ALLOWED_CHARS)
        caller.cookies = {django_settings.SESSION_COOKIE_NAME: session.value, django_settings.CSRF_COOKIE_NAME: token}
        caller.headers = {"X-CSRFToken": token}
    return caller


# --- the schema, with real objects mixed into what is generated -----------------------------------

# The collection a path's first part names, for its {uuid}/{seq}/{id}/{slug} parameter.
PATH_KINDS = {"access-requests": "request", "audit-events": "audit", "cameras": "camera", "exports": "export",
              "holds": "hold", "incidents": "incident", "reports": "report", "request-footage": "footage",
              "retention-records": "retention", "sites": "site"}
# Fields (in bodies and query strings) that name an object, and of which kind.
FIELD_KINDS = {"camera": "camera", "camera__public_id": "camera", "footage": "footage", "site": "site"}
# Filled by the `seeded` fixture before any example is generated.
KNOWN: dict[str, list[Any]] = {}


def _or_known(base: dict[str, Any], name: str, kind: str) -> st.SearchStrategy:
    """``base`` as generated, or with ``name`` set to a real object of ``kind``."""
    return st.one_of(st.just(base), st.sampled_from(KNOWN[kind]).map(lambda value: {**base, name: value}))


def flatmap_path_parameters(context: Any, path_parameters: Any) -> st.SearchStrategy:
    if not isinstance(path_parameters, dict):
        return st.just(path_parameters)
    strategy = st.just(path_parameters)
    collection = context.operation.path.removeprefix("/api/v1/").split("/")[0]
    for name in path_parameters:
        kind = "camera" if name == "camera" else PATH_KINDS.get(collection)
        if kind:
            strategy = strategy.flatmap(lambda params, name=name, kind=kind: _or_known(params, name, kind))
    return strategy


def flatmap_query(context: Any, query: Any) -> st.SearchStrategy:
    if not isinstance(query, dict):
        return st.just(query)
    strategy = st.just(query)
    if context.operation.path.endswith("/timeline/"):
        start, end = KNOWN["window"]
        strategy = st.one_of(strategy, st.just({**query, "start": start, "end": end}))
    for name, kind in FIELD_KINDS.items():
        if name in query:
            strategy = strategy.flatmap(lambda q, name=name, kind=kind: _or_known(q, name, kind))
    return strategy


def flatmap_body(context: Any, body: Any) -> st.SearchStrategy:
    if not isinstance(body, dict):
        return st.just(body)
    strategy = st.just(body)
    for name, kind in FIELD_KINDS.items():
        if name in body:
            strategy = strategy.flatmap(lambda b, name=name, kind=kind: _or_known(b, name, kind))
    return strategy


def schema_load(*, max_examples: int) -> Any:
    config = schemathesis.Config.from_dict({
        "seed": SEED,
        "generation": {"mode": "all", "database": "none", "max-examples": max_examples,
                       # The persona's session is the authentication: no generated Authorization header.
                       "with-security-parameters": False},
        # The coverage phase's boundary cases are thousands of requests per write operation: over
        # the budget of a run inside `make test`. The schema's examples and the fuzzing phase
        # (valid and invalid input) stay.
        "phases": {"coverage": {"enabled": False}},
    })
    if not _RAW_SCHEMA:
        # What a client downloads: the schema view, through the same in-process WSGI path as the fuzz.
        _RAW_SCHEMA.update(schemathesis.openapi.from_wsgi(SCHEMA_PATH, APPLICATION, config=config).raw_schema)
    schema = schemathesis.openapi.from_dict(_RAW_SCHEMA, config=config)
    schema.app = APPLICATION
    for hook in (flatmap_path_parameters, flatmap_query, flatmap_body):
        schema.hook(hook)
    return schema


_RAW_SCHEMA: dict[str, Any] = {}
STATS: list[str] | None = [] if os.environ.get("SAFECAM_FUZZ_STATS") else None
signed_in_schema = schema_load(max_examples=MAX_EXAMPLES)
others_schema = schema_load(max_examples=MAX_EXAMPLES_OTHERS)
anonymous_schema = schema_load(max_examples=MAX_EXAMPLES_ANONYMOUS)


# --- the run --------------------------------------------------------------------------------------


@pytest.fixture
def fuzz_run(seeded: Seeded, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[list[str]]:
    """Around each operation: the seed's objects for the hooks, temporary files in the test's folder,
    no Celery message sent, and the tracebacks of exceptions the views raised (Django turns them
    into a 500 answer) for the failure report."""
    from celery.app.task import Task

    KNOWN.clear()
    KNOWN.update(seeded.known)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(Task, "apply_async", lambda task, *args, **kwargs: pytest.fail(
        f"{task.name} was sent to the broker outside transaction.on_commit"))
    caught: list[str] = []

    def record(sender: Any, request: Any = None, **kwargs: Any) -> None:
        caught.append("".join(traceback.format_exception(*sys.exc_info())))

    got_request_exception.connect(record)
    yield caught
    got_request_exception.disconnect(record)


def _call_and_validate(case: Any, caller: Caller, seeded: Seeded, server_errors: list[str]) -> Any:
    """One example, in a savepoint rolled back afterwards (so every example meets the same seed)."""
    server_errors.clear()
    if STATS is not None:
        STATS.append(f"{caller.name}\t{case.method} {case.path}")
    savepoint = transaction.savepoint()
    try:
        return case.call_and_validate(app=APPLICATION, cookies=caller.cookies, headers=caller.headers, checks=CHECKS)
    except BaseException as failure:
        failure.add_note(f"As {caller.name}.")
        for error in server_errors:
            failure.add_note(f"The server raised:\n{error}")
        raise
    finally:
        transaction.savepoint_rollback(savepoint)
        if case.method.upper() != "GET":  # the files a write removed; a rollback does not bring them back
            shutil.rmtree(seeded.storage)
            shutil.copytree(seeded.pristine, seeded.storage)


@pytest.fixture
def caller(persona: str, seeded: Seeded) -> Caller:
    return caller_for(persona, seeded.users[persona])


# The fixtures are per operation on purpose (the seed is shared; each example rolls back its own
# changes). A decorator's list replaces the config's, so every suppressed check is named here: on a
# busy machine (two test processes, CI) generation may be slow, and a schema's constraints filter
# out many draws; neither is a failure of the API.
FIXTURES_PER_OPERATION = settings(suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
    HealthCheck.data_too_large])


@signed_in_schema.parametrize()
@FIXTURES_PER_OPERATION
@pytest.mark.parametrize("persona", REACHING_PERSONAS)
def test_it_answers_signed_in_personas_as_documented(case: Any, caller: Caller, seeded: Seeded,
                                                      fuzz_run: list[str]) -> None:
    _call_and_validate(case, caller, seeded, fuzz_run)


@others_schema.parametrize()
@FIXTURES_PER_OPERATION
@pytest.mark.parametrize("persona", OTHER_PERSONAS)
def test_it_answers_the_other_signed_in_personas_as_documented(case: Any, caller: Caller, seeded: Seeded,
                                                               fuzz_run: list[str]) -> None:
    _call_and_validate(case, caller, seeded, fuzz_run)


@anonymous_schema.parametrize()
@FIXTURES_PER_OPERATION
def test_it_answers_anonymous_visitors_as_documented(case: Any, seeded: Seeded, fuzz_run: list[str]) -> None:
    response = _call_and_validate(case, Caller(name="anonymous"), seeded, fuzz_run)
    if case.path == "/api/v1/auth/token/":
        return
    if response.status_code == 404:  # only a path no route matches (a malformed id) comes before signing in
        with pytest.raises(Resolver404):
            resolve(case.formatted_path)
    else:
        assert response.status_code == 401, "Without signing in, every operation but the token's answers 401."
