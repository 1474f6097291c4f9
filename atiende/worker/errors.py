class DeliveryError(Exception):
    """Raised by handlers and senders. `permanent` decides between retry and give up."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
