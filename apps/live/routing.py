from django.urls import path

from .consumers import LiveRoomConsumer

websocket_urlpatterns = [
    path("ws/s/<slug:slug>/live/<int:room_id>/", LiveRoomConsumer.as_asgi()),
]
