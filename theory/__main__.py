"""`python -m theory [--latex] [ID ...]`: print the derived formulas with their provenance.

--latex prints each formula's general symbolic form (`theory.catalog.general_latex`) between $…$ delimiters, one
line per formula, ready for a LaTeX document or matplotlib's mathtext."""
from __future__ import annotations

import argparse

from .catalog import all_formulas, general_latex


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m theory", description=__doc__.splitlines()[0])
    p.add_argument("--latex", action="store_true", help="print each formula's general form as LaTeX between $…$ "
                   "instead of pretty text")
    p.add_argument("ids", nargs="*", help="formula IDs to print (default: all), e.g. F1.4 F3.2")
    args = p.parse_args(argv)
    formulas = all_formulas()
    unknown = [i for i in args.ids if i not in formulas]
    if unknown:
        p.error(f"unknown formula ID(s) {unknown}; known: {', '.join(formulas)}")
    for fid, f in formulas.items():
        if args.ids and fid not in args.ids:
            continue
        print(f"{fid}  {f.name}  {f.tag}\n    {f.meaning}")
        body = f"${general_latex(fid, f)}$" if args.latex else f.pretty()
        print("\n".join("    " + line for line in body.splitlines()) + "\n")
    return 0


if __name__ == "__main__":
    import os
    import sys

    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:           # `python -m theory | head`: end quietly, as a process killed by SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141
    raise SystemExit(code)
