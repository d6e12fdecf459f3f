"""shelfcheck's spiders."""
