from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from notifications import services
from notifications.errors import BadUnsubscribeLink
from rooms.errors import InvalidRoom
from rooms.models import Room


@never_cache
@login_required
def notification_list(request):
    """The bell's page: latest notifications (opening it reads them) and the email choice."""
    shown = services.recent_notifications(request.user)
    unread_ids = {n.pk for n in shown if n.read_at is None}
    services.mark_all_read(request.user)
    context = {
        "notifications": shown,
        "unread_ids": unread_ids,
        "unread_notifications": 0,
        "go_live_emails": services.wants_go_live_emails(request.user),
    }
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def email_choice(request):
    on = request.POST.get("go_live") == "on"
    services.set_go_live_emails(request.user.pk, on)
    messages.success(request, "Go-live emails are on." if on else "Go-live emails are off.")
    return redirect("notifications:list")


@login_required
@require_POST
def room_choice(request, slug: str):
    """All or none for one followed room, from the room page."""
    room = get_object_or_404(Room, slug=slug)
    try:
        following = services.set_room_notifications(
            request.user, room, request.POST.get("notify", "")
        )
    except InvalidRoom as error:
        messages.error(request, str(error))
        return redirect(room)
    if not following:
        messages.error(request, "Follow the room first.")
    elif request.POST.get("notify") == "none":
        messages.success(request, f"You will not be told when “{room.title}” goes live.")
    else:
        messages.success(request, f"You will be told when “{room.title}” goes live.")
    return redirect(room)


@csrf_exempt  # the signed token is the proof; mail clients POST here (RFC 8058)
@never_cache
def unsubscribe(request, token: str):
    """Turn go-live emails off from an email's link, signed in or not.

    GET shows one button (link scanners in mail systems follow every GET, so a GET
    alone must change nothing); POST, from that button or a mail client's own
    one-click unsubscribe, turns them off.
    """
    try:
        services.user_of_unsubscribe_token(token)
    except BadUnsubscribeLink:
        raise Http404("This unsubscribe link is not valid.") from None
    done = False
    if request.method == "POST":
        services.unsubscribe(token)
        done = True
    return render(request, "notifications/unsubscribe.html", {"token": token, "done": done})
