"""The explorer: the reference frontend, static files that use only the public API."""
