from django.conf import settings
from django.db import models


class Notification(models.Model):
    """Something a user should hear of: today, a followed room that went live.

    At most one per user and stream, so a fan-out task that runs twice (a worker died
    half-way) notifies nobody twice. Unread until `read_at`.
    """

    class Kind(models.TextChoices):
        GO_LIVE = "go_live", "Went live"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.GO_LIVE)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    stream = models.ForeignKey("rooms.Stream", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # Set once the go-live email went out, so a repeated email task sends none twice.
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "stream", "kind"], name="notifications_one_per_stream"
            )
        ]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.get_kind_display().lower()} (for {self.user})"


class EmailChoice(models.Model):
    """A user who asked for go-live emails (off until they turn it on; an unsubscribe
    link in every email turns it off again without signing in)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="email_choice",
    )
    go_live = models.BooleanField(default=False)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user}: go-live emails {'on' if self.go_live else 'off'}"
