from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from accounts import conf, services
from accounts.errors import TooManyAttempts
from accounts.models import User
from infra import client_address


class SignUpForm(UserCreationForm):
    email = forms.EmailField(required=True, help_text="Never shown to others.")

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this e-mail address already exists.")
        return email


class ThrottledLogin:
    """The authentication step of a Django log-in form, through accounts.services.log_in.

    Repeated failures are refused for a growing while (see services.login_delay_seconds).
    """

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        try:
            self.user_cache = services.log_in(
                self.request, username, password, client_address.for_request(self.request)
            )
        except TooManyAttempts as error:
            raise ValidationError(str(error), code="throttled") from None
        if self.user_cache is None:
            raise self.get_invalid_login_error()
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class ThrottledLoginForm(ThrottledLogin, AuthenticationForm):
    """The site's log-in: the error never says which of name or password was wrong."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That user name and password do not match an account.",
    }


class ThrottledAdminLoginForm(ThrottledLogin, AdminAuthenticationForm):
    """/admin/login/, under the same limits as the site's log-in."""


class ProfileForm(forms.Form):
    display_name = forms.CharField(max_length=50, required=False)
    bio = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 4}))
    avatar = forms.ImageField(required=False, help_text="PNG, JPEG, GIF or WebP, up to 2 MB.")
    clear_avatar = forms.BooleanField(required=False, label="Remove my avatar")

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > conf.avatar_max_bytes():
            raise ValidationError("That image is too large (2 MB at most).")
        image = getattr(avatar, "image", None)
        if avatar and image is not None and image.format not in {"PNG", "JPEG", "GIF", "WEBP"}:
            raise ValidationError("Use a PNG, JPEG, GIF or WebP image.")
        return avatar
