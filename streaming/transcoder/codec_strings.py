"""RFC 6381 codec strings for the master playlist's CODECS attribute.

A player decides from CODECS whether it can play a variant before downloading it, so
the string must match the stream: ``avc1.PPCCLL`` takes profile_idc, the constraint
flags and level_idc from the H.264 sequence parameter set, not from our settings.
"""

AAC_CODEC_STRINGS = {
    # mp4a.40.<audio object type>: 2 = AAC-LC, 5 = HE-AAC (SBR), 29 = HE-AACv2 (PS).
    "LC": "mp4a.40.2",
    "HE-AAC": "mp4a.40.5",
    "HE-AACv2": "mp4a.40.29",
}
H264_SPS_NAL_TYPE = 7


def h264_codec_string(extradata: bytes | None, keyframe: bytes | None) -> str | None:
    """From avcC extradata (FLV, MP4) or from an SPS in Annex B bytes (our encoders
    write it in-band before every keyframe)."""
    if extradata and extradata[0] == 1 and len(extradata) >= 4:
        return _avc1(extradata[1], extradata[2], extradata[3])
    for data in (extradata, keyframe):
        sps = _annex_b_sps(data or b"")
        if sps is not None:
            return _avc1(sps[0], sps[1], sps[2])
    return None


def aac_codec_string(profile: str | None) -> str:
    return AAC_CODEC_STRINGS.get(profile or "LC", "mp4a.40.2")


def _avc1(profile_idc: int, constraint_flags: int, level_idc: int) -> str:
    return f"avc1.{profile_idc:02x}{constraint_flags:02x}{level_idc:02x}"


def _annex_b_sps(data: bytes) -> bytes | None:
    """The three bytes after the NAL header of the first SPS found after a start code."""
    start = data.find(b"\x00\x00\x01")
    while start != -1 and start + 6 <= len(data):
        nal = start + 3
        if data[nal] & 0x1F == H264_SPS_NAL_TYPE:
            return data[nal + 1 : nal + 4]
        start = data.find(b"\x00\x00\x01", nal)
    return None
