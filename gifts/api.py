"""REST endpoints of gifts: the catalog, the wallet and its history, sending, leaderboards.

Thin: parse, call gifts.services, shape the answer. A `GiftError` rises to the API's one
error mapping (livesite/api_errors.py): its status and `{"code", "message", "detail", ...}`.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from gifts import leaderboards
from gifts.catalog import room_catalog
from gifts.models import LedgerEntry
from gifts.services import coins, sending
from rooms.models import Room

MAX_PAGE = 100


class CatalogView(APIView):
    """Gifts on offer and the quantities a send may carry."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(room_catalog())


class WalletView(APIView):
    """The signed-in user's coins (to spend) and diamonds (earned from gifts)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(coins.wallet_of(request.user).as_dict())


class LedgerEntrySerializer(serializers.ModelSerializer):
    transfer_id = serializers.CharField(read_only=True)
    kind = serializers.CharField(source="transfer.kind", read_only=True)
    memo = serializers.CharField(source="transfer.memo", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = ["id", "transfer_id", "kind", "memo", "currency", "amount", "created_at"]


class HistoryPagination(CursorPagination):
    ordering = "-id"
    page_size = 50


class WalletHistoryView(generics.ListAPIView):
    """Every coin and diamond movement of the signed-in user, newest first."""

    serializer_class = LedgerEntrySerializer
    pagination_class = HistoryPagination
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return LedgerEntry.objects.filter(user=self.request.user).select_related("transfer")


class SendGiftSerializer(serializers.Serializer):
    gift = serializers.CharField(help_text="The gift's slug or id.")
    quantity = serializers.IntegerField()
    idempotency_key = serializers.CharField(
        help_text="8 to 64 letters, digits, '-' or '_', new for each send; a retry reuses it."
    )


class SendGiftView(APIView):
    """Send a gift to a live room's broadcaster. A retry with the same key charges once."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=SendGiftSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request, slug: str):
        room = get_object_or_404(Room, slug=slug)
        data = request.data if isinstance(request.data, dict) else {}
        receipt = sending.send_gift(
            request.user,
            room,
            data.get("gift"),
            data.get("quantity"),
            data.get("idempotency_key"),
        )
        code = status.HTTP_200_OK if receipt.replayed else status.HTTP_201_CREATED
        return Response(receipt.as_dict(), status=code)


PAGE_PARAMETERS = [
    OpenApiParameter("offset", int, description="Rank to start after (0 for the top)."),
    OpenApiParameter("limit", int, description=f"Entries, at most {MAX_PAGE}."),
]


def _window(request) -> tuple[int, int]:
    try:
        offset = max(0, int(request.query_params.get("offset", 0)))
        limit = min(MAX_PAGE, max(1, int(request.query_params.get("limit", 10))))
    except ValueError:
        return 0, 10
    return offset, limit


class LeaderboardView(APIView):
    """A page of one board: `stream/<id>`, `broadcaster/<username>`, `day/<YYYY-MM-DD>`,
    `week/<YYYY-Www>` (coins, highest first)."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=PAGE_PARAMETERS, responses=OpenApiTypes.OBJECT)
    def get(self, request, kind: str, ident: str):
        if kind == leaderboards.BROADCASTER and not ident.isdigit():
            ident = str(get_object_or_404(User, username=ident).pk)
        board = leaderboards.parse_board(kind, ident)
        if board is None:
            raise NotFound("No such leaderboard.")
        offset, limit = _window(request)
        return Response(leaderboards.page(board, offset, limit))


class RoomLeaderboardsView(APIView):
    """The room's boards: this stream's top gifters and the broadcaster's all-time ones."""

    permission_classes = [permissions.AllowAny]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, slug: str):
        room = get_object_or_404(Room, slug=slug)
        return Response(leaderboards.room_snapshot(room))
