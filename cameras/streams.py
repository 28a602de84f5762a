"""Camera stream URLs and their credentials, kept apart.

A camera's URL is stored without its user-info part; the username and password are stored
encrypted in a separate field and joined back only where ffmpeg needs them. Everything that shows
or logs a URL works with the clean form, so there is nothing to leak.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit, urlunsplit

STREAM_SCHEMES = ("rtsp", "rtsps", "http", "https")


class StreamURLError(ValueError):
    """A stream URL that cannot be used; the message says why, never quoting a password."""


@dataclass(frozen=True)
class StreamCredentials:
    username: str = ""
    password: str = ""

    def __bool__(self) -> bool:
        return bool(self.username or self.password)

    def __repr__(self) -> str:  # never show the password, even in a debugger or a traceback
        return f"StreamCredentials(username={self.username!r}, password={'***' if self.password else ''!r})"


def split_stream_url(url: str) -> tuple[str, StreamCredentials]:
    """``rtsp://user:pw@host:554/path`` → (``rtsp://host:554/path``, credentials)."""
    url = url.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise StreamURLError("The stream URL must not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise StreamURLError("The stream URL cannot be read; check the host and port.") from None
    if parts.scheme.lower() not in STREAM_SCHEMES:
        raise StreamURLError(f"The stream URL must start with one of: {', '.join(s + '://' for s in STREAM_SCHEMES)}")
    if not parts.hostname:
        raise StreamURLError("The stream URL has no host.")
    if "@" in parts.path or "@" in parts.query:
        # e.g. rtsp://admin:pa/ss@host/: the password would be read as a port and a path, and kept in view.
        raise StreamURLError(
            "The stream URL has an '@' after the host. If the password contains '/', '?', '#' or '@', "
            "write those characters percent-encoded (%2F, %3F, %23, %40) or type the password in its own field.")
    host = parts.hostname
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port is None else f"{host}:{port}"
    clean = urlunsplit((parts.scheme.lower(), netloc, parts.path, parts.query, ""))
    credentials = StreamCredentials(unquote(parts.username or ""), unquote(parts.password or ""))
    return clean, credentials


def join_stream_url(clean_url: str, credentials: StreamCredentials) -> str:
    """The URL ffmpeg connects to, with credentials put back (percent-encoded)."""
    if not credentials:
        return clean_url
    parts = urlsplit(clean_url)
    userinfo = quote(credentials.username, safe="")
    if credentials.password:
        userinfo += ":" + quote(credentials.password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{parts.netloc}", parts.path, parts.query, ""))
