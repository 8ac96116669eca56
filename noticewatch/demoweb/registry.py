"""The site-registry data for the demo sites, as plain dicts (the YAML shape)."""

from __future__ import annotations

from typing import Any

from .sites import site_specs


def demo_registry(include_hostile: bool = False) -> dict[str, Any]:
    """``{"sites": [...]}`` for the demo web; hostile sites/columns only when asked."""
    sites = []
    for site, _counts, _newest in site_specs():
        if site.hostile and not include_hostile:
            continue
        columns: list[dict[str, str]] = []
        seen = set()
        for col in site.columns:
            if col.hostile and not include_hostile:
                continue
            url = site.url(col.entry)
            if url in seen:  # gkmlpt categories share the one SPA entry page
                continue
            seen.add(url)
            name = "政府信息公开" if site.family == "gkmlpt" else col.name
            columns.append({"url": url, "name": name})
        sites.append({
            "key": site.key, "name": site.name, "base_url": site.base_url, "family": site.family,
            "area_code": site.area_code, "allowed_domains": [site.host], "columns": columns,
        })
    return {"sites": sites}
