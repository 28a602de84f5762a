"""Placeholder: filled in by the module's own change."""

urlpatterns: list = []
