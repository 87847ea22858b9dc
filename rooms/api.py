"""REST endpoints of rooms: the directory and each room's public details."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsBroadcaster
from rooms import services
from rooms.errors import InvalidRoom, NotAllowed
from rooms.ingest_address import obs_server_url
from rooms.models import Room


class RoomSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username", read_only=True)
    owner_name = serializers.CharField(source="owner.public_name", read_only=True)

    class Meta:
        model = Room
        fields = [
            "slug",
            "title",
            "description",
            "category",
            "tags",
            "status",
            "accepting_streams",
            "owner",
            "owner_name",
            "updated_at",
        ]


class DirectoryPagination(CursorPagination):
    ordering = "-updated_at"


class RoomListView(generics.ListAPIView):
    """Rooms, live first when filtered with `?status=live`; POST creates one (broadcasters)."""

    serializer_class = RoomSerializer
    pagination_class = DirectoryPagination
    permission_classes = [IsAuthenticatedOrReadOnly, IsBroadcaster]

    def post(self, request):
        form = RoomCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            room = services.create_room(request.user, **form.validated_data)
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        except InvalidRoom as error:
            raise ValidationError({error.field: [str(error)]}) from None
        return Response(RoomSerializer(room).data, status=201)

    def get_queryset(self):
        rooms = Room.objects.select_related("owner")
        status = self.request.query_params.get("status")
        if status in Room.Status.values:
            rooms = rooms.filter(status=status)
        return rooms


class RoomEditSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    category = serializers.CharField(max_length=50, required=False, allow_blank=True)
    tags = serializers.CharField(max_length=200, required=False, allow_blank=True)


class RoomDetailView(generics.RetrieveAPIView):
    """GET: a room's public details. PATCH: its owner or staff edit title, description,
    category and tags (the slug never changes)."""

    serializer_class = RoomSerializer
    queryset = Room.objects.select_related("owner")
    lookup_field = "slug"
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(request=RoomEditSerializer, responses=RoomSerializer)
    def patch(self, request, slug: str):
        room = self.get_object()
        current = {
            "title": room.title,
            "description": room.description,
            "category": room.category,
            "tags": room.tags,
        }
        form = RoomEditSerializer(data={**current, **request.data})
        form.is_valid(raise_exception=True)
        try:
            services.edit_room(room, request.user, **form.validated_data)
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        except InvalidRoom as error:
            raise ValidationError({"title": [str(error)]}) from None
        return Response(RoomSerializer(room).data)


class RoomSwitchView(APIView):
    """POST `stop/`: end the live stream now and refuse publishing until `start/`; POST
    `start/`: accept a publisher again (the room goes live when OBS connects). Owner or
    staff."""

    permission_classes = [IsAuthenticated]
    actions = {"stop": services.stop_room, "start": services.start_room}

    @extend_schema(request=None, responses=RoomSerializer, operation_id="rooms_stop_or_start")
    def post(self, request, slug: str, action: str):
        room = get_object_or_404(Room, slug=slug)
        try:
            self.actions[action](room, request.user)
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        room.refresh_from_db()
        return Response(RoomSerializer(room).data)


class StreamKeySerializer(serializers.Serializer):
    stream_key = serializers.CharField(read_only=True)
    server_url = serializers.CharField(read_only=True)


@extend_schema(request=None, responses=StreamKeySerializer)
class StreamKeyView(APIView):
    """POST: rotate the room's stream key; only its owner, who gets the new key once."""

    permission_classes = [IsAuthenticated]

    def post(self, request, slug: str):
        room = get_object_or_404(Room, slug=slug)
        try:
            key = services.rotate_stream_key(room, request.user)
        except NotAllowed as error:
            raise PermissionDenied(str(error)) from None
        response = Response({"stream_key": key, "server_url": obs_server_url(request)})
        response["Cache-Control"] = "no-store"
        return response


class RoomCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120)
    description = serializers.CharField(max_length=2000, required=False, default="")
    category = serializers.CharField(max_length=50, required=False, default="")
    tags = serializers.CharField(max_length=200, required=False, default="")
    slug = serializers.CharField(max_length=60, required=False, default="")
