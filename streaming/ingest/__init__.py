"""The ingest process: RTMP and WHIP publishers in, one supervised transcoder per live room out.

    RtmpServer --authorize--> RtmpPublishers (rtmp_session.py) --+
    WHIP offers (handover.py) --> WhipPublishers (whip.py) ------+--> Ingest (service.py)
      Ingest: the rooms live here, under one guard
        |-- authorize.py: stream key and may-publish (rooms.services), the live lock
        |-- streams.py: a stream started and ended (folder, database, node registry, replay)
        |-- LiveRoom (live_room.py): a room's stream across reconnects
        |       '-- TranscoderProcess (transcoder_process.py), run by supervise.py
        |-- LockKeeper (lock_keeper.py) over LiveLock (live_lock.py): one publisher per room
        '-- watch.py: drops a publisher whose key was rotated, room stopped or lock lost

Run by ``python manage.py ingest``. Django stays out of ``streaming/rtmp`` and
``streaming/transcoder``; this package is where they meet the rooms app.
"""
