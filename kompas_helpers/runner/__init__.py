"""The batch runner behind `kompas run`: plan (what to run), worker (one job), batch (the run), manifest."""
