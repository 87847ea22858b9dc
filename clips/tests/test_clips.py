"""Clips: the last seconds of a live stream, linked from its recording; who may make,
see, delete and refuse them."""

import os
from pathlib import Path

import pytest
from django.urls import reverse

from clips import files, services
from clips.errors import ClipNotAllowed, ClipRefused, TooManyClips
from clips.models import Clip
from rooms import services as rooms

pytestmark = pytest.mark.django_db

SEGMENTS = 40  # 80 s recorded, 2 s segments


def write_recording(folder: Path, segments: int = SEGMENTS) -> None:
    """What the transcoder leaves in a room's live folder: a master playlist, one
    rendition with its segments, a thumbnail."""
    (folder / "360p").mkdir(parents=True)
    (folder / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
    )
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    for n in range(segments):
        (folder / "360p" / f"seg_{n}.ts").write_bytes(b"G" * 188 * (n + 1))
        lines += ["#EXTINF:2.000,", f"seg_{n}.ts"]
    (folder / "360p" / "index.m3u8").write_text("\n".join(lines) + "\n")
    (folder / "thumbnail.jpg").write_bytes(b"\xff\xd8jpeg")


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def hls_root(settings, tmp_path):
    settings.HLS_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def live_room(alice_room, hls_root):
    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    write_recording(hls_root / alice_room.slug)
    return alice_room


def test_a_viewer_clips_the_last_30_seconds_without_re_encoding(live_room, bob, hls_root):
    clip = services.make_clip(bob, live_room, 30, "What a jump")
    assert clip.title == "What a jump" and clip.seconds == 30 and clip.has_thumbnail
    folder = files.clip_folder(hls_root / live_room.slug, clip.public_id)
    linked = sorted((folder / "360p").glob("seg_*.ts"), key=lambda p: int(p.stem[4:]))
    assert [p.name for p in linked] == [f"seg_{n}.ts" for n in range(SEGMENTS - 15, SEGMENTS)]
    original = hls_root / live_room.slug / "360p" / linked[0].name
    assert os.stat(original).st_ino == os.stat(linked[0]).st_ino  # a hard link
    playlist = (folder / "360p" / "index.m3u8").read_text()
    assert "#EXT-X-ENDLIST" in playlist and "#EXT-X-PLAYLIST-TYPE:VOD" in playlist
    assert (folder / "master.m3u8").exists() and (folder / "thumbnail.jpg").exists()


def test_a_clip_of_a_low_latency_stream_carries_its_init_segment(alice_room, bob, hls_root):
    """CMAF segments (LL-HLS) decode only with their EXT-X-MAP init segment."""
    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    folder = hls_root / alice_room.slug
    (folder / "360p").mkdir(parents=True)
    (folder / "master.m3u8").write_text(
        "#EXTM3U\n#EXT-X-VERSION:9\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360\n360p/index.m3u8\n"
    )
    (folder / "360p" / "init_0.mp4").write_bytes(b"ftypmoov")
    lines = ["#EXTM3U", "#EXT-X-VERSION:9", "#EXT-X-TARGETDURATION:2", "#EXT-X-MEDIA-SEQUENCE:0"]
    lines.append('#EXT-X-MAP:URI="init_0.mp4"')
    for n in range(SEGMENTS):
        (folder / "360p" / f"seg_{n}.m4s").write_bytes(b"moof" * (n + 1))
        lines += ["#EXTINF:2.000,", f"seg_{n}.m4s"]
    (folder / "360p" / "index.m3u8").write_text("\n".join(lines) + "\n")
    clip = services.make_clip(bob, alice_room, 30, "Low latency")
    clip_folder = files.clip_folder(folder, clip.public_id) / "360p"
    assert (clip_folder / "init_0.mp4").read_bytes() == b"ftypmoov"
    playlist = (clip_folder / "index.m3u8").read_text()
    assert '#EXT-X-MAP:URI="init_0.mp4"' in playlist.split(f"seg_{SEGMENTS - 15}.m4s")[0]


def test_a_clip_outlives_the_live_folder(live_room, bob, hls_root):
    clip = services.make_clip(bob, live_room, 15)
    for segment in (hls_root / live_room.slug / "360p").glob("seg_*.ts"):
        segment.unlink()  # the next stream empties the live folder
    folder = files.clip_folder(hls_root / live_room.slug, clip.public_id)
    assert all(path.read_bytes() for path in (folder / "360p").glob("seg_*.ts"))


@pytest.mark.parametrize("seconds", [14, 61, -30, "thirty", None, True, "1e9"])
def test_a_length_outside_15_to_60_seconds_is_refused(live_room, bob, seconds):
    with pytest.raises(ClipRefused, match="15 to 60 seconds"):
        services.make_clip(bob, live_room, seconds)


def test_an_offline_room_cannot_be_clipped(alice_room, bob, hls_root):
    with pytest.raises(ClipRefused, match="offline"):
        services.make_clip(bob, alice_room, 30)


def test_a_room_whose_owner_turned_clips_off_refuses(live_room, alice, bob):
    services.set_clips_allowed(alice, live_room, False)
    with pytest.raises(ClipRefused, match="turned clips off"):
        services.make_clip(bob, live_room, 30)


def test_only_the_owner_turns_clips_off(live_room, carol, bob):
    for person in (carol, bob):
        with pytest.raises(ClipNotAllowed):
            services.set_clips_allowed(person, live_room, False)


def test_clipping_too_often_is_refused(live_room, bob, settings):
    settings.CLIPS_PER_USER_LIMIT = 2
    services.make_clip(bob, live_room, 15)
    services.make_clip(bob, live_room, 15)
    with pytest.raises(TooManyClips, match="2 clips every 10 minutes"):
        services.make_clip(bob, live_room, 15)


def test_visitors_cannot_clip(live_room, client):
    response = client.post(reverse("clips:make", args=[live_room.slug]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Clip.objects.exists()


def test_nothing_recorded_yet_is_a_clear_refusal(alice_room, bob, hls_root):
    rooms.start_stream(alice_room)
    alice_room.refresh_from_db()
    with pytest.raises(ClipRefused, match="Nothing of this stream is recorded yet"):
        services.make_clip(bob, alice_room, 30)


def test_the_clip_page_plays_it_counts_views_and_offers_a_share_link(live_room, bob, client):
    clip = services.make_clip(bob, live_room, 30, "<b>wow</b>")
    page = client.get(clip.get_absolute_url()).content.decode()
    assert f"/hls/{live_room.slug}/replays/clips/{clip.public_id}/master.m3u8" in page
    assert f"http://testserver/clips/{clip.public_id}/" in page
    assert "&lt;b&gt;wow&lt;/b&gt;" in page and "<b>wow</b>" not in page
    client.get(clip.get_absolute_url())
    clip.refresh_from_db()
    assert clip.views == 2


def test_the_room_page_has_a_clip_button_and_lists_clips(live_room, bob, client, password):
    clip = services.make_clip(bob, live_room, 30, "Big moment")
    client.login(username="bob", password=password)
    page = client.get(live_room.get_absolute_url()).content.decode()
    assert "data-clip" in page and "Big moment" in page and clip.get_absolute_url() in page


def test_making_a_clip_from_the_room_page_leads_to_it(live_room, bob, client, password):
    client.login(username="bob", password=password)
    response = client.post(reverse("clips:make", args=[live_room.slug]), {"seconds": "15"})
    clip = Clip.objects.get()
    assert response["Location"] == clip.get_absolute_url() and clip.seconds == 16


def test_a_refusal_on_the_room_page_says_why(alice_room, bob, client, password, hls_root):
    client.login(username="bob", password=password)
    response = client.post(reverse("clips:make", args=[alice_room.slug]), follow=True)
    assert "This room is offline" in response.content.decode()


@pytest.mark.parametrize("who", ["alice", "carol", "dave", "bob"])
def test_the_owner_moderators_staff_and_its_maker_delete_a_clip(
    live_room, bob, who, request, hls_root, django_capture_on_commit_callbacks
):
    clip = services.make_clip(bob, live_room, 15)
    folder = files.clip_folder(hls_root / live_room.slug, clip.public_id)
    assert folder.exists()
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_clip(request.getfixturevalue(who), clip)
    assert not Clip.objects.exists()
    assert not folder.exists()


def test_other_viewers_cannot_delete_a_clip(live_room, bob, client, password):
    from accounts import services as accounts

    clip = services.make_clip(bob, live_room, 15)
    accounts.sign_up("mallory", "m@example.com", password)
    client.login(username="mallory", password=password)
    response = client.post(reverse("clips:delete", args=[clip.public_id]))
    assert response.status_code == 403 and Clip.objects.exists()


def test_a_deleted_or_unknown_clip_is_not_found(client):
    for public_id in ("nope", "x" * 500, "'; DROP TABLE clips_clip; --"):
        assert client.get(f"/clips/{public_id}/").status_code == 404


def test_the_stream_manager_turns_clips_off_and_shows_their_disk_use(
    live_room, alice, bob, client, password
):
    services.make_clip(bob, live_room, 30)
    client.login(username="alice", password=password)
    page = client.get(reverse("rooms:manage", args=[live_room.slug])).content.decode()
    assert "Viewers may clip this room" in page and "on disk" in page
    client.post(reverse("clips:allowed", args=[live_room.slug]), {})
    assert not services.clips_allowed(live_room)


def test_clips_show_in_the_directory_and_on_the_broadcasters_profile(live_room, bob, client):
    clip = services.make_clip(bob, live_room, 30, "Directory moment")
    for url in ("/", reverse("accounts:profile", args=["alice"])):
        page = client.get(url).content.decode()
        assert "Directory moment" in page and clip.get_absolute_url() in page
    assert (
        "Directory moment"
        not in client.get(reverse("accounts:profile", args=["bob"])).content.decode()
    )
