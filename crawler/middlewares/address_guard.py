"""SSRF guard: refuse requests to addresses and hosts a government-site crawler must never reach.

Every request, every retry and every redirect hop passes through ``process_request``
(Scrapy's RedirectMiddleware hands the engine a *new* Request, which is scheduled and
downloaded like any other), so one check covers them all. The guard refuses:

* schemes other than http and https;
* hosts outside the site's allowed domains (the site the request belongs to, from
  ``meta["nw_site"]``; a host matches a domain or any subdomain of it, so a site whose
  attachments live on ``file.example.gov.cn`` lists ``example.gov.cn`` in its
  registry ``allowed_domains``). Unlike OffsiteMiddleware this also applies to
  ``dont_filter`` requests (first list pages, retries, redirects);
* addresses that are not globally routable: loopback, private, link-local, CGNAT
  (100.64/10), multicast, reserved, unspecified, IPv4-compatible IPv6, and IPv6
  forms embedding a forbidden IPv4 address (mapped, 6to4, Teredo, NAT64).

Which address is checked: with a proxy (``meta["proxy"]``, set by HttpProxyMiddleware,
which therefore must run first: this middleware sits at 760, after its 750) the proxy
resolves the target, so the guard checks the proxy's address (plus the target when it
is an IP literal). Without one, the host is resolved and every address is checked.

``NOTICEWATCH_ALLOW_PRIVATE_NETWORKS`` (CIDRs) admits deployments on private networks
and the local fixture web (127.0.0.1/32). Refusals raise IgnoreRequest with
``meta["nw_error_kind"] = "refused_address"``, which the spider's errback records.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import threads

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def parse_address(text: str) -> IPAddress | None:
    """An IP literal (brackets and IPv6 zone ids allowed), or None for a host name."""
    text = text.strip().strip("[]").split("%", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[str, ipaddress.IPv4Address] | None:
    """The IPv4 address an IPv6 transition form carries, with the form's name."""
    if ip.ipv4_mapped is not None:
        return "ipv4-mapped", ip.ipv4_mapped
    if ip.sixtofour is not None:
        return "6to4", ip.sixtofour
    if ip.teredo is not None:
        return "teredo", ip.teredo[1]
    if ip in _NAT64:
        return "nat64", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if int(ip) >> 32 == 0 and int(ip) > 1:  # ::a.b.c.d, the deprecated IPv4-compatible form
        return "ipv4-compatible", ipaddress.IPv4Address(int(ip))
    return None


def forbidden_reason(address: str | IPAddress) -> str | None:
    """Why the crawler must not connect to *address*; None when it is globally routable."""
    ip = parse_address(address) if isinstance(address, str) else address
    if ip is None:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            form, v4 = embedded
            inner = forbidden_reason(v4)
            if inner is not None:
                return f"{form} {inner}"
            if form in ("ipv4-compatible", "nat64"):
                return form  # deprecated or translation forms: no reason to ever follow them
            return None  # a mapped/6to4/Teredo form of a public IPv4 address
    checks: tuple[tuple[str, bool], ...] = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("cgnat", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-global", not ip.is_global),
    )
    for name, hit in checks:
        if hit:
            return name
    return None


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values if v and v.strip())


def address_allowed(ip: IPAddress, networks: Sequence[IPNetwork]) -> bool:
    """On the allow-list: the address itself, or the IPv4 address an IPv6 form embeds."""
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (embedded := _embedded_ipv4(ip)):
        candidates.append(embedded[1])
    return any(c.version == n.version and c in n for c in candidates for n in networks)


def host_in_domains(host: str, domains: Iterable[str]) -> bool:
    host = host.lower().rstrip(".")
    for domain in domains:
        domain = domain.lower().strip().rstrip(".").strip("[]")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def system_resolve(host: str) -> list[str]:
    """Every address the system resolver gives for *host* (blocking: run it in a thread)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})


def mapping_resolver(hosts: Mapping[str, str | Sequence[str]]) -> Resolver:
    """A resolver answering from a fixed table (tests: never real DNS); unknown names fail."""
    table = {k.lower(): ([v] if isinstance(v, str) else list(v)) for k, v in hosts.items()}

    def resolve(host: str) -> list[str]:
        try:
            return table[host.lower()]
        except KeyError:
            raise socket.gaierror(f"{host} is not in the guard's host table") from None

    return resolve


class AddressGuardMiddleware:
    """Downloader middleware (priority 760): see the module docstring."""

    crawler: Crawler

    def __init__(self, *, allow_networks: Sequence[IPNetwork] = (), resolver: Resolver | None = None,
                 threaded_resolver: bool = True) -> None:
        self.allow_networks = tuple(allow_networks)
        self.resolver: Resolver = resolver or system_resolve
        # A table lookup is instant; real DNS must not block the reactor.
        self.threaded_resolver = threaded_resolver and resolver is None
        self._resolved: dict[str, list[str]] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        s = crawler.settings
        if not s.getbool("NOTICEWATCH_GUARD_ENABLED", True):
            raise NotConfigured("address guard disabled")
        table = s.getdict("NOTICEWATCH_GUARD_HOSTS")
        mw = cls(allow_networks=parse_networks(s.getlist("NOTICEWATCH_ALLOW_PRIVATE_NETWORKS")),
                 resolver=mapping_resolver(table) if table else None)
        mw.crawler = crawler
        return mw

    # -- checks ---------------------------------------------------------------------------

    def allowed_domains(self, request: Request) -> tuple[str, ...] | None:
        """The domains *request* may go to; None when the spider sets no limit."""
        spider = getattr(self.crawler, "spider", None)
        sites: Mapping[str, Any] = getattr(spider, "sites_by_key", None) or {}
        site = sites.get(request.meta.get("nw_site", ""))
        if site is not None:
            return tuple(site.domains())
        domains = getattr(spider, "allowed_domains", None)
        return tuple(domains) if domains else None

    def address_refusal(self, address: str) -> str | None:
        ip = parse_address(address)
        if ip is None:
            return f"{address!r} is not an IP address"
        if address_allowed(ip, self.allow_networks):
            return None
        reason = forbidden_reason(ip)
        return f"{reason} address {ip}" if reason else None

    async def resolve(self, host: str) -> list[str]:
        if host in self._resolved:
            return self._resolved[host]
        if self.threaded_resolver:
            addresses = await maybe_deferred_to_future(threads.deferToThread(self.resolver, host))
        else:
            addresses = list(self.resolver(host))
        self._resolved[host] = list(addresses)
        return self._resolved[host]

    async def refusal(self, request: Request) -> tuple[str, str] | None:
        """(error kind, reason) when *request* must not be sent."""
        parts = urlsplit(request.url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            return "refused_address", f"scheme {scheme or '(none)'!r} is not http(s)"
        host = (parts.hostname or "").lower()
        if not host:
            return "refused_address", "URL has no host"
        literal = parse_address(host)
        if literal is not None and (why := self.address_refusal(str(literal))):
            return "refused_address", why
        domains = self.allowed_domains(request)
        if domains is not None and not host_in_domains(host, domains):
            return "refused_address", f"host {host!r} is outside the site's allowed domains"
        proxy = request.meta.get("proxy")
        target = (urlsplit(proxy if "://" in proxy else f"//{proxy}").hostname or "") if proxy else host
        if literal is not None and not proxy:
            return None  # the literal was checked above
        try:
            addresses = [target] if parse_address(target) else await self.resolve(target)
        except OSError as exc:
            return "dns", f"cannot resolve {target!r}: {exc}"
        if not addresses:
            return "dns", f"{target!r} resolves to nothing"
        for address in addresses:
            if why := self.address_refusal(address):
                via = f"proxy {target!r}" if proxy else repr(target)
                return "refused_address", f"{via} resolves to a {why}"
        return None

    async def process_request(self, request: Request) -> None:
        found = await self.refusal(request)
        if found is None:
            return
        kind, reason = found
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("guard/refused" if kind == "refused_address" else f"guard/{kind}")
        logger.warning("refused %s: %s", request.url, reason)
        request.meta["nw_error_kind"] = kind
        raise IgnoreRequest(f"{kind}: {reason}")
