"""REST endpoints of accounts: the signed-in user, and JWT tokens for apps."""

from django.contrib.auth.models import update_last_login
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, permissions, serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services
from accounts.errors import TooManyAttempts
from accounts.models import User
from infra import client_address


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


class ThrottledTokenSerializer(TokenObtainPairSerializer):
    """simplejwt's pair serializer, authenticating through accounts.services.log_in."""

    default_error_messages = {"no_active_account": "That user name and password do not match."}

    def validate(self, attrs):
        request = self.context["request"]
        try:
            self.user = services.log_in(
                request,
                attrs[self.username_field],
                attrs["password"],
                client_address.for_request(request),
            )
        except TooManyAttempts as error:
            raise exceptions.Throttled(wait=error.retry_after_seconds, detail=str(error)) from None
        if not api_settings.USER_AUTHENTICATION_RULE(self.user):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        refresh = self.get_token(self.user)
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(refresh), "access": str(refresh.access_token)}


@extend_schema(summary="Obtain an access and a refresh token (JWT) with a user name and password")
class TokenView(TokenObtainPairView):
    serializer_class = ThrottledTokenSerializer
