class DomainError(Exception):
    """A business rule refused the request. Interfaces show ``message`` to the person who asked.

    ``code`` is a stable machine-readable identifier for API clients; ``status`` is the HTTP status an
    API answers with (400 for bad input, 404 for something absent or belonging to another merchant,
    409 for a state conflict).
    """

    status = 400

    def __init__(self, message: str, *, code: str = "invalid", status: int | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "Not found.", *, code: str = "not_found"):
        super().__init__(message, code=code)


class Conflict(DomainError):
    status = 409

    def __init__(self, message: str, *, code: str = "conflict"):
        super().__init__(message, code=code)
