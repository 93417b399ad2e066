"""Iris: self-hosted video recorder with AI."""

__version__ = "0.1.0"
