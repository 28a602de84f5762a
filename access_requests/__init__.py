"""GDPR requests, police disclosures, redaction and deliveries (arrives with the access-requests issue).

Stands on ``footage`` (holds, media, storage) and ``cameras``.
"""
