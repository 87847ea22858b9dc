"""REST endpoints of search and categories: the same listings as the pages."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from discovery import services
from discovery.matching import MAX_QUERY_CHARS


class FoundRoomSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    category = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField(), source="tag_list")
    status = serializers.CharField()
    owner = serializers.CharField(source="owner.username")
    owner_name = serializers.CharField(source="owner.public_name")
    viewers = serializers.IntegerField(source="viewer_count", allow_null=True)
    url = serializers.CharField(source="get_absolute_url")


class ListingSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    page = serializers.IntegerField()
    pages = serializers.IntegerField()
    sort = serializers.ChoiceField(choices=services.SORTS)
    results = FoundRoomSerializer(many=True)


class CategoryListingSerializer(ListingSerializer):
    name = serializers.CharField()
    viewers = serializers.IntegerField(help_text="everyone watching the category's live rooms")


class CategorySerializer(serializers.Serializer):
    name = serializers.CharField()
    live_rooms = serializers.IntegerField()
    viewers = serializers.IntegerField()


def _listing(listing: services.Listing) -> dict:
    page = listing.page
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "sort": listing.sort,
        "results": FoundRoomSerializer(page.object_list, many=True).data,
    }


LISTING_PARAMETERS = [
    OpenApiParameter("sort", OpenApiTypes.STR, enum=list(services.SORTS), required=False),
    OpenApiParameter("page", OpenApiTypes.INT, required=False),
]


class SearchView(APIView):
    """Rooms matching `q` by title, tag, category or broadcaster name; live rooms first."""

    permission_classes = []

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q", OpenApiTypes.STR, description=f"at most {MAX_QUERY_CHARS} characters used"
            ),
            *LISTING_PARAMETERS,
        ],
        responses=ListingSerializer,
    )
    def get(self, request):
        query = request.query_params
        listing = services.search_rooms(query.get("q", ""), query.get("sort"), query.get("page"))
        return Response(_listing(listing))


class CategoryListView(APIView):
    """Categories with live rooms, most watched first."""

    permission_classes = []

    @extend_schema(responses=CategorySerializer(many=True))
    def get(self, request):
        return Response(CategorySerializer(services.categories(), many=True).data)


class CategoryDetailView(APIView):
    """A category's live rooms with their viewers, and the category's total."""

    permission_classes = []

    @extend_schema(parameters=LISTING_PARAMETERS, responses=CategoryListingSerializer)
    def get(self, request, name: str):
        if len(name) > services.MAX_CATEGORY_CHARS:
            raise NotFound("No such category.")
        query = request.query_params
        listing = services.category(name, query.get("sort"), query.get("page"))
        return Response({**_listing(listing), "name": name, "viewers": listing.viewers})
