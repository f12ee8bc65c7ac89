from django.urls import path

from lessons.consumers import LessonPanelConsumer, RunChallengeConsumer

websocket_urlpatterns = [
    path("ws/lessons/classrooms/<int:classroom_id>/", LessonPanelConsumer.as_asgi()),
    path("ws/lessons/runs/<int:run_id>/", RunChallengeConsumer.as_asgi()),
]
