"""Alert delivery: channels (e-mail, webhooks, Apprise, feeds), the sender, feed building.

Imports storage, never Scrapy: the CLI and the scheduler run it outside the crawler.
"""
