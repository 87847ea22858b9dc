"""REST endpoints of chat: a stream's history (replays, moderation) and its top comments."""

from django.shortcuts import get_object_or_404
from rest_framework import generics, serializers
from rest_framework.pagination import CursorPagination, LimitOffsetPagination
from rest_framework.response import Response

from chat import top
from chat.ids import timestamp_ms
from chat.models import ChatMessage
from rooms.models import Stream


class MessageSerializer(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)  # 63-bit ids exceed JavaScript's safe integers
    user = serializers.SerializerMethodField()
    ts = serializers.SerializerMethodField()

    class Meta:
        model = ChatMessage
        fields = ["id", "user", "text", "ts", "like_count"]

    def get_user(self, message) -> dict:
        return {"id": message.user_id, "name": message.user.public_name}

    def get_ts(self, message) -> int:
        return timestamp_ms(message.id)


class HistoryPagination(CursorPagination):
    ordering = "id"
    page_size = 100
    max_page_size = 500
    page_size_query_param = "limit"


class StreamHistoryView(generics.ListAPIView):
    """A stream's chat in the order it was sent, without deleted messages."""

    serializer_class = MessageSerializer
    pagination_class = HistoryPagination

    def get_queryset(self):
        stream = get_object_or_404(Stream, pk=self.kwargs["stream_id"])
        return ChatMessage.objects.filter(stream=stream, deleted_at__isnull=True).select_related(
            "user"
        )


class TopPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = 100


class StreamTopMessagesView(generics.GenericAPIView):
    """A stream's most-liked messages, most liked first."""

    serializer_class = MessageSerializer
    pagination_class = TopPagination

    def get(self, request, stream_id: int):
        stream = get_object_or_404(Stream, pk=stream_id)
        paginator = self.pagination_class()
        limit = paginator.get_limit(request)
        offset = paginator.get_offset(request)
        messages = top.top_messages(stream.pk, offset, limit)
        data = self.get_serializer(messages, many=True).data
        return Response({"offset": offset, "limit": limit, "results": data})
