from django.urls import path

from footage import views

urlpatterns = [
    path("holds/", views.hold_list, name="hold-list"),
    path("holds/<uuid:public_id>/release/", views.hold_release, name="hold-release"),
    path("cameras/<uuid:public_id>/holds/new/", views.hold_place, name="hold-place"),
]
