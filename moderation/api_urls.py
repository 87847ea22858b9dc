from django.urls import path

from moderation import api

urlpatterns = [
    path("moderation/reports/", api.ReportView.as_view(), name="api-moderation-report"),
    path(
        "rooms/<slug:slug>/restrictions/",
        api.RoomRestrictionsView.as_view(),
        name="api-room-restrictions",
    ),
    path("rooms/<slug:slug>/review-queue/", api.RoomQueueView.as_view(), name="api-room-queue"),
    path(
        "rooms/<slug:slug>/review-queue/<int:item_id>/",
        api.RoomQueueDecisionView.as_view(),
        name="api-room-queue-decision",
    ),
    path(
        "rooms/<slug:slug>/restrictions/<int:user_id>/",
        api.RoomRestrictionView.as_view(),
        name="api-room-restriction",
    ),
]
