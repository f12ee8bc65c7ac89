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
    # password reset by e-mail: Django's own views, the site's templates
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            email_template_name="registration/password_reset_email.txt"
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("packs/", include("packs_app.urls")),
    path("runs/", include("runs.urls")),
    path("classrooms/", include("classrooms.urls")),
    path("lessons/", include("lessons.urls")),
    path("admin/", admin.site.urls),
]
