"""The m3u8 text itself: what players parse (no media needed)."""


from dataclasses import replace

from streaming.transcoder.playlist import (
    MediaPlaylist,
    MediaSegment,
    Part,
    RenditionReport,
    Variant,
    delta_playlist,
    parse_master_playlist,
    parse_media_playlist,
    render_master_playlist,
    render_media_playlist,
)


def test_live_playlist_round_trips_through_its_text():
    playlist = MediaPlaylist(
        target_duration=2,
        media_sequence=41,
        discontinuity_sequence=3,
        segments=(
            MediaSegment(41, "seg_41.m4s", 2.002),
            MediaSegment(42, "seg_42.m4s", 1.968, discontinuity=True),
        ),
    )
    text = render_media_playlist(playlist)
    assert text.splitlines()[:5] == [
        "#EXTM3U",
        "#EXT-X-VERSION:9",
        "#EXT-X-TARGETDURATION:2",
        "#EXT-X-MEDIA-SEQUENCE:41",
        "#EXT-X-DISCONTINUITY-SEQUENCE:3",
    ]
    assert "#EXT-X-ENDLIST" not in text
    assert parse_media_playlist(text) == playlist


def test_vod_playlist_is_typed_and_ended():
    playlist = MediaPlaylist(
        target_duration=2,
        media_sequence=0,
        segments=(MediaSegment(0, "seg_0.m4s", 2.0),),
        playlist_type="VOD",
        ended=True,
    )
    text = render_media_playlist(playlist)
    assert "#EXT-X-PLAYLIST-TYPE:VOD\n" in text and text.endswith("#EXT-X-ENDLIST\n")
    assert parse_media_playlist(text) == playlist


def test_master_playlist_quotes_codecs():
    text = render_master_playlist(
        [Variant("480p/index.m3u8", 1_400_000, 900_000, 854, 480, ("avc1.64001f", "mp4a.40.2"), 30)]
    )
    assert (
        '#EXT-X-STREAM-INF:BANDWIDTH=1400000,AVERAGE-BANDWIDTH=900000,RESOLUTION=854x480,'
        'CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=30.000\n480p/index.m3u8\n'
    ) in text
    [(attributes, uri)] = parse_master_playlist(text)
    assert attributes["CODECS"] == "avc1.64001f,mp4a.40.2" and uri == "480p/index.m3u8"


def low_latency_playlist(complete: int) -> MediaPlaylist:
    segments = tuple(
        MediaSegment(
            n,
            f"seg_{n}.m4s",
            2.0,
            init="init_0.mp4",
            parts=tuple(Part(f"part_{n}_{k}.m4s", 0.5, k == 0) for k in range(4))
            if n >= complete - 2
            else (),
            program_date_time="2026-12-03T07:00:00.000+00:00" if n == 0 else None,
        )
        for n in range(complete)
    )
    return MediaPlaylist(
        target_duration=2,
        media_sequence=0,
        segments=segments,
        part_target=0.517,
        pending_parts=(Part(f"part_{complete}_0.m4s", 0.5, True),),
        preload_hint=f"part_{complete}_1.m4s",
        rendition_reports=(RenditionReport("../240p/index.m3u8", complete, 0),),
    )


def test_low_latency_playlist_round_trips_and_knows_its_last_part():
    playlist = low_latency_playlist(complete=4)
    parsed = parse_media_playlist(render_media_playlist(playlist))
    assert parsed == playlist
    assert (parsed.last_sequence, parsed.last_part) == (4, 0)


def test_the_delta_form_skips_what_is_older_than_six_target_durations():
    playlist = low_latency_playlist(complete=10)
    delta = delta_playlist(playlist)
    assert delta.skipped_segments == 4  # 6 segments of 2 s are 12 s: the rest is skipped
    assert delta.segments[0].sequence == 4 and delta.segments[0].init == "init_0.mp4"
    text = render_media_playlist(delta)
    assert "#EXT-X-SKIP:SKIPPED-SEGMENTS=4" in text and '#EXT-X-MAP:URI="init_0.mp4"' in text
    assert parse_media_playlist(text).last_sequence == playlist.last_sequence


def test_an_ended_playlist_drops_the_low_latency_controls():
    playlist = replace(low_latency_playlist(complete=4), ended=True, preload_hint=None)
    text = render_media_playlist(playlist)
    assert "SERVER-CONTROL" not in text and "PRELOAD-HINT" not in text
    assert text.endswith("#EXT-X-ENDLIST\n")
