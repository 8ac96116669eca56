"""Downloader middlewares (WARC capture, …)."""
