"""Canonical URLs: one notice, one key, however a list page spelled its link.

The canonical form is an identity, never a URL to fetch (spiders fetch what the page
linked). It is deliberately conservative: a rule is here only when the two spellings
are the same document on every server we have seen.

Rules, in order:

* surrounding whitespace is stripped; the fragment is dropped;
* only ``http``/``https`` URLs with a host are rewritten; anything else (``mailto:``,
  relative references, garbage) only loses its fragment;
* scheme and host are lower-cased, a trailing dot on the host is dropped, non-ASCII
  hosts become IDNA, default ports (``:80`` for http, ``:443`` for https) are dropped;
* percent-encoding is normalised: escapes of unreserved characters (``A-Z a-z 0-9 - . _
  ~``) are decoded, other escapes are upper-cased, characters outside the RFC 3986 set
  are UTF-8 encoded. Existing escapes are never decoded otherwise, so GBK-encoded
  queries from older CMSes survive byte for byte;
* ``;jsessionid=…`` path parameters are dropped;
* ``//`` runs in the path collapse, ``.`` and ``..`` segments are resolved;
* a last segment ``index.html``, ``index.htm``, ``index.shtml``, ``default.htm`` or
  ``default.html`` (any case) is stripped to its directory; an empty path becomes ``/``;
* tracking query parameters are dropped (see ``TRACKING_PARAMS``), empty ``&&`` parts
  too, and the remaining parameters are sorted.
"""

from __future__ import annotations

import re
import string
from urllib.parse import SplitResult, quote, unquote, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "CACHE_BUSTER_PARAMS", "canonicalize_url"]

# Share/analytics parameters added by WeChat, Weibo, Taobao-style tracking and mail
# campaigns; they never select content on a government CMS.
TRACKING_PARAMS = frozenset(
    {
        "spm", "from", "share", "isappinstalled", "scene", "clicktime", "enterid",
        "sharer_sharetime", "sharer_shareid", "wxshare", "share_token", "sharesource",
        "jsessionid", "phpsessid",
    }
)
TRACKING_PREFIXES = ("utm_",)
# Cache-busters are only dropped when their value is a number (a timestamp or a
# random draw): ``t=notice`` on some CMS selects a template and must survive.
CACHE_BUSTER_PARAMS = frozenset({"_", "t", "_t", "ts", "timestamp", "random", "rnd", "nocache"})
_NUMERIC = re.compile(r"^[0-9]+(?:\.[0-9]+)?$")

_INDEX_PAGES = frozenset({"index.html", "index.htm", "index.shtml", "default.htm", "default.html"})
_DEFAULT_PORTS = {"http": 80, "https": 443}

_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
_SUB_DELIMS = "!$&'()*+,;="
_PATH_SAFE = frozenset(_UNRESERVED | set(_SUB_DELIMS) | set(":@/"))
# Inside a query key or value "&" is the separator and "#" would start a fragment, so
# both stay encoded; "=" is allowed in values (only the first one splits).
_QUERY_SAFE = frozenset((_UNRESERVED | set(_SUB_DELIMS) | set(":@/?")) - {"&"})
_HEX = frozenset(string.hexdigits)
_JSESSIONID = re.compile(r";jsessionid=[^/?]*", re.IGNORECASE)


def canonicalize_url(url: str) -> str:
    """Return the canonical form of ``url``; never raises, idempotent."""
    # Trimmed first, so whatever cannot be parsed below comes back trimmed and the
    # second pass takes the very same branch (idempotence).
    url = url.strip().split("#", 1)[0].strip()
    try:
        return _canonicalize(url)
    except (ValueError, UnicodeError):
        # Malformed netlocs ("http://[x", bad ports, un-IDNA-able hosts): keep as is.
        return url


def _canonicalize(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return url
    netloc = _netloc(parts, scheme)
    path = _path(parts.path)
    query = _query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def _netloc(parts: SplitResult, scheme: str) -> str:
    host = (parts.hostname or "").rstrip(".")
    if not host.isascii():
        host = host.encode("idna").decode("ascii")
    host = host.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    port = parts.port  # ValueError on a non-numeric or out-of-range port
    if port is not None and port != _DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo:
        user, sep, password = userinfo.partition(":")
        userinfo = _normalise_escapes(user, _UNRESERVED | set(_SUB_DELIMS) - {":"})
        if sep:
            userinfo += ":" + _normalise_escapes(password, _UNRESERVED | set(_SUB_DELIMS))
        host = f"{userinfo}@{host}"
    return host


def _path(raw: str) -> str:
    path = _normalise_escapes(_JSESSIONID.sub("", raw), _PATH_SAFE)
    path = re.sub(r"/{2,}", "/", path)
    path = _remove_dot_segments(path)
    head, _, last = path.rpartition("/")
    if last.lower() in _INDEX_PAGES:
        path = head + "/"
    if not path.startswith("/"):
        path = "/" + path
    return path


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4, on an absolute path; ``..`` above the root is dropped."""
    out: list[str] = []
    segments = path.split("/")
    for i, seg in enumerate(segments):
        last = i == len(segments) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if len(out) > 1:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    result = "/".join(out)
    if path.startswith("/") and not result.startswith("/"):
        result = "/" + result
    return re.sub(r"/{2,}", "/", result)


def _query(raw: str) -> str:
    pairs: list[str] = []
    for part in raw.split("&"):
        if not part:
            continue
        key, sep, value = part.partition("=")
        name = unquote(key).strip().lower()
        if name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES):
            continue
        if name in CACHE_BUSTER_PARAMS and _NUMERIC.match(unquote(value).strip()):
            continue
        key = _normalise_escapes(key, _QUERY_SAFE - {"="})
        pairs.append(key + sep + _normalise_escapes(value, _QUERY_SAFE) if sep else key)
    return "&".join(sorted(pairs))


def _normalise_escapes(text: str, safe: frozenset[str] | set[str]) -> str:
    out: list[str] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            decoded = chr(int(text[i + 1 : i + 3], 16))
            out.append(decoded if decoded in _UNRESERVED else "%" + text[i + 1 : i + 3].upper())
            i += 3
            continue
        if ch in safe:
            out.append(ch)
        else:
            out.append(quote(ch.encode("utf-8", "surrogatepass"), safe=""))
        i += 1
    return "".join(out)
