from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from microlab_site import health, views

admin.site.site_header = "MicroLLM Lab administration"
admin.site.site_title = "MicroLLM Lab"
admin.site.index_title = "Packs, the blocklist, classrooms and runs"

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", health.health, name="health"),
    path("accounts/signup/", views.signup, name="signup"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("packs/", include("packs_app.urls")),
    path("runs/", include("runs.urls")),
    path("classrooms/", include("classrooms.urls")),
    path("admin/", admin.site.urls),
]
