"""Log hygiene: no credential in a URL ever reaches a log line.

Camera stream URLs are stored without credentials and decrypted only where ffmpeg needs them, so
this filter is the second line of defence: whatever a library logs (an ffmpeg command line, a
connection error quoting a URL), ``scheme://user:password@`` is masked before it is written.
"""

import logging
import re

# The user info runs to the *last* "@" before the path: a password may hold a literal "@".
_URL_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<userinfo>[^\s/?#]*)@")


def redact(text: str) -> str:
    """Replace the user-info part of every URL in ``text`` with ``***``."""
    return _URL_CREDENTIALS.sub(lambda m: f"{m.group('scheme')}***@", text)


class RedactCredentialsFilter(logging.Filter):
    """Masks URL credentials in the formatted message and in exception text."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = redact(formatted)
        return True
