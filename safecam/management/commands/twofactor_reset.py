"""``manage.py twofactor_reset USERNAME --reason "..."``: for a user who lost the phone and the
recovery codes. Removes their authenticator and codes (audited, with the reason); they set up a new
one at their next login. Unlocking a locked-out user name is django-axes' ``axes_reset_username``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from safecam import twofactor


class Command(BaseCommand):
    help = "Reset a user's two-factor authentication (they enrol again at the next login)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="why, for the audit trail (e.g. 'phone lost, ticket 42')")

    def handle(self, *args: Any, username: str, reason: str, **options: Any) -> None:
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not reason.strip():
            raise CommandError("Give a reason (--reason) for the audit trail.")
        removed = twofactor.reset(user, by=None, reason=reason.strip())
        self.stdout.write(f"Two-factor authentication of {username} reset ({removed} factors removed); "
                          "they set it up again at their next login.")
