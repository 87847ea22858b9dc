"""Each forwarded frame cut into RTP payloads once per room, not once per viewer.

aiortc's sender turns an encoded `av.Packet` into RTP payloads with its codec's `pack`
(H.264: split the access unit into NAL units, then FU-A fragments and STAP-A
aggregates; Opus: the packet's bytes), once per sender, that is once per viewer,
although the relay (relay.py) hands every viewer of a room the very same packet object.
H.264's and Opus's `pack` depend on the packet alone, so we wrap them (aiortc has no
hook for it; encoded_frames.py and udp_ports.py wrap its module-level names the same
way): the payloads of the last `REMEMBERED` packets are kept, keyed by the packet
object, and every later viewer's sender gets the same list. A cache entry holds its
packet, so no other packet can take its id while it is remembered.

VP8's `pack` numbers pictures per sender (picture ID), so it stays per viewer. What
stays per viewer in any case is what must: each viewer's RTP header (its SSRC,
sequence numbers, timestamps), header extensions and SRTP.
"""

from __future__ import annotations

from collections import OrderedDict

from aiortc.codecs.h264 import H264Encoder
from aiortc.codecs.opus import OpusEncoder

# A viewer's queue holds up to 60 video frames (relay.VIEWER_QUEUE_FRAMES) and audio
# packets come 50 a second: enough for a viewer about 2 s behind the first one.
REMEMBERED = 256

_MARK = "_livesite_shared"


def _shared(pack):
    remembered: OrderedDict[int, tuple[object, tuple[list[bytes], int]]] = OrderedDict()

    def shared_pack(self, packet):
        hit = remembered.get(id(packet))
        if hit is not None and hit[0] is packet:
            return hit[1]
        packed = pack(self, packet)
        remembered[id(packet)] = (packet, packed)
        if len(remembered) > REMEMBERED:
            remembered.popitem(last=False)
        return packed

    setattr(shared_pack, _MARK, True)
    return shared_pack


for _encoder in (H264Encoder, OpusEncoder):
    if not getattr(_encoder.pack, _MARK, False):
        _encoder.pack = _shared(_encoder.pack)
