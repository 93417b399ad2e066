"""Database: SQLModel tables, the engine and queries. The DB is the source of truth."""
