"""Scrapy settings for noticewatch.

These are the defaults for a bare ``scrapy crawl``. ``noticewatch crawl`` computes the
effective settings from noticewatch.toml, the environment and the command line, writes
them to a JSON file and passes ``-s NOTICEWATCH_SETTINGS_FILE=…``; the spider loads
that file in ``update_settings`` at command-line priority (see crawler/runtime.py).
"""

BOT_NAME = "noticewatch"
# crawler.distributed: the notices spider over a shared Redis queue (noticewatch worker).
SPIDER_MODULES = ["crawler.spiders", "crawler.distributed"]
NEWSPIDER_MODULE = "crawler.spiders"

USER_AGENT = "noticewatch/0.1 (+https://github.com/noticewatch/noticewatch)"
ROBOTSTXT_OBEY = True

# Politeness: a few requests per domain at a time, adaptive delay.
CONCURRENT_REQUESTS = 64
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0

# Items handled in parallel per response. Scrapy starts this many tasks for every
# response (default 100) although a page yields a few dozen items at most: at hundreds
# of responses a second those tasks cost ~10% of the crawl process's CPU.
CONCURRENT_ITEMS = 16

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 100 * 1024 * 1024
DOWNLOAD_WARNSIZE = 20 * 1024 * 1024
RETRY_TIMES = 3

COOKIES_ENABLED = True
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19 starts a remote-control HTTP server in every crawl by default: a
# token-guarded endpoint on localhost that runs arbitrary Python in the crawl process,
# with its token in a job file under the user's home. An unattended archiver exposes no
# such door (and skips the aiohttp server start-up on every crawl).
REMOTE_CONTROL_ENABLED = False
LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

ITEM_PIPELINES = {
    "pipeline.normalise.NormalisePipeline": 100,
    "pipeline.files.AttachmentsPipeline": 200,
    "pipeline.extract.ExtractPipeline": 300,
    "pipeline.persist.PersistPipeline": 900,
}

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's robots.txt handling plus a cache across crawls (RFC 9309: at most 24 h),
    # so an hourly cycle does not fetch every robots.txt again (crawler/middlewares/robots_cache.py).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.robots_cache.CachedRobotsTxtMiddleware": 100,
    # 110: right after RobotsTxtMiddleware; an unreadable robots.txt (5xx, unreachable)
    # defers the site instead of allowing everything (crawler/middlewares/robots_guard.py).
    "crawler.middlewares.robots_guard.RobotsGuardMiddleware": 110,
    # 650: sees raw (still compressed) responses and 3xx before redirects; see docs/archive.md.
    "crawler.middlewares.warc.WarcCaptureMiddleware": 650,
    # Hostile-web defences (docs/security.md). Retry and decompression replace Scrapy's own.
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.middlewares.retry_after.BackoffRetryMiddleware": 550,
    "crawler.middlewares.blocks.BlockDetectionMiddleware": 560,
    "crawler.middlewares.caps.PageSizeCapMiddleware": 585,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": None,
    "crawler.middlewares.caps.CappedCompressionMiddleware": 590,
    "crawler.middlewares.address_guard.AddressGuardMiddleware": 760,  # after HttpProxyMiddleware (750)
    "crawler.middlewares.caps.SiteBudgetMiddleware": 770,
}

# FilesPipeline writes content-addressed blobs under the data directory.
FILES_STORE = "./data"
FILES_URLS_FIELD = "file_urls"
FILES_RESULT_FIELD = "files"
MEDIA_ALLOW_REDIRECTS = True

# robots.txt kept between crawls; ROBOTSTXT_CACHE_DIR defaults to <FILES_STORE>/cache/robots.
ROBOTSTXT_CACHE_HOURS = 24

NOTICEWATCH_MAX_PAGES_PER_COLUMN = 50

# Per-site progress for the terminal; only active when PROGRESS_FILE is set.
EXTENSIONS = {
    "crawler.extensions.progress.ProgressFile": 500,
    # Off (see REMOTE_CONTROL_ENABLED) and not even imported: it pulls in aiohttp.
    "scrapy.extensions.remote_control.RemoteControl": None,
}
