from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import services
from accounts.errors import NotAllowed, TooManyAttempts
from accounts.forms import ProfileForm, SignUpForm, ThrottledLoginForm
from accounts.models import User
from infra import client_address


class LoginView(auth_views.LoginView):
    form_class = ThrottledLoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


def signup(request):
    if request.user.is_authenticated:
        return redirect("accounts:dashboard")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.sign_up(
                form.cleaned_data["username"],
                form.cleaned_data["email"],
                form.cleaned_data["password1"],
                address=client_address.for_request(request),
            )
        except TooManyAttempts as error:
            form.add_error(None, str(error))
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to Livesite, {user.username}!")
            return redirect("accounts:dashboard")
    status = 400 if form.errors else 200
    return render(request, "accounts/signup.html", {"form": form}, status=status)


@login_required
@require_POST
def become_broadcaster(request):
    try:
        services.enable_broadcasting(request.user)
    except NotAllowed as refused:
        messages.error(request, str(refused))
        return redirect("accounts:dashboard")
    messages.success(request, "You can now create rooms and go live.")
    return redirect("accounts:dashboard")


@login_required
def edit_profile(request):
    user = request.user
    initial = {"display_name": user.display_name, "bio": user.bio}
    form = ProfileForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.update_profile(
            user,
            display_name=form.cleaned_data["display_name"],
            bio=form.cleaned_data["bio"],
            avatar=form.cleaned_data.get("avatar") or None,
            clear_avatar=form.cleaned_data["clear_avatar"],
        )
        messages.success(request, "Profile saved.")
        return redirect("accounts:profile", username=user.username)
    status = 400 if form.errors else 200
    return render(request, "accounts/edit_profile.html", {"form": form}, status=status)


def profile(request, username: str):
    person = get_object_or_404(User, username=username, is_active=True)
    rooms = person.rooms.order_by("-updated_at")
    return render(request, "accounts/profile.html", {"person": person, "rooms": rooms})
