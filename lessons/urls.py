from django.urls import path

from lessons import views

app_name = "lessons"
urlpatterns = [
    path("", views.lesson_list, name="list"),
    path("<int:lesson_id>/", views.lesson_edit, name="edit"),
    path("<int:lesson_id>/copy/", views.lesson_copy, name="copy_lesson"),
    path("<int:lesson_id>/steps/<int:step_id>/", views.step_edit, name="step_edit"),
    path("<int:lesson_id>/steps/<int:step_id>/move/", views.step_move, name="step_move"),
    path("<int:lesson_id>/steps/<int:step_id>/delete/", views.step_delete, name="step_delete"),
    path("assign/", views.assign, name="assign"),
    path("assigned/<int:assignment_id>/", views.path, name="path"),
    path("assigned/<int:assignment_id>/steps/<int:step_id>/reflection/", views.reflect,
         name="reflect"),
    path("classrooms/<int:classroom_id>/results.csv", views.results_csv, name="csv"),
    path("classrooms/<int:classroom_id>/copy/", views.copy, name="copy"),
]
