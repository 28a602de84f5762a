"""The request workflow: which state may follow which, and what each move needs.

::

    received ─► identity_verified ─► searching ─► footage_found ─► redaction ─► review ─► disclosed
        │               │                │   ▲          │    ▲          │  ▲       │   ├► partially_disclosed
        │               │                ▼   │          │    └──────────┘  └───────┘   └► refused
        │               │        footage_not_found      ├► review (nothing to redact, e.g. police)
        │               │                               └► completed (erasure, restriction, objection)
        └───────────────┴─────── refused / withdrawn (from any open state)

``footage_not_found`` closes the request (the answer is "we hold no footage of you") but may be
reopened to ``searching`` while the deadline runs. An illegal move is refused with a message that
names the states a person could choose instead.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from access_requests.models import CLOSED_STATES, RequestState as S

TRANSITIONS: dict[str, tuple[str, ...]] = {
    S.RECEIVED: (S.IDENTITY_VERIFIED, S.REFUSED, S.WITHDRAWN),
    S.IDENTITY_VERIFIED: (S.SEARCHING, S.REFUSED, S.WITHDRAWN),
    S.SEARCHING: (S.FOOTAGE_FOUND, S.FOOTAGE_NOT_FOUND, S.REFUSED, S.WITHDRAWN),
    S.FOOTAGE_FOUND: (S.REDACTION, S.REVIEW, S.COMPLETED, S.SEARCHING, S.REFUSED, S.WITHDRAWN),
    S.FOOTAGE_NOT_FOUND: (S.SEARCHING,),
    S.REDACTION: (S.REVIEW, S.FOOTAGE_FOUND, S.REFUSED, S.WITHDRAWN),
    S.REVIEW: (S.DISCLOSED, S.PARTIALLY_DISCLOSED, S.REDACTION, S.REFUSED, S.WITHDRAWN),
    S.DISCLOSED: (),
    S.PARTIALLY_DISCLOSED: (),
    S.COMPLETED: (),
    S.REFUSED: (),
    S.WITHDRAWN: (),
}


class TransitionRefused(ValueError):
    """A move the workflow does not allow; the message says which moves are possible."""


def allowed(state: str) -> tuple[str, ...]:
    return TRANSITIONS[S(state)]


def transition_check(state: str, to: str) -> None:
    try:
        current, target = S(state), S(to)
    except ValueError:
        raise TransitionRefused(_("Unknown state “%(state)s”.") % {"state": to}) from None
    if target in TRANSITIONS[current]:
        return
    if not TRANSITIONS[current]:
        raise TransitionRefused(_("The request is closed (%(state)s); it cannot be moved to “%(to)s”.")
                                % {"state": current.label, "to": target.label})
    raise TransitionRefused(_("A request in “%(state)s” cannot move to “%(to)s”. Possible next steps: %(next)s.")
                            % {"state": current.label, "to": target.label,
                               "next": ", ".join(str(S(s).label) for s in TRANSITIONS[current])})


def is_closed(state: str) -> bool:
    return S(state) in CLOSED_STATES
