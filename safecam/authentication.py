"""API tokens that expire, like sessions do.

DRF's tokens live until deleted; a token copied into a script years ago would still open footage.
A SafeCam token is valid for ``SAFECAM_TOKEN_HOURS`` after it was issued (``POST
/api/v1/auth/token/`` with the password and the one-time code issues a fresh one and retires the
old), and only while its user is active.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        user, token = super().authenticate_credentials(key)
        if token.created < timezone.now() - timedelta(hours=settings.SAFECAM_TOKEN_HOURS):
            raise AuthenticationFailed("The token has expired; ask for a new one at /api/v1/auth/token/.")
        return user, token
