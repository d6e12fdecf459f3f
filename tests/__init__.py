"""shelfcheck tests."""
