"""`python -m checks.run NAME --data FILE [--labels Y.npy] [--set K=V …] [--quick] [--out DIR]`: one check on your
own data (the command; its code is `checks.runner.own_data`).

In Python, `checks.run(name, X, y, **overrides)` is the function `checks.runner.api.run`; this module is only the
command and is not meant to be imported (importing it would hide that function behind the module).
"""
import sys

if __name__ != "__main__":
    raise ImportError("checks.run is the command `python -m checks.run`; in Python call the function "
                      "checks.run(name, X, y, ...) (checks.runner.api.run), and import checks.runner.own_data for "
                      "load_data, parser and main")

from checks.runner.cli import entry  # noqa: E402
from checks.runner.own_data import main  # noqa: E402

sys.exit(entry(main))
