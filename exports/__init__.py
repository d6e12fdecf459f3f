"""Exports of the catalog for other front ends: thin writers over catalog.queries."""
