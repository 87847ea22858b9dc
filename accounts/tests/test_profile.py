import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_it_saves_display_name_bio_and_avatar(client, bob, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(bob)
    avatar = SimpleUploadedFile("me.png", png_bytes(), content_type="image/png")
    response = client.post(
        reverse("accounts:edit_profile"),
        {"display_name": " Bobby ", "bio": "I watch speedruns.", "avatar": avatar},
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.display_name == "Bobby"
    assert bob.bio == "I watch speedruns."
    assert bob.avatar.name.endswith(".png")
    page = client.get(reverse("accounts:profile", args=["bob"])).content.decode()
    assert "Bobby" in page and "I watch speedruns." in page


def test_a_file_that_is_not_an_image_is_refused(client, bob, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(bob)
    fake = SimpleUploadedFile("me.png", b"<?php evil(); ?>", content_type="image/png")
    response = client.post(reverse("accounts:edit_profile"), {"display_name": "x", "avatar": fake})
    assert response.status_code == 400
    bob.refresh_from_db()
    assert not bob.avatar


def test_the_bio_is_escaped_on_the_profile_page(client, bob):
    client.force_login(bob)
    client.post(
        reverse("accounts:edit_profile"),
        {"display_name": "", "bio": "<img src=x onerror=alert(1)>"},
    )
    page = client.get(reverse("accounts:profile", args=["bob"])).content.decode()
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_editing_needs_a_log_in(client, db):
    response = client.get(reverse("accounts:edit_profile"))
    assert response.status_code == 302
    assert reverse("accounts:login") in response.url


def test_password_change_works_and_keeps_the_session(client, bob, password):
    client.force_login(bob)
    response = client.post(
        reverse("accounts:password_change"),
        {
            "old_password": password,
            "new_password1": "another pass phrase 7",
            "new_password2": "another pass phrase 7",
        },
    )
    assert response.status_code == 302
    bob.refresh_from_db()
    assert bob.check_password("another pass phrase 7")
    assert client.get(reverse("accounts:dashboard")).status_code == 200


def test_a_viewer_becomes_a_broadcaster_and_creates_a_room(client, bob):
    client.force_login(bob)
    client.post(reverse("accounts:become_broadcaster"))
    bob.refresh_from_db()
    assert bob.is_broadcaster
    response = client.post(reverse("rooms:create"), {"title": "Bob Plays"})
    assert response.status_code == 302
    assert bob.rooms.get().slug == "bob-plays"


def test_a_viewer_cannot_create_a_room(client, bob):
    client.force_login(bob)
    assert client.post(reverse("rooms:create"), {"title": "Sneaky"}).status_code == 403
    assert not bob.rooms.exists()
