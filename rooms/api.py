"""REST endpoints of rooms: the directory and each room's public details."""

from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination

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
            "status",
            "owner",
            "owner_name",
            "updated_at",
        ]


class DirectoryPagination(CursorPagination):
    ordering = "-updated_at"


class RoomListView(generics.ListAPIView):
    """Rooms, live first when filtered with `?status=live`."""

    serializer_class = RoomSerializer
    pagination_class = DirectoryPagination

    def get_queryset(self):
        rooms = Room.objects.select_related("owner")
        status = self.request.query_params.get("status")
        if status in Room.Status.values:
            rooms = rooms.filter(status=status)
        return rooms


class RoomDetailView(generics.RetrieveAPIView):
    serializer_class = RoomSerializer
    queryset = Room.objects.select_related("owner")
    lookup_field = "slug"
