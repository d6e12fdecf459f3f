"""shelfcheck: keeps a curated guide of web resources true."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/shelfcheck/shelfcheck"
USER_AGENT = f"shelfcheck/{__version__} (+{PROJECT_URL})"
