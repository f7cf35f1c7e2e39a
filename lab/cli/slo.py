"""``lab slo [FILE]`` checks an SLO file; ``lab slo rules [FILE]`` writes its objectives as
Prometheus recording rules and burn-rate alerts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

__all__ = ["slo_app"]


class _CheckByDefault(TyperGroup):
    """``lab slo FILE`` and ``lab slo`` mean ``lab slo check ...``: a first argument
    that names no subcommand is the file to check."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if not args or (args[0] not in self.commands and args[0] not in ("--help", "-h")):
            args = ["check", *args]
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed


slo_app = typer.Typer(
    cls=_CheckByDefault,
    add_completion=False,
    help="SLO files: check one, or write its objectives as Prometheus rules.",
)

SloFile = Annotated[Path, typer.Argument(help="The SLO file.")]


@slo_app.command("check")
def slo_check(
    path: SloFile = Path("slo.yaml"),
    convert: Annotated[bool, typer.Option(
        "--convert", help="Print the targets in slo.yaml's own form (from the document's "
        "performance_targets: form, say).")] = False,
) -> None:  # fmt: skip
    """Validate an SLO file (slo.yaml's form or performance-patterns.ja.md's) and list its
    targets and objectives."""
    from lab.harness.slo import load_slo
    from lab.harness.slo_objectives import load_objectives

    for target in load_slo(path):
        print(f"{target.metric}: {{{target.bound}: {target.value:g}}}" if convert
              else str(target))  # fmt: skip
    if not convert:
        for objective in load_objectives(path):
            print(f"objective {objective.describe()}")


@slo_app.command("rules")
def slo_rules(
    path: SloFile = Path("slo.yaml"),
    scale: Annotated[float, typer.Option(
        help="Divide every window by this (60: an hour becomes a minute), for experiments "
        "of minutes.")] = 1.0,
    selector: Annotated[str, typer.Option(
        help="The label matchers that pick the service's request series.")] =
        'service="lab-serve"',
    out: Annotated[Path | None, typer.Option(help="Write the rule file here.")] = None,
) -> None:  # fmt: skip
    """Prometheus recording rules for the objectives' SLIs and error budget, and
    multi-window multi-burn-rate alerts (14.4x over 1h and 5m, 6x over 6h and 30m, 1x
    over 3d and 6h). Check them with `promtool check rules`."""
    import yaml

    from lab.harness.slo_objectives import load_objectives
    from lab.harness.slo_rules import rule_groups

    groups: dict[str, Any] = rule_groups(load_objectives(path), selector=selector, scale=scale)
    text = f"# lab slo rules {path}" + (f" --scale {scale:g}" if scale != 1 else "") + "\n"
    text += yaml.safe_dump(groups, sort_keys=False, allow_unicode=True, width=100)
    if out is None:
        print(text, end="")
    else:
        out.write_text(text, encoding="utf-8")
        print(f"wrote {out}")
