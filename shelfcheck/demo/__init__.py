"""`shelfcheck demo`: the product at work on a bundled loopback provider web, offline.

`web` serves the providers' pages in two states a week apart (`sites/A`, `sites/B`); `run`
writes a catalog, configuration and database for it and runs the real `refresh` on both weeks.
"""
