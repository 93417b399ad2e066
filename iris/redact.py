"""One redaction of camera source URLs for every answer, log line, status reason and error text.

User info is masked the way FFmpeg splits a URL: everything from ``//`` up to the last ``@`` is
credentials (FFmpeg takes the last ``@`` of the authority; a password with an unencoded ``/``
or ``?`` moves that ``@`` past them, so the last ``@`` anywhere is taken, masking too much
rather than too little). Query parameters whose name looks like a credential are masked too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"

#: Query parameter names (compared lower-case, percent-decoded) whose values are secrets.
CREDENTIAL_PARAMS = frozenset({
    "user", "username", "usr", "login", "pass", "password", "passwd", "pwd", "pw", "auth",
    "authorization", "token", "access_token", "auth_token", "key", "apikey", "api_key",
    "secret", "sig", "signature", "credential", "credentials", "session", "sessionid",
})
#: Secrets shorter than this are not searched for as bare words in free text (too many hits).
MIN_SECRET_LENGTH = 4

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)(//)?")
# In free text a URL ends at whitespace or a quote; its credentials at the last '@' before that.
_TEXT_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^\s'\"<>]*@")
_TEXT_PARAM = re.compile(r"([?&;]([^=&;#\s'\"<>]+)=)([^&;#\s'\"<>]*)")


def is_credential_param(name: str) -> bool:
    """True when a query parameter of this name carries a secret (case-insensitive)."""
    return unquote(name).strip().lower() in CREDENTIAL_PARAMS


def _mask_params(query: str) -> str:
    def mask(match: re.Match[str]) -> str:
        return match[1] + MASK if is_credential_param(match[2]) and match[3] else match[0]

    return _TEXT_PARAM.sub(mask, query)


def redact_url(url: str) -> str:
    """`url` with its user info and credential query values masked; the host is kept.

    ``rtsp://user:pass@host/s`` → ``rtsp://***@host/s``;
    ``http://cam/snap?user=a&pwd=b&ch=1`` → ``http://cam/snap?user=***&pwd=***&ch=1``.
    """
    match = _SCHEME.match(url)
    if match is None or match[2] is None:  # no authority: a path, or file:/x
        head, rest = "", url
    else:
        head, rest = match[0], url[match.end():]
        at = rest.rfind("@")
        if at >= 0:
            rest = f"{MASK}@{rest[at + 1:]}"
    question = rest.find("?")
    if question >= 0:
        rest = rest[:question] + _mask_params(rest[question:])
    return head + rest


def url_secrets(url: str) -> set[str]:
    """The secret strings inside `url` (user info parts, credential query values), raw and
    percent-decoded, each at least `MIN_SECRET_LENGTH` long."""
    found: set[str] = set()
    match = _SCHEME.match(url)
    if match is not None and match[2] is not None:
        rest = url[match.end():]
        at = rest.rfind("@")
        if at >= 0:
            userinfo = rest[:at]
            found.add(userinfo)
            found.update(userinfo.split(":", 1))
    for param in _TEXT_PARAM.finditer(url):
        if is_credential_param(param[2]):
            found.add(param[3])
    found |= {unquote(secret) for secret in found}
    return {secret for secret in found if len(secret) >= MIN_SECRET_LENGTH}


def redact_text(text: str, urls: Iterable[str] = ()) -> str:
    """`text` (an exception message, a log line) with no source credentials left in it.

    Each of `urls` (the sources the text may quote) is replaced by its redacted form and its
    secrets are masked wherever they appear; any other URL's user info and credential query
    values are masked too.
    """
    known = [url for url in urls if url]
    for url in sorted(known, key=len, reverse=True):
        text = text.replace(url, redact_url(url))
    secrets = set().union(*(url_secrets(url) for url in known)) if known else set()
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _TEXT_USERINFO.sub(lambda m: f"{m[1]}{MASK}@", text)
    return _mask_params(text)
