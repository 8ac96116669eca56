"""Attachments through Scrapy's FilesPipeline, stored content-addressed by SHA-256.

FilesPipeline gives us downloads through the whole downloader middleware stack
(politeness, size caps, the address guard, WARC capture); we change where files go
(``blobs/ab/cd/<sha256>``, written atomically) and what the results record (sha256,
size, the human file name, the media type, and why a file was skipped).
"""

from __future__ import annotations

import hashlib
import mimetypes
from io import BytesIO
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from itemadapter import ItemAdapter
from scrapy import Request
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
from scrapy.pipelines.files import FilesPipeline, FSFilesStore

from crawler.items import NoticeItem
from crawler.parsing.encoding import filename_from_content_disposition
from storage.blobstore import BlobStore
from storage.mediatype import sniff_media_type


class ContentAddressedStore(FSFilesStore):
    """FSFilesStore whose writes are atomic (temp file, fsync, rename)."""

    def __init__(self, basedir: str) -> None:
        super().__init__(basedir)
        # FILES_STORE is the data directory; blobs go under its ``blobs/``.
        self.blobs = BlobStore(self.basedir)

    def persist_file(self, path: Any, buf: BytesIO, info: Any, meta: Any = None, headers: Any = None) -> None:
        self.blobs.put_bytes(buf.getvalue())


def _name_from_url(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name) or "attachment"


class AttachmentsPipeline(FilesPipeline):
    STORE_SCHEMES = {**FilesPipeline.STORE_SCHEMES, "": ContentAddressedStore, "file": ContentAddressedStore}

    def get_media_requests(self, item: Any, info: Any) -> list[Request]:
        if not isinstance(item, NoticeItem):
            return []
        return [
            Request(url, callback=NO_CALLBACK, meta={"nw_site": item.site_key, "nw_kind": "attachment"})
            for url in item.file_urls
        ]

    def file_path(self, request: Request, response: Response | None = None, info: Any = None, *,
                  item: Any = None) -> str:
        if response is None:
            # Asked before download (expiry check): content is unknown, so nothing is "up to date".
            return "pending/" + hashlib.sha1(request.url.encode()).hexdigest()  # noqa: S324
        return BlobStore.relpath_for(hashlib.sha256(response.body).hexdigest())

    async def media_downloaded(self, response: Response, request: Request, info: Any, *,
                               item: Any = None) -> Any:
        # FileInfo is a closed TypedDict; our results carry more keys, so copy to a dict.
        result: dict[str, Any] = dict(await super().media_downloaded(response, request, info, item=item))
        body = response.body
        content_type = (response.headers.get("Content-Type") or b"").decode("latin-1").split(";")[0].strip()
        disposition = response.headers.get("Content-Disposition")
        disposition_name = filename_from_content_disposition(disposition) if disposition else None
        names = {a.url: a.name for a in item.parsed.attachments} if isinstance(item, NoticeItem) else {}
        name = names.get(request.url) or disposition_name or _name_from_url(request.url)
        result.update({
            "sha256": hashlib.sha256(body).hexdigest(),
            "size": len(body),
            "header_media_type": content_type or None,
            # By content: a ".doc" that is OOXML is DOCX; the name/header only break ties.
            "sniffed_media_type": sniff_media_type(body, name, content_type or None),
            "disposition_name": disposition_name,
            "final_url": response.url,
            "warc_record": response.meta.get("warc_record"),
        })
        return result

    def item_completed(self, results: list[Any], item: Any, info: Any) -> Any:
        if not isinstance(item, NoticeItem):
            return item
        names = {a.url: a.name for a in item.parsed.attachments}
        files, failures = [], []
        for url, (ok, value) in zip(item.file_urls, results, strict=False):
            if ok:
                guessed = mimetypes.guess_type(_name_from_url(url))[0]
                value["name"] = names.get(url) or value.get("disposition_name") or _name_from_url(url)
                value["media_type"] = (value.get("sniffed_media_type") or value.get("header_media_type") or guessed
                                       or "application/octet-stream")
                value["url"] = url
                files.append(value)
            else:
                error = getattr(value, "value", value)
                # Scrapy raises a bare FileException "from" the real error (a full disk's
                # ENOSPC, a permission error): the cause is the readable reason.
                cause = getattr(error, "__cause__", None) or getattr(error, "__context__", None)
                reason = str(error) or (str(cause) if cause else "") or type(error).__name__
                failures.append({"url": url, "name": names.get(url) or _name_from_url(url), "reason": reason})
                self.crawler.stats.inc_value("attachments/failed")
        ItemAdapter(item)["files"] = files
        ItemAdapter(item)["file_failures"] = failures
        return item
