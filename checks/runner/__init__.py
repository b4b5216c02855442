"""The runner: select checks, build their designs, run them, show progress.

`api` (discover, run, run_all: the Python front door), `cli` (the shared command-line pieces), `own_data` (a check
on your own data: `python -m checks.run`), `live` (the progress view), `resume` (reuse an interrupted run's records),
`listing` (`--list`, `--list-settings`) and `generated_mutants` (`python -m checks.mutants --generated`).
"""
