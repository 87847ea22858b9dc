"""REST endpoints of accounts: the signed-in user, and JWT tokens for apps."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services
from accounts.errors import TooManyAttempts
from accounts.forms import client_address
from accounts.models import User


class UserSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="public_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "display_name", "bio", "is_broadcaster"]
        read_only_fields = ["id", "username", "is_broadcaster"]


class MeView(generics.RetrieveUpdateAPIView):
    """The signed-in user's own account."""

    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user

    def perform_update(self, serializer):
        user = self.request.user
        data = serializer.validated_data
        services.update_profile(
            user,
            display_name=data.get("display_name", user.display_name),
            bio=data.get("bio", user.bio),
        )


class Throttled(exceptions.APIException):
    status_code = 429
    default_code = "throttled"


class ThrottledTokenSerializer(TokenObtainPairSerializer):
    default_error_messages = {"no_active_account": "That user name and password do not match."}

    def validate(self, attrs):
        request = self.context["request"]
        username = attrs.get(self.username_field, "")
        address = client_address(request)
        try:
            services.check_login_allowed(username, address)
        except TooManyAttempts as error:
            raise Throttled(str(error)) from None
        try:
            data = super().validate(attrs)
        except exceptions.AuthenticationFailed:
            services.record_login_failure(username, address)
            raise
        services.clear_login_failures(username, address)
        return data


@extend_schema(summary="Obtain an access and a refresh token (JWT) with a user name and password")
class TokenView(TokenObtainPairView):
    serializer_class = ThrottledTokenSerializer
