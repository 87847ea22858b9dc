from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
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
    room = get_object_or_404(Room.objects.select_related("owner"), slug=slug)
    context = {
        "room": room,
        "can_moderate": permissions.can_moderate_room(request.user, room),
        "can_manage": permissions.can_manage_room(request.user, room),
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
