"""Sliders for a notebook's "what if" cells, when ipywidgets is there.

``sliders(show, capacity=(5, 200, 5))`` puts ipywidgets controls and a Run button over
``show``; ``show`` runs when the button is pressed, not on every move of a slider (each
answer takes a second or two). Without ipywidgets, or run headless under papermill, the
cell says so and nothing else happens: the cell above it, which calls ``show`` with its
defaults, is what a headless run shows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["display", "sliders"]


def display(*objects: Any) -> None:
    """IPython's ``display`` (tables and figures as a cell's output), typed."""
    from IPython.display import display as ipython_display

    ipython_display(*objects)  # type: ignore[no-untyped-call]


def sliders(show: Callable[..., Any], **controls: Any) -> None:
    """``ipywidgets.interact_manual(show, **controls)`` (the panel is displayed; None is
    returned, so the cell does not also print the function), or a sentence when
    ipywidgets is missing."""
    try:
        import ipywidgets
    except ImportError:
        print("Sliders need ipywidgets: pip install -e '.[notebooks]'. Call the function "
              "above with other values instead.")  # fmt: skip
        return
    ipywidgets.interact_manual(show, **controls)
