from django.conf import settings
from django.db import models


class ChatMessage(models.Model):
    """A chat message as it was accepted. Ids come from chat.ids, in time order."""

    id = models.BigIntegerField(primary_key=True)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    stream = models.ForeignKey(
        "rooms.Stream", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_messages"
    )
    text = models.CharField(max_length=300)
    created_at = models.DateTimeField()
    deleted_at = models.DateTimeField(null=True, blank=True)
    like_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["room", "-id"], name="chat_room_recent"),
            models.Index(fields=["stream", "-id"], name="chat_stream_recent"),
            models.Index(fields=["stream", "-like_count"], name="chat_stream_top"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text[:40]}"


class ChatMessageLike(models.Model):
    """One viewer liking one message: the source of truth for top comments."""

    message = models.ForeignKey(ChatMessage, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["message", "user"], name="chat_one_like_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} likes {self.message_id}"


class RoomChatSettings(models.Model):
    """Per-room chat rules set by the owner or a moderator."""

    room = models.OneToOneField(
        "rooms.Room", on_delete=models.CASCADE, related_name="chat_settings"
    )
    slow_mode_seconds = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"chat settings of {self.room_id}"
