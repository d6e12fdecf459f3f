"""Scrapy spiders, middlewares and pipelines: link health and provider listings."""
