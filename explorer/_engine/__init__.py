"""The private runtime: compiled scenarios, the driver, one execution, the search loop.

Nothing here is public API; users import from :mod:`explorer`.
"""
