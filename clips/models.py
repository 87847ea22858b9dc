from django.conf import settings
from django.db import models
from django.urls import reverse


class Clip(models.Model):
    """The last 15 to 60 seconds of a live stream, kept until deleted (clips/files.py)."""

    # The share link's id: not the row id, so clips cannot be counted or walked.
    public_id = models.CharField(max_length=16, unique=True)
    room = models.ForeignKey("rooms.Room", on_delete=models.CASCADE, related_name="+")
    stream = models.ForeignKey(
        "rooms.Stream", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="clips"
    )
    title = models.CharField(max_length=100)
    seconds = models.FloatField()
    has_thumbnail = models.BooleanField(default=False)
    views = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["room", "-created_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("clips:clip", args=[self.public_id])


class ClipChoice(models.Model):
    """A room whose owner turned clipping off (no row: clips allowed)."""

    room = models.OneToOneField(
        "rooms.Room", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    allowed = models.BooleanField(default=True)
    changed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.room}: clips {'allowed' if self.allowed else 'off'}"
