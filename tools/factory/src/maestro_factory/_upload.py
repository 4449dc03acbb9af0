"""One file, one upload, through twine's implementation of the standard upload API.

twine retries 5xx answers itself, immediately and without backoff; we ask it for
a single attempt and let :func:`maestro_factory._integrations.call_with_retries`
wait between attempts instead.
"""

from __future__ import annotations

import contextlib
import html
import io
import logging
import re
from pathlib import Path

import requests
from twine.exceptions import TwineException
from twine.package import PackageFile
from twine.repository import Repository

from maestro_factory.errors import StepFailedError, TransientIndexError, UploadRejectedError
from maestro_factory.index import Credentials, Redactor

__all__ = ["explain_rejection", "upload_file"]

_GROUP_HINT = (
    "upload to the hosted repository (NEXUS_URL) and read from the group (NEXUS_INDEX_URL): "
    "a Nexus group or proxy repository does not accept uploads"
)


def upload_file(path: Path, upload_url: str, credentials: Credentials | None) -> None:
    """Upload *path* once.

    Raises:
        TransientIndexError: 5xx answer, 429, timeout or broken connection (worth retrying).
        UploadRejectedError: Any other non-200 answer, with an explanation.
        StepFailedError: twine cannot read the file as a distribution.
    """
    redact = Redactor([credentials.password] if credentials else [])
    try:
        package = PackageFile.from_filename(str(path), comment=None)
    except TwineException as error:
        raise StepFailedError(f"{path.name} is not a valid distribution: {error}") from None
    username = credentials.username if credentials else None
    password = credentials.password if credentials else None
    repository = Repository(upload_url, username, password, disable_progress_bar=True)
    twine_log = logging.getLogger("twine.repository")
    level = twine_log.level
    # twine prints "Uploading <file>" and logs 'Received "503" ... Retry 1 of 1' (a retry it
    # does not make): the factory says itself what it retries
    twine_log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            response = repository.upload(package, max_redirects=1)
    except (requests.ConnectionError, requests.Timeout) as error:
        raise TransientIndexError(
            redact(f"cannot reach {upload_url}: {type(error).__name__}")
        ) from None
    finally:
        twine_log.setLevel(level)
        repository.close()
    status = response.status_code
    if status == 200:
        return
    if response.is_redirect:
        location = response.headers.get("location", "?")
        raise UploadRejectedError(
            f"{upload_url} redirected the upload to {redact(location)}: use that URL as NEXUS_URL "
            "(a missing trailing slash or http instead of https are the usual causes)",
            status=status,
        )
    text = redact(_plain_text(response.text or ""))[:300]
    if status >= 500 or status == 429:
        retry_after = response.headers.get("Retry-After", "")
        raise TransientIndexError(
            f"{upload_url} answered {status} {response.reason}",
            retry_after=float(retry_after) if retry_after.isdigit() else None,
        )
    raise UploadRejectedError(
        explain_rejection(status, upload_url, text, credentials is not None), status=status
    )


def explain_rejection(status: int, url: str, server_text: str, had_credentials: bool) -> str:
    """Say what a 4xx answer to an upload means and what to do about it.

    >>> print(explain_rejection(405, "https://nexus/repository/pypi-all/", "", True))
    upload to https://nexus/repository/pypi-all/ refused with 405 Method Not Allowed: upload to the hosted ...
    """
    said = f" The server said: {server_text}" if server_text else ""
    prefix = f"upload to {url} refused with {status}"
    if status == 401:
        if not had_credentials:
            return f"{prefix} Unauthorized: the index needs credentials; set NEXUS_USERNAME and NEXUS_PASSWORD (or NEXUS_TOKEN)"
        return f"{prefix} Unauthorized: the index rejected the credentials; check NEXUS_USERNAME and NEXUS_PASSWORD (or NEXUS_TOKEN)"
    if status == 403:
        return (
            f"{prefix} Forbidden: the index refused these credentials for uploading. Check NEXUS_USERNAME and "
            "NEXUS_PASSWORD (or NEXUS_TOKEN); if they are right, grant the user the "
            "nx-repository-view-pypi-<repository>-add privilege on the hosted repository." + said
        )
    if status == 405:
        return f"{prefix} Method Not Allowed: {_GROUP_HINT}.{said}"
    if status == 409:
        return f"{prefix} Conflict: the file already exists on the index and may not be overwritten; release a new version.{said}"
    if status == 400:
        return (
            f"{prefix} Bad Request. Nexus answers a bare 400 when the version already exists and the hosted "
            "repository's deployment policy forbids redeploy (release a new version; never overwrite), and also when "
            f"the URL is a group repository ({_GROUP_HINT}).{said}"
        )
    if status == 413:
        return f"{prefix} Payload Too Large: raise the upload size limit of the proxy in front of the index.{said}"
    return f"{prefix}.{said}"


def _plain_text(body: str) -> str:
    """The readable part of an error page: no head, styles, scripts or tags; collapsed spaces.

    >>> _plain_text("<html><head><style>p {}</style></head><body><h1>Forbidden</h1><p>nope</p></body></html>")
    'Forbidden nope'
    >>> _plain_text("<p>the URL &#039;/x/&#039; &amp; more</p>")
    "the URL '/x/' & more"
    """
    body = re.sub(r"(?is)<(head|style|script)\b.*?</\1>", " ", body)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())
