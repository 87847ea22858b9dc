"""The m3u8 text itself: what players parse (no media needed)."""


from streaming.transcoder.playlist import (
    MediaPlaylist,
    MediaSegment,
    Variant,
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
