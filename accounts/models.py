from django.contrib.auth.models import AbstractUser
from django.db import models


def avatar_path(user: "User", filename: str) -> str:
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "img"
    return f"avatars/{user.pk}/{user.username}.{extension}"


class User(AbstractUser):
    """A Livesite account. Everyone is a viewer; roles beyond that are explicit.

    - broadcaster: `is_broadcaster`, may own rooms and go live;
    - room moderator: granted per room by its owner (rooms.RoomModerator);
    - staff: `is_staff`, Django admin and every room's moderation.
    """

    display_name = models.CharField(max_length=50, blank=True)
    bio = models.TextField(max_length=500, blank=True)
    avatar = models.ImageField(upload_to=avatar_path, blank=True)
    is_broadcaster = models.BooleanField(default=False, help_text="May own rooms and go live.")
    # Set when staff take broadcasting away: the owner cannot turn it back on; only staff
    # can (accounts.services.restore_broadcasting). The reason is shown on the dashboard.
    broadcasting_revoked_by_staff = models.BooleanField(
        default=False, help_text="Staff took broadcasting away; only staff can give it back."
    )
    broadcasting_revoked_reason = models.CharField(max_length=500, blank=True)

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user.remember_access()
        return user

    def access(self) -> tuple | None:
        """What its sessions, tokens and sockets were granted on; None if not all loaded."""
        loaded = self.__dict__
        if not all(name in loaded for name in ("password", "is_active", "is_staff")):
            return None
        return (self.password, self.is_active, self.is_staff)

    def remember_access(self) -> None:
        """Note the access as saved, so that a change can be told after the next save
        (accounts.signals)."""
        self._access_as_saved = self.access()

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.username
