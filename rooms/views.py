from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts import permissions
from rooms import services
from rooms.errors import InvalidRoom, NotAllowed
from rooms.forms import RoomForm
from rooms.models import Room

DIRECTORY_SIZE = 60


def directory(request):
    rooms = Room.objects.select_related("owner").order_by("-updated_at")
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
        "user": {"id": request.user.pk, "name": request.user.public_name} if signed_in else None,
        "loginUrl": f"{reverse('accounts:login')}?next={request.path}",
    }
    context = {
        "room": room,
        "can_moderate": can_moderate,
        "can_manage": permissions.can_manage_room(request.user, room),
        "likes_total": room.current_stream.likes if room.current_stream else 0,
        "room_config": room_config,
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
