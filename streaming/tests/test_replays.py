"""Replays: a real recording turned into a VOD replay, served, listed, and expired."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from rooms import services
from rooms.models import Room, Stream
from streaming import tasks
from streaming.replays import delete_replay, make_replay, replay_folder
from streaming.transcoder.tests.broadcasts import make_broadcast
from streaming.transcoder.tests.hls_inspection import inspect_segment, media_playlist
from streaming.transcoder.tests.transcoder_runs import transcode

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def recorded_stream(tmp_path_factory):
    """A room's live folder after a 5 s stream transcoded with --keep-recording (source +
    a 180p rendition, a live window of 2 segments), as the ingest leaves it at the end."""
    folder = tmp_path_factory.mktemp("live") / "room"
    broadcast = make_broadcast(folder.parent / "in.flv", seconds=5)
    run = transcode(broadcast, folder, "--keep-recording", "--ladder", "180", "--window", "2")
    assert run.exit_status == 0, run.stderr
    return folder


def test_the_replay_is_a_complete_vod_of_every_rendition(recorded_stream, tmp_path):
    live = tmp_path / "room"
    _copy_tree(recorded_stream, live)
    seconds = make_replay(live, 7)
    replay = replay_folder(live, 7)
    assert seconds == pytest.approx(5, abs=0.6)
    master = (replay / "master.m3u8").read_text()
    assert "source/index.m3u8" in master and "180p/index.m3u8" in master
    for rendition in ("source", "180p"):
        playlist = media_playlist(replay, rendition)
        assert playlist.ended and playlist.playlist_type == "VOD"
        assert sum(s.duration for s in playlist.segments) == pytest.approx(seconds, abs=0.6)
        first = inspect_segment(replay / rendition / playlist.segments[0].uri)
        assert first.decoded_frames > 0 and first.audio_packets > 0
    assert (replay / "thumbnail.jpg").exists()


def test_the_replay_shares_the_segments_data_and_outlives_the_live_folder(
    recorded_stream, tmp_path
):
    live = tmp_path / "room"
    _copy_tree(recorded_stream, live)
    make_replay(live, 8)
    segment = next((live / "source").glob("seg_*.m4s"))
    linked = replay_folder(live, 8) / "source" / segment.name
    assert os.stat(segment).st_ino == os.stat(linked).st_ino  # a hard link, not a copy
    segment.unlink()  # the next stream empties the live folder
    assert linked.read_bytes()


def test_a_lost_segment_leaves_a_discontinuity_not_a_broken_playlist(recorded_stream, tmp_path):
    live = tmp_path / "room"
    _copy_tree(recorded_stream, live)
    recorded = media_playlist(live, "source", "vod.m3u8").segments
    assert len(recorded) >= 3
    (live / "source" / recorded[1].uri).unlink()
    make_replay(live, 9)
    segments = media_playlist(replay_folder(live, 9), "source").segments
    assert [s.uri for s in segments] == [recorded[0].uri, *[s.uri for s in recorded[2:]]]
    assert segments[1].discontinuity


def test_a_stream_that_never_made_a_segment_has_no_replay(tmp_path):
    assert make_replay(tmp_path / "empty", 1) is None
    assert not replay_folder(tmp_path / "empty", 1).exists()


def test_the_replay_page_plays_a_kept_replay_and_404s_otherwise(client, alice_room, bob):
    other_room = Room.objects.create(owner=bob, slug="bobs-room", title="Bob's")
    stream = services.start_stream(alice_room)
    services.end_stream(alice_room)
    url = f"/rooms/{alice_room.slug}/replays/{stream.pk}/"
    assert client.get(url).status_code == 404  # not recorded
    services.record_replay(stream.pk, 61.5)
    page = client.get(url)
    assert page.status_code == 200
    assert f"/hls/{alice_room.slug}/replays/{stream.pk}/master.m3u8" in page.content.decode()
    assert client.get(f"/rooms/{other_room.slug}/replays/{stream.pk}/").status_code == 404
    # The offline room page lists it.
    assert url in client.get(alice_room.get_absolute_url()).content.decode()


def test_expired_replays_are_deleted_and_no_longer_offered(settings, tmp_path, alice_room):
    settings.HLS_ROOT = tmp_path
    old = services.start_stream(alice_room)
    services.end_stream(alice_room)
    recent = services.start_stream(alice_room)
    services.end_stream(alice_room)
    for stream in (old, recent):
        folder = replay_folder(tmp_path / alice_room.slug, stream.pk)
        folder.mkdir(parents=True)
        (folder / "master.m3u8").write_text("#EXTM3U\n")
        services.record_replay(stream.pk, 10)
    Stream.objects.filter(pk=old.pk).update(replay_expires_at=timezone.now() - timedelta(hours=1))

    assert tasks.delete_expired_replays() == 1

    assert not replay_folder(tmp_path / alice_room.slug, old.pk).exists()
    assert replay_folder(tmp_path / alice_room.slug, recent.pk).exists()
    assert list(Stream.objects.filter(replay_ready=True)) == [recent]
    assert tasks.delete_expired_replays() == 0


def test_retention_sets_the_expiry(settings, alice_room):
    settings.REPLAY_RETENTION_HOURS = 48
    stream = services.start_stream(alice_room)
    services.end_stream(alice_room)
    services.record_replay(stream.pk, 10)
    stream.refresh_from_db()
    expected = timezone.now() + timedelta(hours=48)
    assert abs((stream.replay_expires_at - expected).total_seconds()) < 60


def test_deleting_a_missing_replay_is_harmless(tmp_path):
    delete_replay(tmp_path, 123)


def _copy_tree(source: Path, destination: Path) -> None:
    import shutil

    shutil.copytree(source, destination)


def test_every_scheduled_task_exists():
    """`celery beat` (and `manage.py serve` without a broker) run these by name."""
    from livesite.celery import app
    from livesite.management.commands.serve import _seconds

    app.loader.import_default_modules()
    app.finalize()
    schedule = app.conf.beat_schedule
    names = {entry["task"] for entry in schedule.values()}
    assert {"rooms.end_abandoned_streams", "streaming.delete_expired_replays"} <= names
    for entry in schedule.values():
        assert entry["task"] in app.tasks and _seconds(entry["schedule"]) > 0


def test_a_recording_survives_a_transcoder_killed_before_it_wrote_its_playlist(
    recorded_stream, tmp_path
):
    """The log is written segment by segment: no vod.m3u8 (the process was killed) and
    the replay still has every segment, not just the last live window."""
    live = tmp_path / "room"
    _copy_tree(recorded_stream, live)
    everything = media_playlist(live, "source", "vod.m3u8").segments
    window = media_playlist(live, "source").segments
    assert len(window) < len(everything)  # --window is shorter than the stream
    for rendition in ("source", "180p"):
        (live / rendition / "vod.m3u8").unlink()
    make_replay(live, 11)
    replayed = media_playlist(replay_folder(live, 11), "source").segments
    assert [s.uri for s in replayed] == [s.uri for s in everything]


def test_after_the_replay_the_live_folder_keeps_only_its_ended_window(recorded_stream, tmp_path):
    from streaming.replays import prune_live_folder

    live = tmp_path / "room"
    _copy_tree(recorded_stream, live)
    make_replay(live, 12)
    prune_live_folder(live)
    window = {s.uri for s in media_playlist(live, "source").segments}
    assert {p.name for p in (live / "source").glob("seg_*.m4s")} == window
    assert not (live / "source" / "vod.m3u8").exists()
    assert not (live / "source" / "recording.log").exists()
    replay = replay_folder(live, 12)
    for segment in media_playlist(replay, "source").segments:
        assert (replay / "source" / segment.uri).stat().st_size > 0


def test_replays_nothing_refers_to_are_deleted_once_settled(settings, tmp_path, alice_room):
    import time as clock

    settings.HLS_ROOT = tmp_path
    stream = services.start_stream(alice_room)
    services.end_stream(alice_room)
    kept = replay_folder(tmp_path / alice_room.slug, stream.pk)
    orphan = replay_folder(tmp_path / "deleted-room", 999)  # its room was deleted in admin
    fresh = replay_folder(tmp_path / "deleted-room", 1000)  # being made right now
    for folder in (kept, orphan, fresh):
        folder.mkdir(parents=True)
    services.record_replay(stream.pk, 10)
    old = clock.time() - 7200
    for folder in (kept, orphan):
        os.utime(folder, (old, old))

    assert tasks.delete_expired_replays() == 1
    assert kept.exists() and fresh.exists() and not orphan.exists()


def test_a_worker_that_cannot_see_the_files_leaves_the_replay_for_one_that_can(
    settings, tmp_path, alice_room
):
    settings.HLS_ROOT = tmp_path / "elsewhere"
    stream = services.start_stream(alice_room)
    services.end_stream(alice_room)
    services.record_replay(stream.pk, 10)
    Stream.objects.filter(pk=stream.pk).update(replay_expires_at=timezone.now())
    assert tasks.delete_expired_replays() == 0
    assert Stream.objects.get(pk=stream.pk).replay_ready  # still to be deleted, not forgotten


def test_an_expired_replay_says_so_and_a_live_one_leads_to_the_room(client, alice_room):
    stream = services.start_stream(alice_room)
    url = f"/rooms/{alice_room.slug}/replays/{stream.pk}/"
    assert client.get(url)["Location"] == alice_room.get_absolute_url()  # still live
    services.end_stream(alice_room)
    services.record_replay(stream.pk, 10)
    services.forget_replay(Stream.objects.get(pk=stream.pk))  # the retention task ran
    page = client.get(url)
    assert page.status_code == 410
    assert "no longer available" in page.content.decode()
