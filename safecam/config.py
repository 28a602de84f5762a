"""Typed readers for SafeCam's environment variables.

Every variable is read once, in ``safecam/settings.py``, through one of these helpers. Each helper
either returns a value of the right type or raises :class:`ConfigError` with a message that names
the variable and says what a valid value looks like, so a typo stops start-up instead of turning
into a confusing failure an hour later. Messages never echo a URL's password.

The URL parsers turn ``DATABASE_URL``, ``CELERY_BROKER_URL`` and ``SAFECAM_STORAGE_URL`` into the
dictionaries Django, Celery and django-storages expect. This module imports no SafeCam app.
"""

from __future__ import annotations

import os
import secrets
import zoneinfo
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"true", "1", "yes", "on"}
FALSE_WORDS = {"false", "0", "no", "off"}


class ConfigError(ImproperlyConfigured):
    """A malformed environment variable; the message names it."""

    def __init__(self, name: str, problem: str, example: str = "") -> None:
        message = f"{name} is malformed: {problem}."
        if example:
            message += f" Expected e.g. {example}."
        super().__init__(message)
        self.variable = name


def _raw(name: str, environ: dict[str, str] | None) -> str | None:
    value = (environ if environ is not None else os.environ).get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str, *, environ: dict[str, str] | None = None) -> str:
    value = _raw(name, environ)
    return default if value is None else value


def env_bool(name: str, default: bool, *, environ: dict[str, str] | None = None) -> bool:
    value = _raw(name, environ)
    if value is None:
        return default
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(name, f"{value!r} is not a boolean", "true or false (1/0, yes/no)")


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None,
    environ: dict[str, str] | None = None,
) -> int:
    value = _raw(name, environ)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"{value!r} is not a whole number", str(default)) from None
    if minimum is not None and number < minimum:
        raise ConfigError(name, f"{number} is below the minimum {minimum}", str(default))
    if maximum is not None and number > maximum:
        raise ConfigError(name, f"{number} is above the maximum {maximum}", str(default))
    return number


def env_choice(name: str, default: str, choices: tuple[str, ...], *,
               environ: dict[str, str] | None = None) -> str:
    value = _raw(name, environ)
    if value is None:
        return default
    if value.lower() not in choices:
        raise ConfigError(name, f"{value!r} is not one of the choices", " or ".join(choices))
    return value.lower()


def env_list(name: str, default: list[str], *, environ: dict[str, str] | None = None) -> list[str]:
    value = _raw(name, environ)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path, *, environ: dict[str, str] | None = None) -> Path:
    value = _raw(name, environ)
    path = default if value is None else Path(value).expanduser()
    if "\x00" in str(path):
        raise ConfigError(name, "the path contains a NUL byte", "/var/lib/safecam")
    return path.resolve()


def env_time_zone(name: str, default: str, *, environ: dict[str, str] | None = None) -> str:
    value = env_str(name, default, environ=environ)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(name, f"{value!r} is not a known time zone", "Europe/Vilnius") from None
    return value


def secret_key(name: str, data_dir: Path, *, environ: dict[str, str] | None = None) -> str:
    """The configured secret key, or one generated once and kept in ``data_dir/secret_key``.

    The key also derives the encryption key for camera credentials, so it lives outside the
    database: a database dump alone reveals no credential. Several hosts must share one key
    (set the variable); a single machine keeps its generated file.
    """
    value = _raw(name, environ)
    if value is not None:
        if len(value) < 32:
            raise ConfigError(name, "the key is shorter than 32 characters", "a random string of 50 characters")
        return value
    key_file = data_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


DATABASE_EXAMPLE = "postgres://safecam:password@127.0.0.1:5432/safecam or sqlite:////var/lib/safecam/db.sqlite3"


def database_url(name: str, default: Path, *, environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Django's DATABASES['default'] from a URL; SQLite in ``default`` when unset."""
    import dj_database_url

    value = _raw(name, environ)
    if value is None:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(default),
            # WAL lets the portal read while a worker writes; IMMEDIATE avoids upgrade deadlocks.
            "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"},
            # A file, not memory, so a test's Celery worker in another process sees the same data.
            "TEST": {"NAME": str(default.with_name(f"test_{default.name}"))},
        }
    if "://" not in value:
        raise ConfigError(name, "it is not a URL (no scheme://)", DATABASE_EXAMPLE)
    scheme = value.split("://", 1)[0].lower()
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ConfigError(name, f"the scheme {scheme!r} is not supported (PostgreSQL or SQLite)", DATABASE_EXAMPLE)
    try:
        config = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except Exception:  # the library's message may quote the URL, password included
        raise ConfigError(name, "the URL cannot be parsed (check the port and quote special characters)",
                          DATABASE_EXAMPLE) from None
    if config["ENGINE"].endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
    elif not config.get("NAME"):
        raise ConfigError(name, "the URL names no database", DATABASE_EXAMPLE)
    return config


BROKER_EXAMPLE = "redis://127.0.0.1:6379/0, amqp://guest:guest@127.0.0.1:5672// or filesystem://"
BROKER_SCHEMES = {"redis", "rediss", "amqp", "amqps", "pyamqp", "filesystem", "memory"}


def broker_url(name: str, *, environ: dict[str, str] | None = None) -> str:
    """Celery's broker URL; ``filesystem://`` (a folder under the data dir) when unset."""
    value = _raw(name, environ)
    if value is None:
        return "filesystem://"
    if "://" not in value:
        raise ConfigError(name, "it is not a URL (no scheme://)", BROKER_EXAMPLE)
    scheme = value.split("://", 1)[0].lower()
    if scheme not in BROKER_SCHEMES:
        raise ConfigError(name, f"the scheme {scheme!r} is not a supported broker", BROKER_EXAMPLE)
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ConfigError(name, "the URL cannot be parsed (check the port)", BROKER_EXAMPLE) from None
    return value


STORAGE_EXAMPLE = "file:///var/lib/safecam/storage, sftp://safecam@storage.example:22/srv/footage or s3://bucket/prefix"


def storage_url(
    name: str, default: Path, *, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """A django-storages ``STORAGES`` entry for the separate storage server."""
    env = environ if environ is not None else os.environ
    value = _raw(name, environ)
    if value is None:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(default)}}
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ConfigError(name, "the URL cannot be parsed (check the port)", STORAGE_EXAMPLE) from None
    scheme = parts.scheme.lower()
    path = unquote(parts.path)
    if scheme == "file":
        if parts.netloc not in ("", "localhost") or not path.startswith("/"):
            raise ConfigError(name, "a file URL needs an absolute path", "file:///var/lib/safecam/storage")
        return {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": path}}
    if scheme == "sftp":
        if not parts.hostname or not parts.username:
            raise ConfigError(name, "an SFTP URL needs a user and a host", STORAGE_EXAMPLE)
        # Fail fast when the server is down or hangs; the recorder keeps segments in the spool.
        params: dict[str, Any] = {"port": port or 22, "username": unquote(parts.username), "timeout": 10,
                                  "banner_timeout": 10, "auth_timeout": 10, "channel_timeout": 10}
        if parts.password:
            params["password"] = unquote(parts.password)
        key_file = _raw("SAFECAM_SFTP_KEY_FILE", environ)
        if key_file:
            params.update(key_filename=key_file, look_for_keys=False, allow_agent=False)
        options: dict[str, Any] = {"host": parts.hostname, "params": params, "interactive": False,
                                   "root_path": path or "/"}
        known_hosts = _raw("SAFECAM_SFTP_KNOWN_HOSTS", environ)
        if known_hosts:
            options["known_host_file"] = known_hosts
        return {"BACKEND": "safecam.storage.ResilientSFTPStorage", "OPTIONS": options}
    if scheme == "s3":
        if parts.username or parts.password:
            raise ConfigError(name, "keys do not belong in the URL; set AWS_ACCESS_KEY_ID and "
                                    "AWS_SECRET_ACCESS_KEY instead", "s3://safecam-footage/birzai")
        if not parts.hostname:
            raise ConfigError(name, "an S3 URL needs a bucket name", "s3://safecam-footage/biržai")
        options = {"bucket_name": parts.netloc, "location": path.strip("/"), "default_acl": None,
                   "file_overwrite": False}
        for option, variable in (("endpoint_url", "AWS_S3_ENDPOINT_URL"), ("region_name", "AWS_S3_REGION_NAME"),
                                 ("access_key", "AWS_ACCESS_KEY_ID"), ("secret_key", "AWS_SECRET_ACCESS_KEY")):
            if env.get(variable):
                options[option] = env[variable]
        from botocore.config import Config

        options["client_config"] = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 2})
        return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
    raise ConfigError(name, f"the scheme {scheme!r} is not supported", STORAGE_EXAMPLE)
