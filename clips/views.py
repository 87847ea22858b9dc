from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import permissions
from clips import services
from clips.errors import ClipError, ClipNotAllowed
from rooms import cache
from rooms.models import Room


@login_required
@require_POST
def make_clip(request, slug: str):
    """The room page's ✂ Clip button: the last 30 s (or `seconds`), then the clip's page."""
    room = cache.room(slug)
    if room is None:
        raise Http404("No such room.")
    try:
        clip = services.make_clip(
            request.user, room, request.POST.get("seconds", 30), request.POST.get("title", "")
        )
    except ClipError as error:
        messages.error(request, error.message)
        return redirect(room)
    messages.success(request, "Clip made: share its link.")
    return redirect(clip)


def clip_page(request, public_id: str):
    clip = services.clip_by_public_id(public_id)
    if clip is None:
        raise Http404("No such clip: it may have been deleted.")
    services.count_view(clip)
    room = clip.room
    player_config = {
        "hlsUrl": f"/hls/{room.slug}/replays/clips/{clip.public_id}/master.m3u8",
        "replay": True,
        "status": "replay",
        "ownerName": room.owner.public_name,
    }
    context = {
        "clip": clip,
        "room": room,
        "player_config": player_config,
        "share_url": request.build_absolute_uri(clip.get_absolute_url()),
        "can_delete": services.can_delete(request.user, clip),
    }
    return render(request, "clips/clip.html", context)


@login_required
@require_POST
def delete_clip(request, public_id: str):
    clip = services.clip_by_public_id(public_id)
    if clip is None:
        raise Http404("No such clip.")
    try:
        services.delete_clip(request.user, clip)
    except ClipNotAllowed as error:
        raise PermissionDenied(error.message) from None
    messages.success(request, "Clip deleted.")
    return redirect(clip.room)


@login_required
@require_POST
def clips_allowed(request, slug: str):
    room = get_object_or_404(Room, slug=slug)
    if not permissions.can_manage_room(request.user, room):
        raise PermissionDenied("Only the room's owner may turn clips on or off.")
    on = request.POST.get("allowed") == "on"
    services.set_clips_allowed(request.user, room, on)
    messages.success(request, "Viewers may clip this room." if on else "Clips are off.")
    return redirect("rooms:manage", slug=room.slug)
