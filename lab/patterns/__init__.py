"""The patterns a user studies and copies: one module each, added issue by issue.

This package is a library first: it imports nothing from experiments or the CLI.
"""

__all__: list[str] = []
