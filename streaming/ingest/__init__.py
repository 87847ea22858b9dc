"""The ingest process: RTMP publishers in, one supervised transcoder per live room out.

    RtmpServer --authorize--> Ingest (service.py) --rooms.services--> database
                                  |-- LiveLock (live_lock.py): one publisher per room, cluster-wide
                                  |-- LiveRoom (live_room.py): a room's stream across reconnects
                                  |       '-- TranscoderProcess (transcoder_process.py)
                                  '-- key watch: drops a publisher whose key was rotated

Run by ``python manage.py ingest``. Django stays out of ``streaming/rtmp`` and
``streaming/transcoder``; this package is where they meet the rooms app.
"""
