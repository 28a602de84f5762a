"""REST API for requests and exports (filled in below)."""

urlpatterns: list = []
