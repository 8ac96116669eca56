"""Scrapy extensions of the noticewatch crawler."""
