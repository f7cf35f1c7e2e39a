"""lab: backend performance patterns, measured against real servers."""

__version__ = "0.1.0"
