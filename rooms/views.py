from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import permissions
from accounts.models import User
from infra.read_replica import stale_reads_ok
from realtime import presence
from rooms import cache, services
from rooms.errors import InvalidRoom, NotAllowed
from rooms.forms import NewRoomForm, RoomForm
from rooms.ingest_address import obs_server_url, whip_url
from rooms.models import Follow, Room
from rooms.room_page import room_page_parts


@stale_reads_ok
def directory(request):
    """Live rooms (followed ones first) with viewer counts, other rooms, recent replays.

    `?fragment=live` answers only the grid of live cards: static/js/directory.js swaps
    it in when a room's status changes.
    """
    listing = cache.directory()
    live_rooms, other_rooms = listing.live_rooms, listing.other_rooms
    if permissions.is_signed_in(request.user):
        live_rooms, other_rooms = _followed_first(request.user, live_rooms, other_rooms)
    counts = presence.viewer_counts(room.pk for room in live_rooms)
    for room in live_rooms:
        room.viewer_count = counts.get(room.pk, 0)
    context = {"live_rooms": live_rooms, "other_rooms": other_rooms, "replays": listing.replays}
    if request.GET.get("fragment") == "live":
        return render(request, "rooms/live_grid.html", context)
    return render(request, "rooms/directory.html", context)


def _followed_first(user, *room_lists: list[Room]) -> list[list[Room]]:
    """Each list with the rooms `user` follows moved first (one query for all lists)."""
    shown = [room.pk for rooms in room_lists for room in rooms]
    followed = set(
        Follow.objects.filter(user=user, room_id__in=shown).values_list("room_id", flat=True)
    )
    # sorted() is stable: within each half the cached order (newest first) stays
    return [sorted(rooms, key=lambda room: room.pk not in followed) for rooms in room_lists]


@stale_reads_ok(anonymous_only=True)
def room_page(request, slug: str):
    room = cache.room(slug)
    if room is None:
        raise Http404("No such room.")
    can_moderate = permissions.can_moderate_room(request.user, room)
    follow = services.follow_of(request.user, room)
    signed_in = permissions.is_signed_in(request.user)
    room_config = {
        "slug": room.slug,
        "socketPath": f"/ws/rooms/{room.slug}/",
        "stream": room.current_stream_id,
        "status": room.status,
        "hlsUrl": f"/hls/{room.slug}/master.m3u8",
        "whepUrl": f"/whep/{room.slug}/",
        "ownerName": room.owner.public_name,
        "user": {"id": request.user.pk, "name": request.user.public_name} if signed_in else None,
        "loginUrl": f"{reverse('accounts:login')}?next={request.path}",
    }
    room_config["moderationModule"] = static("moderation/room-tools.js") if can_moderate else None
    parts_context, parts_config = room_page_parts(request, room, signed_in)
    room_config.update(parts_config)
    context = {
        "room": room,
        **parts_context,
        "can_moderate": can_moderate,
        "can_manage": permissions.can_manage_room(request.user, room),
        "likes_total": services.stream_likes(room.current_stream_id),
        "room_config": room_config,
        "follow": follow,
        "is_following": follow is not None,
        "replays": [] if room.is_live else services.recent_replays(room),
    }
    return render(request, "rooms/room.html", context)


@stale_reads_ok
def replay_page(request, slug: str, stream_id: int):
    """An ended stream's recording, while it is kept (REPLAY_RETENTION_HOURS)."""
    room = cache.room(slug)
    if room is None:
        raise Http404("No such room.")
    stream = get_object_or_404(room.streams, pk=stream_id)
    if stream.is_live:
        return redirect(room)  # its replay exists once it ends: watch it live meanwhile
    if not stream.replay_ready:
        if stream.replay_expires_at is None:
            raise Http404("This stream was not recorded.")  # no page ever linked to it
        # Expired (REPLAY_RETENTION_HOURS): links to it are out there; say so, not 404.
        context = {"room": room, "stream": stream, "replays": services.recent_replays(room)}
        return render(request, "rooms/replay_gone.html", context, status=410)
    player_config = {
        "hlsUrl": f"/hls/{room.slug}/replays/{stream.pk}/master.m3u8",
        "replay": True,
        "status": "replay",
        "ownerName": room.owner.public_name,
    }
    context = {
        "room": room,
        "stream": stream,
        "player_config": player_config,
        "other_replays": [r for r in services.recent_replays(room) if r.pk != stream.pk],
    }
    return render(request, "rooms/replay.html", context)


@never_cache
@login_required
def manage_room(request, slug: str):
    """The stream manager: edit the room, start and stop it, OBS settings, live health,
    past streams with their replays and incidents."""
    room = get_object_or_404(Room.objects.select_related("owner", "current_stream"), slug=slug)
    if not permissions.can_manage_room(request.user, room):
        raise PermissionDenied("Only the room's owner or staff may manage it.")
    initial = {
        "title": room.title,
        "description": room.description,
        "category": room.category,
        "tags": room.tags,
    }
    form = RoomForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.edit_room(room, request.user, **form.cleaned_data)
        except InvalidRoom as error:
            form.add_error("title", str(error))
        else:
            messages.success(request, "Room saved.")
            return redirect("rooms:manage", slug=room.slug)
    context = {
        "room": room,
        "form": form,
        "health": cache.health(room.pk) if room.is_live else None,
        "streams": services.past_streams(room),
        "can_see_key": permissions.can_see_stream_key(request.user, room),
        # What keeps the room off the air, if anything; staff holds the owner cannot clear.
        "refusal": services.may_publish(room),
        "can_lift_staff_holds": permissions.is_staff(request.user),
        # A monitor socket: the manager's own tab is not one of the room's viewers.
        "manager_config": {
            "slug": room.slug,
            "socketPath": f"/ws/rooms/{room.slug}/?monitor=1",
        },
    }
    return render(request, "rooms/manage.html", context, status=400 if form.errors else 200)


@login_required
@never_cache
def go_live(request, slug: str):
    """Go live from the browser: camera or screen, sent over WHIP with a go-live token."""
    room = get_object_or_404(Room.objects.select_related("owner"), slug=slug)
    if not permissions.can_see_stream_key(request.user, room):
        raise PermissionDenied("Only the room's owner may go live in it.")
    try:
        token = services.go_live_token(room, request.user)
    except InvalidRoom as error:
        token, problem = "", str(error)
    else:
        problem = ""
    config = {
        "slug": room.slug,
        "whipUrl": whip_url(request),
        "token": token,
        "roomUrl": room.get_absolute_url(),
        "stream": room.current_stream_id,
        "user": {"id": request.user.pk, "name": request.user.public_name},
        # A monitor socket: chat, the viewer count, stream health and status, and the
        # broadcaster's own tab is not one of the room's viewers.
        "socketPath": f"/ws/rooms/{room.slug}/?monitor=1",
    }
    parts_context, _ = room_page_parts(request, room, signed_in=True)
    context = {
        "room": room,
        "problem": problem,
        "go_live_config": config,
        "health": cache.health(room.pk) if room.is_live else None,
        "report_reasons": parts_context.get("report_reasons", ()),
    }
    return render(request, "rooms/go_live.html", context)


@login_required
@require_POST
def stop_room(request, slug: str):
    room = get_object_or_404(Room, slug=slug)
    try:
        ended = services.stop_room(room, request.user)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    if ended:
        messages.success(request, "Stream ended. Press Start when you want to go live again.")
    else:
        messages.success(request, "Room stopped: OBS cannot go live until you press Start.")
    return redirect("rooms:manage", slug=room.slug)


@login_required
@require_POST
def start_room(request, slug: str):
    room = get_object_or_404(Room, slug=slug)
    try:
        services.start_room(room, request.user)
    except NotAllowed as error:
        raise PermissionDenied(str(error)) from None
    messages.success(request, "Room started: press “Start Streaming” in OBS to go live.")
    return redirect("rooms:manage", slug=room.slug)


@login_required
def dashboard(request):
    """The signed-in user's rooms (with why one may not go live) and the rooms they
    moderate; served at the account's address as `accounts:dashboard` (livesite/urls.py)."""
    user = request.user
    rooms = list(user.rooms.order_by("-updated_at").prefetch_related("moderator_grants__user"))
    states = services.publish_states([room.pk for room in rooms])
    for room in rooms:
        state = states.get(room.pk)
        room.publish_refusal = state.refusal if state else None
    context = {
        "rooms": rooms,
        "moderated_rooms": [grant.room for grant in user.moderator_grants.select_related("room")],
    }
    return render(request, "rooms/dashboard.html", context)


@login_required
@require_POST
def create_room(request):
    form = NewRoomForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problems(form))
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


def _form_problems(form) -> str:
    """Each invalid field, named as the form labels it, with what is wrong with it."""
    return " ".join(
        f"{form[field].label}: {' '.join(errors)}" for field, errors in form.errors.items()
    )


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
