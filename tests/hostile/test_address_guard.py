"""The SSRF guard: address classification (no traffic) and the middleware's decisions."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.exceptions import IgnoreRequest

from crawler.middlewares.address_guard import (
    AddressGuardMiddleware,
    forbidden_reason,
    mapping_resolver,
    parse_networks,
)
from tests.hostile.conftest import crawler_with


@pytest.mark.parametrize(("address", "reason"), [
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("127.0.0.1", "loopback"), ("127.0.0.2", "loopback"), ("169.254.169.254", "link-local"),
    ("100.64.0.1", "cgnat"), ("100.127.255.254", "cgnat"), ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"), ("0.0.0.0", "unspecified"), ("240.0.0.1", "private"),
    ("255.255.255.255", "private"), ("198.18.0.1", "private"), ("::1", "loopback"), ("::", "unspecified"),
    ("fe80::1", "link-local"), ("fc00::1", "private"), ("fd12:3456::1", "private"), ("ff02::1", "multicast"),
    ("::ffff:10.0.0.1", "ipv4-mapped private"), ("::ffff:127.0.0.1", "ipv4-mapped loopback"),
    ("::ffff:169.254.169.254", "ipv4-mapped link-local"), ("::10.0.0.1", "ipv4-compatible private"),
    ("::8.8.8.8", "ipv4-compatible"), ("2002:0a00:0001::1", "6to4 private"),
    ("2002:7f00:0001::1", "6to4 loopback"), ("64:ff9b::a00:1", "nat64 private"),
    ("[::ffff:192.168.0.1]", "ipv4-mapped private"), ("fe80::1%eth0", "link-local"),
])
def test_forbidden_addresses(address: str, reason: str) -> None:
    assert forbidden_reason(address) == reason


def test_teredo_embedding_a_private_address_is_refused() -> None:
    # Teredo stores the client address inverted: 10.0.0.1 -> f5ff:fffe
    assert forbidden_reason("2001:0:4136:e378:8000:63bf:f5ff:fffe") == "teredo private"


@pytest.mark.parametrize("address", ["8.8.8.8", "114.114.114.114", "2400:3200::1", "::ffff:8.8.8.8",
                                     "2002:0808:0808::1"])
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_reason(address) is None


def _guard(*, allow: tuple[str, ...] = ("127.0.0.1/32",), hosts: dict[str, str] | None = None,
           sites: dict[str, list[str]] | None = None) -> AddressGuardMiddleware:
    mw = AddressGuardMiddleware(allow_networks=parse_networks(allow),
                                resolver=mapping_resolver({"www.site.gov.cn": "8.8.8.8"} if hosts is None else hosts))
    mw.crawler = crawler_with(sites=sites or {"s": ["www.site.gov.cn", "127.0.0.1", "127.0.0.2"]})
    return mw


def _refused(mw: AddressGuardMiddleware, request: Request) -> str | None:
    try:
        asyncio.run(mw.process_request(request))
    except IgnoreRequest as exc:
        assert request.meta["nw_error_kind"] in ("refused_address", "dns")
        return str(exc)
    return None


def _req(url: str, **meta: object) -> Request:
    return Request(url, meta={"nw_site": "s", **meta})


def test_resolved_public_host_passes_and_private_resolution_is_refused() -> None:
    mw = _guard(hosts={"www.site.gov.cn": "8.8.4.4"})
    assert _refused(mw, _req("http://www.site.gov.cn/a.html")) is None
    mw = _guard(hosts={"www.site.gov.cn": "10.0.0.7"})
    assert "private address 10.0.0.7" in (_refused(mw, _req("http://www.site.gov.cn/a.html")) or "")
    assert mw.crawler.stats.get_value("guard/refused") == 1


def test_every_resolved_address_is_checked() -> None:
    mw = AddressGuardMiddleware(resolver=lambda host: ["8.8.8.8", "169.254.169.254"])
    mw.crawler = crawler_with(sites={"s": ["www.site.gov.cn"]})
    assert "link-local" in (_refused(mw, _req("http://www.site.gov.cn/")) or "")


def test_loopback_literals_refused_except_the_allow_list() -> None:
    mw = _guard()
    assert _refused(mw, _req("http://127.0.0.1:8080/ok")) is None
    assert "loopback address 127.0.0.2" in (_refused(mw, _req("http://127.0.0.2:8080/")) or "")
    assert "loopback" in (_refused(mw, _req("http://[::ffff:127.0.0.2]/")) or "x")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://www.site.gov.cn/x", "gopher://www.site.gov.cn/",
                                 "data:text/html,hi"])
def test_non_http_schemes_refused(url: str) -> None:
    assert "is not http(s)" in (_refused(_guard(), _req(url)) or "")


def test_hosts_outside_the_site_are_refused_even_when_dont_filter() -> None:
    mw = _guard(hosts={"www.site.gov.cn": "8.8.8.8", "evil.example": "8.8.8.8"})
    req = Request("http://evil.example/", dont_filter=True, meta={"nw_site": "s"})
    assert "outside the site's allowed domains" in (_refused(mw, req) or "")
    # another site's host is outside this site's domains too
    mw = _guard(hosts={"www.other.gov.cn": "8.8.8.8"}, sites={"s": ["www.site.gov.cn"], "o": ["www.other.gov.cn"]})
    assert _refused(mw, _req("http://www.other.gov.cn/")) is not None
    assert _refused(mw, Request("http://www.other.gov.cn/", meta={"nw_site": "o"})) is None


def test_subdomains_of_an_allowed_domain_pass() -> None:
    mw = _guard(hosts={"file.site.gov.cn": "8.8.8.8"}, sites={"s": ["site.gov.cn"]})
    assert _refused(mw, _req("http://file.site.gov.cn/a.pdf")) is None
    assert _refused(mw, _req("http://notsite.gov.cn/a.pdf")) is not None


def test_with_a_proxy_the_proxy_address_is_checked_not_the_target_name() -> None:
    # No entry for the target name: with a proxy it is never resolved here.
    mw = _guard(hosts={})
    assert _refused(mw, _req("http://www.site.gov.cn/", proxy="http://127.0.0.1:3128")) is None
    assert "proxy" in (_refused(mw, _req("http://www.site.gov.cn/", proxy="http://10.9.9.9:3128")) or "")
    # ...but a literal target is still checked, since the proxy would connect to it
    assert _refused(mw, _req("http://127.0.0.2/", proxy="http://127.0.0.1:3128")) is not None


def test_unresolvable_name_is_a_dns_error_not_a_pass() -> None:
    mw = _guard(hosts={})
    assert "cannot resolve" in (_refused(mw, _req("http://www.site.gov.cn/")) or "")


def test_allow_list_admits_a_private_deployment() -> None:
    mw = _guard(allow=("10.20.0.0/16",), hosts={"www.site.gov.cn": "10.20.3.4"})
    assert _refused(mw, _req("http://www.site.gov.cn/")) is None
    mw = _guard(allow=("10.20.0.0/16",), hosts={"www.site.gov.cn": "10.21.3.4"})
    assert _refused(mw, _req("http://www.site.gov.cn/")) is not None
