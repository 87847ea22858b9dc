from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import permissions
from accounts.models import User
from gifts import services as gifts
from moderation.models import Report
from rooms import services
from rooms.errors import InvalidRoom, NotAllowed
from rooms.forms import RoomForm
from rooms.ingest_address import obs_server_url
from rooms.models import Follow, Room

DIRECTORY_SIZE = 60


def directory(request):
    rooms = Room.objects.select_related("owner").order_by("-updated_at")
    if permissions.is_signed_in(request.user):  # rooms the viewer follows come first
        followed = Follow.objects.filter(user=request.user, room=OuterRef("pk"))
        rooms = rooms.annotate(followed=Exists(followed)).order_by("-followed", "-updated_at")
    context = {
        "live_rooms": rooms.filter(status=Room.Status.LIVE)[:DIRECTORY_SIZE],
        "other_rooms": rooms.exclude(status=Room.Status.LIVE)[:12],
    }
    return render(request, "rooms/directory.html", context)


def room_page(request, slug: str):
    room = get_object_or_404(Room.objects.select_related("owner", "current_stream"), slug=slug)
    can_moderate = permissions.can_moderate_room(request.user, room)
    signed_in = permissions.is_signed_in(request.user)
    room_config = {
        "slug": room.slug,
        "socketPath": f"/ws/rooms/{room.slug}/",
        "stream": room.current_stream_id,
        "status": room.status,
        "hlsUrl": f"/hls/{room.slug}/master.m3u8",
        "ownerName": room.owner.public_name,
        "user": {"id": request.user.pk, "name": request.user.public_name} if signed_in else None,
        "loginUrl": f"{reverse('accounts:login')}?next={request.path}",
    }
    room_config["giftAnimations"] = static("gifts/gift-animations.js")
    room_config["moderationModule"] = static("moderation/room-tools.js") if can_moderate else None
    room_config["balance"] = gifts.wallet_of(request.user).coins if signed_in else None
    context = {
        "room": room,
        "gift_catalog": gifts.room_catalog(),
        "report_reasons": Report.Reason.choices,
        "leaderboards": gifts.leaderboard_snapshot(room),
        "can_moderate": can_moderate,
        "can_manage": permissions.can_manage_room(request.user, room),
        "likes_total": room.current_stream.likes if room.current_stream else 0,
        "room_config": room_config,
        "is_following": signed_in and services.is_following(request.user.pk, room.pk),
    }
    return render(request, "rooms/room.html", context)


@login_required
@require_POST
def create_room(request):
    form = RoomForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A room needs a title of at most 120 characters.")
        return redirect("accounts:dashboard")
    try:
        room = services.create_room(request.user, **form.cleaned_data)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except InvalidRoom as error:
        messages.error(request, str(error))
        return redirect("accounts:dashboard")
    messages.success(request, f"Room “{room.title}” created.")
    return redirect(room)


@never_cache
@login_required
@require_POST
def rotate_stream_key(request, slug: str):
    """Make a new key and show it this once (the database keeps only its hash)."""
    room = get_object_or_404(Room, slug=slug)
    try:
        key = services.rotate_stream_key(room, request.user)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    context = {"room": room, "stream_key": key, "server_url": obs_server_url(request)}
    return render(request, "rooms/stream_key.html", context)


@login_required
@require_POST
def follow(request, slug: str):
    """Follow or (with `unfollow` in the form) unfollow the room, then go back to it."""
    room = get_object_or_404(Room, slug=slug)
    if request.POST.get("unfollow"):
        services.unfollow_room(request.user, room)
    else:
        services.follow_room(request.user, room)
    return redirect(room)


@login_required
@require_POST
def add_moderator(request, slug: str):
    room = get_object_or_404(Room, slug=slug)
    username = request.POST.get("username", "").strip()
    person = User.objects.filter(username__iexact=username, is_active=True).first()
    if person is None:
        messages.error(request, f"There is no user called “{username[:40]}”.")
        return redirect("accounts:dashboard")
    try:
        services.appoint_moderator(room, request.user, person)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    except InvalidRoom as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{person.public_name} now moderates “{room.title}”.")
    return redirect("accounts:dashboard")


@login_required
@require_POST
def remove_moderator(request, slug: str, user_id: int):
    room = get_object_or_404(Room, slug=slug)
    person = get_object_or_404(User, pk=user_id)
    try:
        services.remove_moderator(room, request.user, person)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    messages.success(request, f"{person.public_name} no longer moderates “{room.title}”.")
    return redirect("accounts:dashboard")
