from django.urls import path

from cameras import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("sites/<slug:slug>/", views.site_detail, name="site-detail"),
    path("cameras/<uuid:public_id>/", views.camera_detail, name="camera-detail"),
]
