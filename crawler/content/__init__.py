"""Reading what a 200 says: page text, not-found wording, walls, parking, stubs and drift."""
