"""Bodies for the hostile behaviours: anti-bot challenge pages and block pages."""

from __future__ import annotations

from .pages import Resp

_TS_PAGE = (
    '<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
    '<meta id="9DhefwqGPrzGxEp9hPaoag" content="PxB9Xy5vZ.N6lq0ZzRCr2.FvwdvJ9a">'
    "<script type=\"text/javascript\" r='m'>$_ts=window['$_ts'];if(!$_ts)$_ts=window['$_ts']={};"
    '$_ts.nsd=84613;$_ts.cd="qEcrrrAlDa9kraqqcGGVtaAqhtqwqr.qkOAGrqGnuqVqcG3qDaqcqLrrkVlmqqAqqqAFqrDfq";'
    "</script><script type=\"text/javascript\" charset=\"utf-8\" src=\"/4QbVtADbnLVIc/c.FxJzG50F.dfe1675.js\""
    " r='m'></script></head><body></body></html>"
)
_JSL_PAGE = (
    "<html><body><script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+"
    "('a')+('r')+('a')+('n')+('c')+('e')+('=')+('1712345678.123|0|')+('bIuZ%2FkR5Wj8')+"
    "(';max-age=3600;path=/');location.href=location.pathname+location.search</script></body></html>"
)
_403_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>访问被拒绝</title></head><body>'
    "<h1>403 Forbidden</h1><p>您的访问请求可能对网站造成安全威胁，请求已被拦截。</p>"
    "<p>事件ID：demo-waf-000001</p></body></html>"
)


def blocked_response(kind: str) -> Resp:
    if kind == "412":
        return Resp(status=412, body=_TS_PAGE, cacheable=False,
                    headers=[("Set-Cookie", "FSSBBIl1UgzbN7N80S=demo1234; Path=/; HttpOnly")])
    if kind == "521":
        return Resp(status=521, body=_JSL_PAGE, cacheable=False,
                    headers=[("Set-Cookie", "__jsluid_h=0f1e2d3c4b5a69788796a5b4c3d2e1f0; path=/; HttpOnly")])
    return Resp(status=403, body=_403_PAGE, ctype="text/html; charset=utf-8", cacheable=False)


def withdrawn_response(how: str, column_url: str) -> Resp:
    if how == "410":
        return Resp(status=410, body="<html><body><h1>410 Gone</h1></body></html>", cacheable=False)
    if how == "redirect":
        return Resp(status=302, body="", headers=[("Location", column_url)], cacheable=False)
    if how == "refresh":
        # The stub real sites leave behind: 200 with only a meta refresh to the parent.
        return Resp(body='<html><head><meta http-equiv="refresh" content="0;URL=../"></head>'
                    "<body></body></html>", ctype="text/html; charset=utf-8", cacheable=False)
    return not_found()


def not_found() -> Resp:
    return Resp(status=404, body="<html><head><title>404 Not Found</title></head><body><center>"
                "<h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>",
                ctype="text/html", cacheable=False)
