"""The room moderation page: a room's blocked terms, link policy and flood limits.

For the room's owner, its moderators and staff. Each form posts to its own
small view, which calls one service and comes back here.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import permissions
from moderation import services
from moderation.errors import ModerationError
from moderation.forms import BlockedTermForm, RoomRulesForm
from moderation.models import BlockedTermRule, Restriction, RoomRules
from rooms.models import Room


def _moderated_room(request, slug: str) -> Room:
    room = get_object_or_404(Room, slug=slug)
    if not permissions.can_moderate_room(request.user, room):
        raise PermissionDenied("Only the room's moderators may see this page.")
    return room


@login_required
def room_rules(request, slug: str):
    room = _moderated_room(request, slug)
    rules = RoomRules.objects.filter(room=room).first()
    context = {
        "room": room,
        "terms": BlockedTermRule.objects.filter(room=room).order_by("term"),
        "term_form": BlockedTermForm(),
        "rules_form": RoomRulesForm(instance=rules or services.rules.rules_of(room)),
        "followers_only": bool(rules and rules.followers_only),
        "restrictions": Restriction.objects.active()
        .filter(room=room)
        .select_related("user")
        .order_by("-created_at"),
    }
    return render(request, "moderation/room_rules.html", context)


def _report(request, action) -> None:
    try:
        action()
    except ModerationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Saved.")


@login_required
@require_POST
def add_term(request, slug: str):
    room = _moderated_room(request, slug)
    form = BlockedTermForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A term needs text of at most 200 characters and an action.")
    else:
        data = form.cleaned_data
        _report(
            request,
            lambda: services.add_blocked_term(
                request.user, room, data["term"], data["action"], data["whole_word"]
            ),
        )
    return redirect("moderation:room_rules", room.slug)


@login_required
@require_POST
def remove_term(request, slug: str, term_id: int):
    room = _moderated_room(request, slug)
    rule = get_object_or_404(BlockedTermRule, pk=term_id, room=room)
    _report(request, lambda: services.remove_blocked_term(request.user, rule))
    return redirect("moderation:room_rules", room.slug)


@login_required
@require_POST
def update_rules(request, slug: str):
    room = _moderated_room(request, slug)
    form = RoomRulesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Check the rules: " + form.errors.as_text())
    else:
        _report(
            request, lambda: services.update_room_rules(request.user, room, **form.cleaned_data)
        )
    return redirect("moderation:room_rules", room.slug)


@login_required
@require_POST
def followers_only(request, slug: str):
    room = _moderated_room(request, slug)
    on = request.POST.get("on") == "1"
    _report(request, lambda: services.set_followers_only(request.user, room, on))
    return redirect("moderation:room_rules", room.slug)


@login_required
@require_POST
def lift(request, slug: str, user_id: int):
    room = _moderated_room(request, slug)
    _report(request, lambda: services.lift_restrictions(request.user, room, user_id))
    return redirect("moderation:room_rules", room.slug)
