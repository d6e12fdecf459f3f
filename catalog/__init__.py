"""The catalog: SQLAlchemy models, migrations and catalog operations."""
