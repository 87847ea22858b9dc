"""Notice a change of a user's access however it was saved.

Passwords change in Django's own views (password change and reset), in the admin
and in `manage.py changepassword`; accounts are deactivated and staff taken away
in the admin. None of these go through accounts.services, so the change is caught
where they all meet, the user's save, and handed to the service that acts on it.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts import services
from accounts.models import User


@receiver(post_save, sender=User)
def access_changed(sender, instance: User, created: bool, **kwargs) -> None:
    before = getattr(instance, "_access_as_saved", None)
    after = instance.access()
    instance.remember_access()
    if created or before is None or after is None or before == after:
        return
    (old_password, was_active, was_staff), (password, active, staff) = before, after
    services.access_changed(
        instance,
        password_changed=old_password != password,
        deactivated=was_active and not active,
        lost_staff=was_staff and not staff,
    )
