"""What a run writes and shows: `run_folder` (records, results.csv, summary.json, `RunFolder`), `report`
(report.md/html), `table` (the terminal table), `io` (JSON and figures) and `atomic` (every write: temporary file,
then rename)."""
