"""SafeCam's configured footage storage against real servers: OpenSSH's SFTP and moto's S3.

The storage comes from ``safecam.config.storage_url`` exactly as settings build it, so these tests
check the URL-to-backend mapping and django-storages' behaviour together, including what a
worker sees when the storage server goes away.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from typing import Any

import paramiko
import pytest
from django.core.files.base import ContentFile
from django.utils.module_loading import import_string
from storages.backends.s3 import S3Storage
from storages.backends.sftpstorage import SFTPStorage

from tests.servers import (
    S3Server,
    SFTPServer,
    moto_endpoint,  # noqa: F401  (a fixture s3_server needs)
    s3_server,  # noqa: F401  (a fixture)
    sftp_server,  # noqa: F401  (a fixture)
    storage_from_config,
)

SEGMENT_NAME = "3f1c9a52-7d0e-4c4b-9a53-2f0f8d1e6b7a/2026/11/25/10/seg.ts"
# Every way paramiko reports a server that went away: refused (NoValidConnectionsError is an OSError),
# dropped mid-request (SSHException) or mid-transfer (EOFError).
UNREACHABLE = (OSError, paramiko.SSHException, EOFError)
FAST = 3.0  # seconds; a refused or dropped connection is reported at once, far below this


@pytest.fixture(scope="module")
def segment() -> bytes:
    # Random bytes: a 2 MB MPEG-TS segment is incompressible too, so SSH compression cannot flatter.
    return os.urandom(2 * 1024 * 1024)


@pytest.fixture
def sftp_storage(sftp_server: SFTPServer) -> Iterator[Any]:  # noqa: F811
    storage = storage_from_config(sftp_server.storage_config())
    yield storage
    storage.close()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_back(storage: Any, name: str) -> bytes:
    with storage.open(name, "rb") as handle:
        return handle.read()


def test_it_configures_the_sftp_url_as_django_storages_sftp(sftp_server: SFTPServer) -> None:  # noqa: F811
    entry = sftp_server.storage_config()
    options = entry["OPTIONS"]

    assert issubclass(import_string(entry["BACKEND"]), SFTPStorage)
    assert options["root_path"] == str(sftp_server.root)
    assert options["known_host_file"] == str(sftp_server.known_hosts)
    assert options["params"]["key_filename"] == str(sftp_server.key_file)


def test_it_saves_a_segment_into_nested_folders_on_the_sftp_server(
    sftp_server: SFTPServer, sftp_storage: Any, segment: bytes  # noqa: F811
) -> None:
    name = sftp_storage.save(SEGMENT_NAME, ContentFile(segment))

    assert name == SEGMENT_NAME
    assert sftp_storage.exists(name)
    assert sftp_storage.size(name) == len(segment)
    assert sha256(read_back(sftp_storage, name)) == sha256(segment)
    assert sha256((sftp_server.root / SEGMENT_NAME).read_bytes()) == sha256(segment)


def test_it_deletes_a_segment_from_the_sftp_server(
    sftp_server: SFTPServer, sftp_storage: Any, segment: bytes  # noqa: F811
) -> None:
    name = sftp_storage.save(SEGMENT_NAME, ContentFile(segment))

    sftp_storage.delete(name)

    assert not sftp_storage.exists(name)
    assert not (sftp_server.root / SEGMENT_NAME).exists()


def test_it_fails_fast_to_save_while_the_sftp_server_is_down_and_saves_once_it_is_back(
    sftp_server: SFTPServer, sftp_storage: Any  # noqa: F811
) -> None:
    sftp_server.stop()

    started = time.monotonic()
    with pytest.raises(UNREACHABLE):
        sftp_storage.save(SEGMENT_NAME, ContentFile(b"segment"))
    with pytest.raises(UNREACHABLE):
        sftp_storage.exists(SEGMENT_NAME)
    assert time.monotonic() - started < FAST

    sftp_server.start()

    assert sftp_storage.save(SEGMENT_NAME, ContentFile(b"segment")) == SEGMENT_NAME
    assert (sftp_server.root / SEGMENT_NAME).read_bytes() == b"segment"


def test_it_fails_fast_when_the_sftp_server_dies_under_an_open_connection(
    sftp_server: SFTPServer, sftp_storage: Any  # noqa: F811
) -> None:
    assert not sftp_storage.exists(SEGMENT_NAME)  # the connection is open now

    sftp_server.stop()

    # SSHException if the request meets the dropped connection, NoValidConnectionsError if paramiko
    # noticed the drop first and reconnected; a second call would meet the AttributeError below.
    started = time.monotonic()
    with pytest.raises(UNREACHABLE):
        sftp_storage.save(SEGMENT_NAME, ContentFile(b"segment"))
    assert time.monotonic() - started < FAST


def test_it_reconnects_an_open_storage_once_the_sftp_server_is_back(
    sftp_server: SFTPServer, sftp_storage: Any  # noqa: F811
) -> None:
    assert not sftp_storage.exists(SEGMENT_NAME)
    sftp_server.stop()
    for _ in range(2):  # the dropped connection, then the refused reconnect
        with pytest.raises(UNREACHABLE):
            sftp_storage.exists(SEGMENT_NAME)

    sftp_server.start()

    assert sftp_storage.save(SEGMENT_NAME, ContentFile(b"segment")) == SEGMENT_NAME


def test_it_reports_a_delete_that_could_not_reach_the_sftp_server(
    sftp_server: SFTPServer, sftp_storage: Any  # noqa: F811
) -> None:
    on_disk = sftp_server.root / SEGMENT_NAME
    on_disk.parent.mkdir(parents=True)
    on_disk.write_bytes(b"segment")
    sftp_server.stop()

    # A storage that has not connected yet (a fresh worker) meets a refused connection.
    with pytest.raises(UNREACHABLE):
        sftp_storage.delete(SEGMENT_NAME)


def test_it_gives_up_on_a_hung_sftp_server_within_paramikos_timeouts(sftp_server: SFTPServer) -> None:  # noqa: F811
    # A hung server still completes the TCP handshake (the kernel does it) but never sends its
    # banner; without banner_timeout paramiko waits 15 s, without auth_timeout 30 s.
    entry = sftp_server.storage_config()
    entry["OPTIONS"]["params"].update(timeout=1, banner_timeout=1, auth_timeout=1, channel_timeout=1)
    storage = storage_from_config(entry)
    sftp_server.freeze()
    try:
        started = time.monotonic()
        with pytest.raises(paramiko.SSHException):
            storage.exists(SEGMENT_NAME)
        assert time.monotonic() - started < FAST
    finally:
        sftp_server.thaw()
        storage.close()


def test_it_round_trips_a_segment_through_s3(s3_server: S3Server, segment: bytes) -> None:  # noqa: F811
    entry = s3_server.storage_config()
    storage = storage_from_config(entry)

    name = storage.save(SEGMENT_NAME, ContentFile(segment))

    assert isinstance(storage, S3Storage)
    assert name == SEGMENT_NAME
    assert storage.exists(name)
    assert storage.size(name) == len(segment)
    assert sha256(read_back(storage, name)) == sha256(segment)
    keys = [item["Key"] for item in s3_server.client().list_objects_v2(Bucket=s3_server.bucket)["Contents"]]
    assert keys == [f"footage/{SEGMENT_NAME}"]

    storage.delete(name)

    assert not storage.exists(name)
    assert s3_server.client().list_objects_v2(Bucket=s3_server.bucket)["KeyCount"] == 0
