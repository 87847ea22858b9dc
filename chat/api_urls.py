from django.urls import path

from chat import api

urlpatterns = [
    path(
        "streams/<int:stream_id>/messages/",
        api.StreamHistoryView.as_view(),
        name="api-stream-messages",
    ),
    path(
        "streams/<int:stream_id>/top-messages/",
        api.StreamTopMessagesView.as_view(),
        name="api-stream-top",
    ),
]
