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

    @property
    def public_name(self) -> str:
        return self.display_name or self.username

    def __str__(self) -> str:
        return self.username
