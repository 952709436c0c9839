"""Run, step, task and attempt records and tags (layer 2). Never imports the datastore."""
