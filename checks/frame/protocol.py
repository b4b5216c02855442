"""Protocol cards: the paper's protocol beside this run's, each deviation flagged with its reason.

A design declares what the paper (or the specification's reading of it) sets, one `Paper` row per setting, in its
class attribute `protocol` — init law and its scale convention, width, data, step, horizon, and when the claim is
judged. A row whose key is a design field compares the paper's value with the run's; any other key describes a
setting the design does not hold as one number (the init law, the judging time) and gives the run's side with
`run`. `card(design)` turns them into the rows every record and report carries:

    setting | paper (source) | this run | same? | why it differs

`same` is True/False where the paper states a comparable value, None where it states none ("not stated"); a row
with same = False must carry its reason (`why`), and `tests/checks/frame/test_claim_levels.py` holds every tier's card
to that.
A design that declares no `protocol` gets the card its `paper_source` and `sources` give (the quoted paper setting
and where each value comes from), each row marked "not declared" — what the design says, no comparison.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

NOT_STATED = "not stated"


@dataclass(frozen=True)
class Paper:
    """One setting of the paper's protocol.

    Arguments:
        value: the paper's value (a number, a tuple, or text); None when the paper does not state it.
        source: where it is stated ("Pinson Fig. 3 caption", "spec E6 prior construction [C]").
        run: the run's value as a function of the design, for a setting that is not a design field (default: the
            field of the same name).
        why: why this run deviates from the paper where it does (a reduced tier, a stand-in data set …); a
            function of the design may give it.
        compare: compare the values (default); False for text rows that only describe (same = None).
    """

    value: Any
    source: str
    run: Callable | None = None
    why: Any = ""
    compare: bool = True


def _same(paper, run) -> bool | None:
    if paper is None:
        return None
    if isinstance(paper, (tuple, list)) or isinstance(run, (tuple, list)):
        p, r = tuple(np.atleast_1d(paper).tolist()), tuple(np.atleast_1d(run).tolist())
        return len(p) == len(r) and all(_same(a, b) for a, b in zip(p, r))
    if isinstance(paper, (int, float)) and isinstance(run, (int, float)) and not isinstance(run, bool):
        return math.isclose(float(paper), float(run), rel_tol=1e-9, abs_tol=0.0)
    return str(paper) == str(run)


def _text(v) -> str:
    from checks.frame.criteria import fmt

    if v is None:
        return NOT_STATED
    if isinstance(v, (tuple, list)):
        return ", ".join(fmt(x) for x in v)
    return fmt(v) if not isinstance(v, str) else v


def card(design) -> list[dict]:
    """The protocol card of `design`: one row per `Paper` entry of `type(design).protocol`.

    Arguments:
        design: a `checks.frame.design.Design` instance.
    Returns:
        rows `dict(setting, paper, source, run, same, why)`, JSON-plain; `same` is True, False or None.
    """
    cls = type(design)
    if not cls.protocol:
        source, _ = cls.paper_info()
        rows = [dict(setting="paper setting", paper=source, source="the design's paper preset (--tier paper)",
                     run="this run's design (see Design)", same=None, why="")]
        return rows + [dict(setting=key, paper="not declared", source=text, run=_text(getattr(design, key, None)),
                            same=None, why="") for key, text in cls.sources.items() if hasattr(design, key)]
    rows = []
    for key, row in cls.protocol.items():
        if row is None:
            continue
        run = row.run(design) if row.run is not None else getattr(design, key, None)
        same = _same(row.value, run) if row.compare else None
        why = row.why(design) if callable(row.why) else row.why
        if design.dataset is not None and key in ("data", "dim"):
            same, why = False, why or "your own data set"
        rows.append(dict(setting=key, paper=_text(row.value), source=row.source,
                         run="—" if run is None else _text(run), same=same,
                         why=str(why) if same is False else ""))
    return rows


def deviations(rows) -> list[dict]:
    """The rows of a card where this run differs from the paper."""
    return [r for r in rows if r.get("same") is False]
