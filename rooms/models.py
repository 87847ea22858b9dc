from django.conf import settings
from django.db import models
from django.urls import reverse


class Room(models.Model):
    """A broadcaster's channel: where viewers watch, chat and send gifts.

    A room outlives its streams; each time it goes live is a `Stream`, and
    `current_stream` points at the live one while the room is live.
    """

    class Status(models.TextChoices):
        OFFLINE = "offline", "Offline"
        LIVE = "live", "Live"
        ENDED = "ended", "Ended"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rooms"
    )
    slug = models.SlugField(max_length=60, unique=True)
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=2000, blank=True)
    category = models.CharField(max_length=50, blank=True)
    # Lower-case words separated by single spaces (rooms.services.clean_tags).
    tags = models.CharField(max_length=200, blank=True)
    # Off when the owner pressed Stop: the ingest refuses to go live until Start.
    accepting_streams = models.BooleanField(default=True)
    # Set when staff stopped the room or revoked its key: only staff may Start it again
    # (rooms.services.start_room); the owner sees the reason on the dashboard.
    stopped_by_staff = models.BooleanField(default=False)
    staff_stop_reason = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OFFLINE)
    current_stream = models.OneToOneField(
        "Stream", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # SHA-256 of the stream key (rooms/stream_keys.py); empty until the owner makes one.
    stream_key_hash = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "-updated_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("rooms:room", args=[self.slug])

    @property
    def is_live(self) -> bool:
        return self.status == self.Status.LIVE

    @property
    def tag_list(self) -> list[str]:
        return self.tags.split()


class RoomModerator(models.Model):
    """A user the room's owner appointed to moderate the room."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="moderator_grants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderator_grants"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="rooms_one_grant_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} moderates {self.room}"


class Stream(models.Model):
    """One live session of a room: from the moment it goes live until it ends."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="streams")
    started_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    peak_viewers = models.PositiveIntegerField(default=0)
    likes = models.PositiveBigIntegerField(default=0)
    # The recording, kept as a replay under HLS_ROOT/<slug>/replays/<id>/ until it expires
    # (streaming/replays.py).
    replay_ready = models.BooleanField(default=False)
    replay_seconds = models.FloatField(null=True, blank=True)
    replay_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["room", "-started_at"]),
            models.Index(fields=["replay_ready", "-ended_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.room} at {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def is_live(self) -> bool:
        return self.ended_at is None

    @property
    def duration_seconds(self) -> int | None:
        if self.ended_at is None:
            return None
        return int((self.ended_at - self.started_at).total_seconds())


class StreamIncident(models.Model):
    """Something that went wrong with a live stream that its owner and staff should see:
    a transcoder that died (with why), a publisher dropped by the ingest."""

    class Kind(models.TextChoices):
        TRANSCODER_DIED = "transcoder_died", "Transcoder died"
        TRANSCODER_GAVE_UP = "transcoder_gave_up", "Transcoder kept failing"
        PUBLISHER_DROPPED = "publisher_dropped", "Publisher dropped"
        ABANDONED = "abandoned", "Ingest vanished"

    stream = models.ForeignKey(Stream, on_delete=models.CASCADE, related_name="incidents")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    detail = models.TextField(max_length=4000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.stream})"


class Follow(models.Model):
    """A viewer following a room: the directory lists followed rooms first, and a room in
    followers-only mode lets followers chat."""

    class Notify(models.TextChoices):
        ALL = "all", "All: tell me when it goes live"
        NONE = "none", "None"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="follows"
    )
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="follows")
    # Whether the follower hears of the room going live (the notifications app).
    notify = models.CharField(max_length=4, choices=Notify.choices, default=Notify.ALL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "room"], name="rooms_one_follow_per_user")
        ]
        # The go-live fan-out reads a room's notified followers in user order.
        indexes = [models.Index(fields=["room", "notify", "user"])]

    def __str__(self) -> str:
        return f"{self.user} follows {self.room}"
