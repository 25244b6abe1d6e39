"""What a failed call means, in one place: the operation, AWS's error code and a short message.

Used for a whole source that could not be collected and for one resource of a source that could
not be read, so both say the same thing the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from botocore.exceptions import ClientError

from ..pack.raw import RawCall
from ..sources.base import DependencyFailed, error_code

# Error codes that mean "these credentials cannot be used", not "this call was refused".
CREDENTIAL_ERROR_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "AuthFailure",
        "RequestExpired",
    }
)
CREDENTIAL_EXCEPTIONS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
        "TokenRetrievalError",
        "ProfileNotFound",
    }
)


def plain(message: str, limit: int = 300) -> str:
    """An error message as one short line of text (some endpoints answer with an HTML page;
    the raw call keeps the whole body)."""
    text = " ".join(re.sub(r"<[^>]+>", " ", message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_failure(exc: Exception, calls: Sequence[RawCall]) -> tuple[str, str, str]:
    """(operation, code, message) of an exception raised while fetching.

    ClientError carries AWS's own code; a transport error, exhausted retries or a timeout is
    named by its exception type and the last call made (the one that failed)."""
    if isinstance(exc, ClientError):
        message = plain(str(exc.response.get("Error", {}).get("Message", exc)))
        return exc.operation_name, error_code(exc), message
    if isinstance(exc, DependencyFailed):
        return exc.operation, exc.code, str(exc)
    last = calls[-1].operation if calls else "unknown"
    return last, type(exc).__name__, plain(str(exc))
