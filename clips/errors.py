from realtime.errors import DomainError


class ClipError(DomainError):
    """Base of the clips app's domain errors; `message` is for the person who asked."""

    code = "clip_error"


class ClipNotAllowed(ClipError):
    code = "not_allowed"
    status = 403


class ClipRefused(ClipError):
    """The room is offline, disallows clips, or nothing is recorded yet."""

    code = "clip_refused"
    status = 409


class TooManyClips(ClipError):
    code = "too_many_clips"
    status = 429
