from django.urls import path

from classrooms.consumers import ClassroomPanelConsumer, SpotlightConsumer

websocket_urlpatterns = [
    path("ws/classrooms/<int:classroom_id>/", ClassroomPanelConsumer.as_asgi()),
    path("ws/classrooms/<int:classroom_id>/spotlight/", SpotlightConsumer.as_asgi()),
]
