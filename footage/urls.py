from django.urls import path

from footage import views

urlpatterns = [
    path("holds/", views.hold_list, name="hold-list"),
    path("holds/<uuid:public_id>/release/", views.hold_release, name="hold-release"),
    path("cameras/<uuid:public_id>/holds/new/", views.hold_place, name="hold-place"),
    path("cameras/<uuid:public_id>/still.jpg", views.still_frame, name="still-frame"),
    path("viewing/", views.viewing_log, name="viewing-log"),
    path("sites/<slug:slug>/playback/", views.site_playback, name="site-playback"),
    # Signed per-session links (footage.playback): segments and pictures by index id, never by path.
    path("play/<str:token>/index.m3u8", views.play_playlist, name="play-playlist"),
    path("play/<str:token>/live.m3u8", views.play_live, name="play-live"),
    path("play/<str:token>/seg/<int:segment_id>.ts", views.play_segment, name="play-segment"),
    path("play/<str:token>/thumb/<int:segment_id>.jpg", views.play_thumbnail, name="play-thumbnail"),
    path("play/<str:token>/beat", views.play_beat, name="play-beat"),
]
