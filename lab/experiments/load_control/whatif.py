"""What if the capacity, the overload or the limiter were different? The convergence part
of the experiment, made small and run in virtual time: no server, a second or two.

``what_if(capacity=20, overload=3.0)`` runs each limiter against a server of that
capacity through the experiment's own code (:func:`measure._convergence`, the real
``AdaptiveLimiter`` on a virtual clock) and returns the experiment's convergence table and
limit figure for that run alone; ``show(...)`` displays both in a notebook.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from lab.errors import ConfigError
from lab.experiments.load_control import measure, tables
from lab.experiments.load_control.simulation import SCENARIOS, SimSettings
from lab.harness import plots
from lab.harness.aio import outside_event_loop
from lab.harness.sliders import display

__all__ = ["LIMITERS", "show", "what_if"]

LIMITERS = ("no limiter", "aimd", "vegas", "gradient2", "latency-target")
COLUMNS = ["variant", "limit_steady", "capacity", "settle_s", "goodput_share",
           "p99_overload_ms", "p99_ratio", "rejected_share", "timed_out_share"]  # fmt: skip


def what_if(capacity: int = 20, overload: float = 2.0, scenario: str = "step",
            limiters: tuple[str, ...] = LIMITERS, before_s: float = 5.0, after_s: float = 15.0,
            seed: int = 0) -> tuple[pd.DataFrame, Figure]:  # fmt: skip
    """Each limiter against ``capacity`` requests at once (0.1 s each), offered
    ``overload`` x capacity after ``before_s`` of light load (``scenario``: step, ramp or
    drop), for ``after_s``. The table: where each limit settles, how soon, the goodput
    share of capacity, p99 in overload against p99 under light load, and what was refused
    or timed out."""
    if scenario not in SCENARIOS:
        raise ConfigError(f"scenario must be one of {', '.join(SCENARIOS)}, not {scenario!r}")
    unknown = set(limiters) - set(measure.variants(1, 0.1))
    if unknown or not limiters:
        raise ConfigError(f"limiters must be some of {', '.join(measure.variants(1, 0.1))}; "
                          f"not {', '.join(sorted(unknown)) or 'none'}")  # fmt: skip
    if capacity < 2 or not 0.5 <= overload <= 10:
        raise ConfigError("capacity must be at least 2 and overload between 0.5 and 10")
    sim = SimSettings(capacity=capacity, heavy=overload, before_s=before_s, after_s=after_s)
    settings = measure.quick_settings(repeats=1, sim=sim, scenarios=(scenario,),
                                      sim_variants=tuple(limiters))  # fmt: skip
    frame = _convergence(settings, seed)
    table = tables.convergence_summary(frame)
    table = table[COLUMNS].set_index("variant")
    points = frame[frame.kind == "timeline"]
    title = f"capacity {capacity}, {SCENARIOS[scenario].describe.replace('2x', f'{overload:g}x')}"
    return table, plots.limit_timeline(points, title=title)


@outside_event_loop  # a notebook's cell runs inside an event loop; virtual time needs its own
def _convergence(settings: measure.LoadControlSettings, seed: int) -> pd.DataFrame:
    return pd.DataFrame(measure._convergence(settings, seed, lambda _: None))


def show(**arguments: Any) -> None:
    """Display :func:`what_if`'s table and figure (a notebook cell's output)."""
    table, figure = what_if(**arguments)
    display(table.round(2), figure)
