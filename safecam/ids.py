"""Public identifiers in URLs: what a UUID looks like, so a malformed one never reaches a query."""

from __future__ import annotations

# For DRF viewsets' ``lookup_value_regex``: a malformed id matches no route and is the API's JSON 404,
# like an unknown one; without it ``filter(public_id="not-a-uuid")`` in an action raised Django's
# ValidationError, answered as 400 "not a valid UUID" (telling apart "malformed" from "absent").
UUID_LOOKUP = "[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
