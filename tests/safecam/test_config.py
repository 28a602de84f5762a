"""Settings from the environment: typed, and a malformed value stops start-up naming the variable."""

from __future__ import annotations

import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from safecam import config
from safecam.config import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DB = Path("/srv/safecam/db.sqlite3")
DEFAULT_STORAGE = Path("/srv/safecam/storage")
PASSWORD = "Hunter2-very-secret"


# --- DATABASE_URL --------------------------------------------------------------------------------


def _database(value: str) -> dict:
    return config.database_url("DATABASE_URL", DEFAULT_DB, environ={"DATABASE_URL": value})


@pytest.mark.parametrize("value", [
    "nonsense",
    f"postgres://safecam:{PASSWORD}@db.example:notaport/safecam",
    f"postgres://safecam:{PASSWORD}@db.example:99999/safecam",
    f"mysql://safecam:{PASSWORD}@db.example/safecam",
    f"postgres://safecam:{PASSWORD}@db.example:5432/",
])
def test_it_refuses_a_malformed_database_url_naming_the_variable_but_not_the_password(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _database(value)
    assert "DATABASE_URL" in str(caught.value)
    assert caught.value.variable == "DATABASE_URL"
    assert PASSWORD not in str(caught.value)


def test_it_says_what_is_wrong_with_a_bad_port() -> None:
    with pytest.raises(ConfigError, match="port"):
        _database("postgres://safecam@db.example:54x2/safecam")


def test_it_parses_a_postgres_url() -> None:
    parsed = _database("postgres://safecam:p%40ss@db.example:6543/safecam")
    assert parsed["ENGINE"] == "django.db.backends.postgresql"
    assert (parsed["NAME"], parsed["USER"], parsed["PASSWORD"]) == ("safecam", "safecam", "p@ss")
    assert (parsed["HOST"], int(parsed["PORT"])) == ("db.example", 6543)
    assert parsed["CONN_MAX_AGE"] > 0


def test_it_uses_sqlite_in_the_data_dir_when_unset() -> None:
    parsed = config.database_url("DATABASE_URL", DEFAULT_DB, environ={})
    assert parsed["ENGINE"] == "django.db.backends.sqlite3"
    assert parsed["NAME"] == str(DEFAULT_DB)
    assert config.database_url("DATABASE_URL", DEFAULT_DB, environ={"DATABASE_URL": "  "}) == parsed


def test_it_parses_a_sqlite_url() -> None:
    parsed = _database("sqlite:////var/lib/safecam/db.sqlite3")
    assert parsed["ENGINE"] == "django.db.backends.sqlite3"
    assert parsed["NAME"] == "/var/lib/safecam/db.sqlite3"


# --- booleans, numbers, lists, time zones, keys ----------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("true", True), ("false", False), ("1", True), ("0", False), ("yes", True), ("no", False),
    ("TRUE", True), (" False ", False), ("Yes", True),
])
def test_it_reads_booleans(value: str, expected: bool) -> None:
    assert config.env_bool("SAFECAM_DEBUG", not expected, environ={"SAFECAM_DEBUG": value}) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "yess", "t"])
def test_it_refuses_a_word_that_is_not_a_boolean_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.env_bool("SAFECAM_HTTPS", False, environ={"SAFECAM_HTTPS": value})
    assert "SAFECAM_HTTPS" in str(caught.value)
    assert repr(value) in str(caught.value)


@pytest.mark.parametrize("default", [True, False])
def test_it_uses_the_default_for_an_unset_or_empty_boolean(default: bool) -> None:
    assert config.env_bool("SAFECAM_DEBUG", default, environ={}) is default
    assert config.env_bool("SAFECAM_DEBUG", default, environ={"SAFECAM_DEBUG": ""}) is default


def test_it_reads_whole_numbers_with_a_minimum() -> None:
    assert config.env_int("SAFECAM_PORT", 8000, environ={"SAFECAM_PORT": "8080"}) == 8080
    assert config.env_int("SAFECAM_PORT", 8000, environ={}) == 8000
    with pytest.raises(ConfigError, match="SAFECAM_PORT"):
        config.env_int("SAFECAM_PORT", 8000, environ={"SAFECAM_PORT": "eighty"})
    with pytest.raises(ConfigError, match="SAFECAM_RETENTION_MAX_HOURS"):
        config.env_int("SAFECAM_RETENTION_MAX_HOURS", 720, minimum=1, environ={"SAFECAM_RETENTION_MAX_HOURS": "0"})


def test_it_reads_comma_separated_lists() -> None:
    environ = {"SAFECAM_ALLOWED_HOSTS": " safecam.birzai.lt, ,10.0.0.2 "}
    assert config.env_list("SAFECAM_ALLOWED_HOSTS", ["x"], environ=environ) == ["safecam.birzai.lt", "10.0.0.2"]
    assert config.env_list("SAFECAM_ALLOWED_HOSTS", ["x"], environ={}) == ["x"]


def test_it_accepts_a_real_time_zone() -> None:
    assert config.env_time_zone("SAFECAM_TIME_ZONE", "Europe/Vilnius", environ={}) == "Europe/Vilnius"
    assert config.env_time_zone("SAFECAM_TIME_ZONE", "Europe/Vilnius",
                                environ={"SAFECAM_TIME_ZONE": "Europe/Riga"}) == "Europe/Riga"


@pytest.mark.parametrize("value", ["Europe/Birzai", "Mars/Olympus_Mons", "../../etc/passwd", "UTC+2"])
def test_it_refuses_a_bogus_time_zone_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.env_time_zone("SAFECAM_TIME_ZONE", "Europe/Vilnius", environ={"SAFECAM_TIME_ZONE": value})
    assert "SAFECAM_TIME_ZONE" in str(caught.value)


def test_it_refuses_a_short_secret_key() -> None:
    with pytest.raises(ConfigError, match="SAFECAM_SECRET_KEY"):
        config.secret_key("SAFECAM_SECRET_KEY", Path("/nonexistent"), environ={"SAFECAM_SECRET_KEY": "short"})


def test_it_generates_a_secret_key_once_and_keeps_it_private(tmp_path: Path) -> None:
    first = config.secret_key("SAFECAM_SECRET_KEY", tmp_path / "data", environ={})
    second = config.secret_key("SAFECAM_SECRET_KEY", tmp_path / "data", environ={})
    assert first == second
    assert len(first) >= 50
    key_file = tmp_path / "data" / "secret_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


# --- CELERY_BROKER_URL ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["redis://127.0.0.1:6379/0", "rediss://cache.example:6380/1",
                                   "amqp://guest:guest@127.0.0.1:5672//", "filesystem://", "memory://"])
def test_it_accepts_the_supported_broker_schemes(value: str) -> None:
    assert config.broker_url("CELERY_BROKER_URL", environ={"CELERY_BROKER_URL": value}) == value


def test_it_uses_a_file_based_broker_when_unset() -> None:
    assert config.broker_url("CELERY_BROKER_URL", environ={}) == "filesystem://"


@pytest.mark.parametrize("value", ["nonsense", f"http://user:{PASSWORD}@broker.example/", "kafka://broker:9092",
                                   f"redis://:{PASSWORD}@127.0.0.1:63x9/0"])
def test_it_refuses_an_unsupported_broker_url(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.broker_url("CELERY_BROKER_URL", environ={"CELERY_BROKER_URL": value})
    assert "CELERY_BROKER_URL" in str(caught.value)
    assert PASSWORD not in str(caught.value)


# --- SAFECAM_STORAGE_URL -------------------------------------------------------------------------


def _storage(value: str | None, **extra: str) -> dict:
    environ = {**({"SAFECAM_STORAGE_URL": value} if value is not None else {}), **extra}
    return config.storage_url("SAFECAM_STORAGE_URL", DEFAULT_STORAGE, environ=environ)


def test_it_stores_files_in_the_data_dir_when_unset() -> None:
    assert _storage(None) == {"BACKEND": "django.core.files.storage.FileSystemStorage",
                              "OPTIONS": {"location": str(DEFAULT_STORAGE)}}


def test_it_reads_a_file_storage_url() -> None:
    assert _storage("file:///mnt/footage/biržai") == {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                     "OPTIONS": {"location": "/mnt/footage/biržai"}}


def test_it_reads_an_sftp_storage_url() -> None:
    parsed = _storage(f"sftp://safecam:{PASSWORD}@storage.birzai.lt:2222/srv/footage",
                      SAFECAM_SFTP_KEY_FILE="/etc/safecam/id_ed25519",
                      SAFECAM_SFTP_KNOWN_HOSTS="/etc/safecam/known_hosts")
    assert parsed["BACKEND"] == "safecam.storage.ResilientSFTPStorage"
    options = parsed["OPTIONS"]
    assert options["host"] == "storage.birzai.lt"
    assert options["root_path"] == "/srv/footage"
    assert options["known_host_file"] == "/etc/safecam/known_hosts"
    assert options["params"] == {"port": 2222, "username": "safecam", "password": PASSWORD,
                                 "key_filename": "/etc/safecam/id_ed25519", "look_for_keys": False,
                                 "allow_agent": False, "timeout": 10, "banner_timeout": 10, "auth_timeout": 10,
                                 "channel_timeout": 10}


def test_it_uses_port_22_for_sftp_by_default() -> None:
    assert _storage("sftp://safecam@storage.birzai.lt/srv/footage")["OPTIONS"]["params"]["port"] == 22


def test_it_reads_an_s3_storage_url_with_the_aws_variables() -> None:
    parsed = _storage("s3://safecam-footage/birzai/segments", AWS_S3_ENDPOINT_URL="https://s3.example.lt",
                      AWS_ACCESS_KEY_ID="AKIAEXAMPLE", AWS_SECRET_ACCESS_KEY=PASSWORD, AWS_S3_REGION_NAME="eu-north-1")
    assert parsed["BACKEND"] == "storages.backends.s3.S3Storage"
    options = parsed["OPTIONS"]
    assert options["bucket_name"] == "safecam-footage"
    assert options["location"] == "birzai/segments"
    assert options["endpoint_url"] == "https://s3.example.lt"
    assert options["region_name"] == "eu-north-1"
    assert (options["access_key"], options["secret_key"]) == ("AKIAEXAMPLE", PASSWORD)
    assert options["file_overwrite"] is False


def test_it_leaves_s3_credentials_to_the_defaults_when_not_set() -> None:
    options = _storage("s3://safecam-footage")["OPTIONS"]
    assert options["location"] == ""
    assert "access_key" not in options and "endpoint_url" not in options


@pytest.mark.parametrize("value", ["ftp://storage.example/footage", "file://storage.example/footage",
                                   "file:relative/path", "s3:///no-bucket", "sftp://storage.example/srv",
                                   f"sftp://safecam:{PASSWORD}@storage.example:22x/srv"])
def test_it_refuses_a_malformed_storage_url(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _storage(value)
    assert "SAFECAM_STORAGE_URL" in str(caught.value)
    assert PASSWORD not in str(caught.value)


# --- the real start-up ---------------------------------------------------------------------------


def _manage(args: list[str], tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    environ = {name: value for name, value in os.environ.items()
               if not name.startswith(("SAFECAM_", "DATABASE_URL", "CELERY_", "AWS_"))}
    environ.update(SAFECAM_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="safecam.settings", **variables)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_ROOT, env=environ,
                          capture_output=True, text=True, timeout=120)


def test_it_stops_start_up_on_a_malformed_database_url_with_one_clear_line(tmp_path: Path) -> None:
    result = _manage(["check"], tmp_path, DATABASE_URL="nonsense")
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_it_passes_the_deployment_checks_when_configured_for_production(tmp_path: Path) -> None:
    key = secrets.token_urlsafe(64)[:50]
    result = _manage(["check", "--deploy", "--fail-level", "WARNING"], tmp_path, SAFECAM_DEBUG="false",
                     SAFECAM_HTTPS="true", SAFECAM_SECRET_KEY=key, SAFECAM_ALLOWED_HOSTS="safecam.birzai.lt")
    assert result.returncode == 0, result.stdout + result.stderr


def test_it_refuses_s3_keys_in_the_storage_url_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as error:
        config.storage_url("SAFECAM_STORAGE_URL", Path("/tmp"), environ={"SAFECAM_STORAGE_URL": "s3://AKIAKEY:s3cr3t@bucket/x"})
    assert "SAFECAM_STORAGE_URL" in str(error.value)
    assert "s3cr3t" not in str(error.value) and "AKIAKEY" not in str(error.value)
