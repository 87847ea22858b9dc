"""The database engine: Django's MySQL backend with a per-process connection cap (pool.py)."""
