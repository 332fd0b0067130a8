"""The Store Price partner client: an SDK (``client.sdk``) and the grocery-deals app built
on it (``python -m client``). It talks to the API over HTTP only and imports nothing from
the server, so you can copy this folder into your own project."""
from .errors import (
                     ApiError,
                     AuthError,
                     ConfigurationError,
                     ForbiddenError,
                     NetworkError,
                     NotFoundError,
                     QuotaExceeded,
                     RateLimited,
                     ServerError,
                     StorePriceError,
                     ValidationError,
)
from .sdk import StorePriceClient

__all__ = [
                     "ApiError",
                     "AuthError",
                     "ConfigurationError",
                     "ForbiddenError",
                     "NetworkError",
                     "NotFoundError",
                     "QuotaExceeded",
                     "RateLimited",
                     "ServerError",
                     "StorePriceClient",
                     "StorePriceError",
                     "ValidationError",
]
