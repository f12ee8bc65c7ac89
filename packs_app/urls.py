from django.urls import path

from packs_app import views

app_name = "packs"
urlpatterns = [
    path("upload/", views.upload, name="upload"),
    path("upload/<str:upload_id>/share/", views.share, name="share"),
    path("upload/<str:upload_id>/unshare/<int:classroom_id>/", views.unshare, name="unshare"),
    path("upload/<str:upload_id>/remove/", views.remove, name="remove"),
]
