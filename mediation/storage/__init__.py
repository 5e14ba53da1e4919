"""Persistence: the store, the schema and its migrations, the audit chain, moving databases."""
