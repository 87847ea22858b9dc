"""REST endpoints of moderation: reports from viewers, and a room's bans and timeouts.

Thin: parse, call moderation.services, shape the answer. A ModerationError rises to the
API's one error mapping (livesite/api_errors.py): its status (400, 403, 404, 429) with
`{"code", "message", ...}`.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import permissions
from moderation import services
from moderation.errors import NotAllowed
from moderation.models import Report, Restriction
from rooms.models import Room


class ReportSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["message", "user", "room"])
    target = serializers.CharField(max_length=80, help_text="Message id, user id, or room slug.")
    reason = serializers.ChoiceField(choices=Report.Reason.choices)
    details = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    room = serializers.SlugField(required=False, help_text="Where a reported user misbehaved.")


class ReportView(APIView):
    """Report a message, a user or a room. 201 when filed, 200 when you had already reported it."""

    permission_classes = [IsAuthenticated]
    serializer_class = ReportSerializer

    def post(self, request):
        form = ReportSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                {
                    "code": "invalid_report",
                    "message": "Check the report's fields.",
                    "fields": form.errors,
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = form.validated_data
        report, created = services.file_report(
            request.user,
            data["kind"],
            data["target"],
            data["reason"],
            data["details"],
            room=data.get("room"),
        )
        answer = {"id": report.pk, "created": created, "review_item": report.review_item_id}
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class RestrictionSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = Restriction
        fields = ["id", "user_id", "user", "kind", "reason", "created_at", "expires_at"]


class NewRestrictionSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(min_value=1)
    kind = serializers.ChoiceField(choices=Restriction.Kind.choices)
    minutes = serializers.IntegerField(min_value=1, required=False, help_text="Timeouts only.")
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RoomRestrictionsView(APIView):
    """The room's active bans and timeouts (GET), or a new one (POST): its moderators only."""

    permission_classes = [IsAuthenticated]
    serializer_class = NewRestrictionSerializer

    def get(self, request, slug: str):
        room = get_object_or_404(Room, slug=slug)
        if not permissions.can_moderate_room(request.user, room):
            raise NotAllowed("Only the room's moderators may see this.")
        active = Restriction.objects.active().filter(room=room).select_related("user")
        return Response(RestrictionSerializer(active.order_by("-created_at"), many=True).data)

    def post(self, request, slug: str):
        room = get_object_or_404(Room, slug=slug)
        form = NewRestrictionSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                {"code": "invalid_action", "message": "Check the fields.", "fields": form.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = form.validated_data
        if data["kind"] == Restriction.Kind.BAN:
            made = services.ban_user(request.user, room, data["user_id"], data["reason"])
        else:
            minutes = data.get("minutes", 10)
            made = services.timeout_user(
                request.user, room, data["user_id"], minutes, data["reason"]
            )
        return Response(RestrictionSerializer(made).data, status=status.HTTP_201_CREATED)


@extend_schema(request=None, responses={204: None, 404: None})
class RoomRestrictionView(APIView):
    """Lift a user's ban or timeout in the room (DELETE)."""

    permission_classes = [IsAuthenticated]

    def delete(self, request, slug: str, user_id: int):
        room = get_object_or_404(Room, slug=slug)
        lifted = services.lift_restrictions(request.user, room, user_id)
        if not lifted:
            return Response(
                {"code": "unknown_target", "message": "This user is not banned or timed out."},
                status=status.HTTP_404_NOT_FOUND,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class QueueReportSerializer(serializers.Serializer):
    reason = serializers.CharField()
    details = serializers.CharField()


class QueueItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    source = serializers.CharField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    report_count = serializers.IntegerField()
    user_id = serializers.IntegerField(allow_null=True)
    user_name = serializers.SerializerMethodField()
    message_id = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    reports = QueueReportSerializer(many=True)

    def get_user_name(self, item) -> str | None:
        return item.user.public_name if item.user else None

    def get_message_id(self, item) -> str | None:
        return str(item.message_id) if item.message_id else None  # 63-bit: a string

    def get_text(self, item) -> str | None:
        return item.message.text if item.message else None


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=services.room_queue.DECISIONS)
    minutes = serializers.IntegerField(required=False, min_value=1)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RoomQueueView(APIView):
    """The room's open review items (held and flagged messages, reports), newest first:
    its moderators, owner and staff only."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=QueueItemSerializer(many=True))
    def get(self, request, slug: str):
        room = get_object_or_404(Room, slug=slug)
        items = services.room_queue.open_items(request.user, room)
        return Response(QueueItemSerializer(items, many=True).data)


class RoomQueueDecisionView(APIView):
    """Decide one item of the room's queue: approve, remove, timeout (minutes), ban."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=DecisionSerializer, responses={200: QueueItemSerializer})
    def post(self, request, slug: str, item_id: int):
        room = get_object_or_404(Room, slug=slug)
        form = DecisionSerializer(data=request.data)
        if not form.is_valid():
            return Response(
                {"code": "invalid_action", "message": "Check the fields.", "fields": form.errors},
                status=status.HTTP_400_BAD_REQUEST,
            )
        data = form.validated_data
        item = services.room_queue.decide(
            request.user, room, item_id, data["decision"], data.get("minutes"), data["reason"]
        )
        return Response(QueueItemSerializer(item).data)
