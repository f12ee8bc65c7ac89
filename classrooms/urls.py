from django.urls import path

from classrooms import views

app_name = "classrooms"
urlpatterns = [
    path("", views.classroom_list, name="list"),
    path("new/", views.classroom_new, name="new"),
    path("join/", views.join, name="join"),
    path("compare/", views.compare, name="compare"),
    path("<int:classroom_id>/", views.detail, name="detail"),
    path("<int:classroom_id>/edit/", views.classroom_edit, name="edit"),
    path("<int:classroom_id>/code/rotate/", views.rotate_code, name="rotate_code"),
    path("<int:classroom_id>/code/open/", views.set_join_open, name="set_join_open"),
    path(
        "<int:classroom_id>/students/<int:student_id>/remove/",
        views.remove_student,
        name="remove_student",
    ),
    path(
        "<int:classroom_id>/students/<int:student_id>/",
        views.student_runs,
        name="student",
    ),
    path("<int:classroom_id>/leave/", views.leave, name="leave"),
    path("<int:classroom_id>/roster/", views.roster, name="roster"),
    path("<int:classroom_id>/funnel/", views.funnel_counts, name="funnel"),
    path("<int:classroom_id>/runs/<int:run_id>/cancel/", views.cancel_run, name="cancel_run"),
    path("<int:classroom_id>/spotlight/", views.spotlight, name="spotlight"),
    path("<int:classroom_id>/spotlight/choose/", views.choose_spotlight, name="choose_spotlight"),
]
