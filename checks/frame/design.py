"""Declared designs: one frozen dataclass of every setting of an experiment, with tier presets and overrides.

A check's design class lists each setting once, with its standard-tier default; `presets` maps a tier to the
settings it changes (`quick`, `full`, and `paper` where the paper's scale is known; a missing `full` means the
standard values, a missing `paper` means the `full` values), and `sources` says where a value comes from.
`paper_source` quotes the paper or code setting the `paper` preset reproduces, and `paper_needs` is "cuda" when
that preset is impractical on a CPU: on device=cpu such a preset is not run (see `Design.not_run_reason`). A preset
value may be a zero-argument callable, called when the tier's design is built (e.g. a data set found at run time).

    @dataclass(frozen=True)
    class RaceDesign(Design):
        m: int = 300
        lam: float = 1e-3
        presets: ClassVar = {"quick": dict(seeds=1)}

    RaceDesign.build("quick", m=1000)          # quick preset, then the user's overrides
    RaceDesign.build("standard", **parse_assignments(["m=1000", "lam=1e-4"]))

Unknown keys and ill-typed values raise `CheckError` naming the key and listing the valid ones.
"""
from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np

from checks.frame.errors import CheckError

TIERS = ("quick", "standard", "full", "paper")
SEED_MAX = 2 ** 32 - 1       # every generator takes it (torch's manual_seed overflows past 2**63, numpy's legacy 2**32)
_FALLBACK = {"quick": (), "standard": (), "full": (), "paper": ("full",)}


@dataclass(frozen=True)
class Design:
    """Base of every design: the settings every check has.

    Arguments:
        seed: base seed of every random draw of the experiment (data, init, Hypothesis instances).
        device: where the heavy training runs (`cpu`, `cuda`, `cuda:N`); the small runs stay on the CPU.
        dataset: a user's `numerics.Dataset` replacing the built-in data (own-data checks only; not a setting
            one types: `checks.run(name, X, y)` fills it).
    """

    seed: int = 0
    device: str = "cpu"
    dataset: Any = field(default=None, repr=False, compare=False)

    presets: ClassVar[dict[str, dict]] = {}
    sources: ClassVar[dict[str, str]] = {}
    paper_source: ClassVar[str] = ""           # the paper/code setting the paper preset quotes
    paper_needs: ClassVar = None               # "cuda": the paper preset is impractical on a CPU (or a
    #                                            zero-argument callable giving it, e.g. only when a data set is found)
    paper_cpu: ClassVar[str] = ""              # the paper preset's estimated CPU time (`cpu_estimate`), "" unpriced
    accepts_data: ClassVar[bool] = False
    protocol: ClassVar[dict] = {}              # setting → checks.frame.protocol.Paper: the paper's protocol (card())

    def __post_init__(self):
        if (isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer))
                or not 0 <= self.seed <= SEED_MAX):
            raise CheckError(f"seed={self.seed!r}: the seed must be an integer from 0 to 2**32 − 1, e.g. seed=0")
        if self.device not in ("cpu", "cuda") and not str(self.device).startswith("cuda:"):
            raise CheckError(f"device={self.device!r} is not supported; use cpu, cuda or cuda:N")
        if self.dataset is not None and not self.accepts_data:
            raise CheckError(f"{type(self).__name__} runs on its paper's data only; it takes no user data set")
        self.validate()

    def validate(self) -> None:
        """Subclasses raise `CheckError` for values out of range (the type was already checked)."""

    # ------------------------------------------------------------------ building
    @classmethod
    def keys(cls) -> list[str]:
        """The settings a user may set (every field but the data set)."""
        return [f.name for f in fields(cls) if f.name != "dataset"]

    @classmethod
    def tier_values(cls, tier: str) -> dict:
        """The preset of `tier` merged over its fallbacks (paper → full → standard defaults)."""
        if tier not in TIERS:
            raise CheckError(f"tier={tier!r} is not supported; use one of {', '.join(TIERS)}")
        values: dict = {}
        for t in (*reversed(_FALLBACK[tier]), tier):
            values.update(cls.presets.get(t, {}))
        return {k: v() if callable(v) else v for k, v in values.items()}

    @classmethod
    def paper_info(cls) -> tuple[str, str | None]:
        """(source, needs) of the paper tier: the quoted setting, or which design it falls back to; "cuda" or None."""
        needs = cls.paper_needs() if callable(cls.paper_needs) else cls.paper_needs
        if cls.paper_source:
            return cls.paper_source, needs
        fallback = "full" if "full" in cls.presets else "standard"
        return f"no paper setting; {fallback} design", needs

    def not_run_reason(self, tier: str) -> str:
        """Why this design is not run here ("" = run it): the paper preset needs a GPU and device is cpu.

        A user who changed a value of the paper preset (`--set m=…`) chose their own scale, and it runs.

        Arguments:
            tier: the tier the design was built for.
        """
        if tier != "paper" or type(self).paper_info()[1] != "cuda" or str(self.device).startswith("cuda"):
            return ""
        preset = type(self).presets.get("paper", {})
        values = type(self).tier_values("paper")
        if any(k != "dataset" and getattr(self, k) != values[k] for k in preset):
            return ""
        return ("paper preset needs a GPU (--device cuda); not run (no training attempted; --set a smaller "
                f"{', '.join(k for k in preset if k != 'dataset') or 'setting'} to run a reduced version on the CPU)")

    @classmethod
    def build(cls, tier: str = "standard", **overrides) -> "Design":
        """The design of `tier` with `overrides` (values or CLI strings) applied; bad keys raise `CheckError`.

        Arguments:
            tier: one of quick, standard, full, paper.
            **overrides: setting = value; a string value is parsed by the setting's declared type.
        """
        values = cls.tier_values(tier)
        hints = typing.get_type_hints(cls)
        valid = cls.keys()
        for key, value in overrides.items():
            if key == "dataset":
                values[key] = value
                continue
            if key not in valid:
                raise CheckError(f"unknown setting {key!r} for {cls.__name__}; valid settings: {', '.join(valid)}")
            values[key] = coerce(key, value, hints[key], cls.__name__)
        for key, value in values.items():
            if key not in valid and key != "dataset":
                raise CheckError(f"preset of {cls.__name__} sets unknown {key!r}")  # a developer error
        return cls(**values)

    def replace(self, **changes) -> "Design":
        """A copy with some settings changed (validated like `build`)."""
        hints = typing.get_type_hints(type(self))
        for key in changes:
            if key != "dataset" and key not in self.keys():
                raise CheckError(f"unknown setting {key!r} for {type(self).__name__}; valid settings: "
                                 f"{', '.join(self.keys())}")
        return dataclasses.replace(self, **{k: v if k == "dataset" else coerce(k, v, hints[k], type(self).__name__)
                                            for k, v in changes.items()})

    def protocol_card(self) -> list[dict]:
        """The paper's protocol beside this run's (`checks.frame.protocol.card`): one row per declared setting."""
        from checks.frame.protocol import card

        return card(self)

    def to_dict(self) -> dict:
        """Every setting as JSON-plain values; a user data set as its name, shape and SHA-256."""
        out = {k: _plain_value(getattr(self, k)) for k in self.keys()}
        if self.dataset is not None:
            out["dataset"] = describe_dataset(self.dataset)
        return out


def describe_dataset(ds) -> dict:
    """Name, shape and content hash of a Dataset (so a record says which data it ran on)."""
    X, y = np.ascontiguousarray(ds.X, float), np.ascontiguousarray(ds.y, float)
    digest = hashlib.sha256(X.tobytes() + y.tobytes()).hexdigest()[:16]
    return {"name": ds.name, "n": int(X.shape[0]), "d": int(X.shape[-1]), "sha256": digest}


def _plain_value(v):
    if isinstance(v, tuple):
        return [_plain_value(x) for x in v]
    if isinstance(v, np.generic):
        return v.item()
    return v


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def coerce(key: str, value, hint, owner: str = "design"):
    """`value` as the declared type `hint` (int, float, str, bool, tuple[...]); strings are parsed."""
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:  # Optional[...] and X | None
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            return None
        hint = args[0]
        origin = typing.get_origin(hint)
    bad = CheckError(f"setting {key}={value!r} of {owner} must be {_type_name(hint)}")
    if origin is tuple:
        item = typing.get_args(hint)[0] if typing.get_args(hint) else float
        if isinstance(value, str):
            value = [v for v in value.replace(";", ",").split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise bad
        return tuple(coerce(key, v, item, owner) for v in value)
    if hint is bool:
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
            return value.lower() in _TRUE
        raise bad
    if hint is int:
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise bad from None
        if isinstance(value, (bool, np.bool_)):
            raise bad
        if isinstance(value, (float, np.floating)) and float(value).is_integer():
            value = int(value)
        if not isinstance(value, (int, np.integer)):
            raise bad
        return int(value)
    if hint is float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise bad from None
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
            raise bad
        value = float(value)
        if not np.isfinite(value):
            raise CheckError(f"setting {key}={value!r} of {owner} must be finite")
        return value
    if hint is str:
        if not isinstance(value, str):
            raise bad
        return value
    return value


def _type_name(hint) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"a comma-separated list of {_type_name(typing.get_args(hint)[0])}"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(hint, str(hint))


def parse_assignments(items) -> dict:
    """`["m=1000", "lam=1e-4"]` → {"m": "1000", "lam": "1e-4"} (values parsed later by the design's types)."""
    out = {}
    for item in items or ():
        if "=" not in item:
            raise CheckError(f"--set {item!r}: write KEY=VALUE, e.g. --set m=1000 lam=1e-4")
        key, value = item.split("=", 1)
        if not key.strip():
            raise CheckError(f"--set {item!r}: the key is empty; write KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def positive(design, *names):
    """Raise `CheckError` unless each named setting of `design` is > 0."""
    for name in names:
        v = getattr(design, name)
        if isinstance(v, tuple):
            if not v or any(x <= 0 for x in v):
                raise CheckError(f"setting {name}={v!r} of {type(design).__name__} must hold numbers > 0")
        elif v is not None and v <= 0:
            raise CheckError(f"setting {name}={v!r} of {type(design).__name__} must be > 0")


def cpu_estimate(runs, workers: int = 2, note: str = "") -> str:
    """A paper preset's CPU time from measured rates: its independent runs spread over `workers` processes in the
    order given, each to the first free worker (as the sweep runner's process pool takes them).

    Arguments:
        runs: (steps, steps per second measured at that run's shape) per independent run.
        workers: processes (1 for runs that follow one another).  note: where the rates come from.

    Returns:
        "≈ N min on W CPU cores" and the note.
    """
    loads = [0.0] * max(1, int(workers))
    for sec in (steps / rate for steps, rate in runs):
        loads[loads.index(min(loads))] += sec
    total = max(loads)
    when = f"{total / 60:.0f} min" if total < 5400 else f"{total / 3600:.1f} h"
    return f"≈ {when} on {len(loads)} CPU core{'s' if len(loads) > 1 else ''}" + (f" ({note})" if note else "")

