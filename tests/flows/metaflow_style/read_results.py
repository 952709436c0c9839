"""Metaflow client style: a script that reads the results of the tutorial flows."""

import json

from metaflow import Flow, Metaflow, Run, namespace
from metaflow.exception import MetaflowNotFound

namespace(None)
results = {
    "flows": sorted(flow.id for flow in Metaflow()),
    "greeting": Flow("HelloFlow").latest_run.data.greeting,
    "playlist": Flow("PlayListFlow").latest_successful_run.data.playlist,
    "bonus": Flow("PlayListFlow").latest_successful_run["join"].task.data.bonus,
    "sci-fi": Flow("MovieStatsFlow").latest_successful_run.data.genre_stats["sci-fi"],
    "best_genre": Flow("PlayListReduxFlow").latest_successful_run.data.best_genre,
}
redux = Flow("PlayListReduxFlow").latest_successful_run
results["redux_read"] = Run(redux.data.stats_run).id
try:
    Flow("NoSuchFlow")
except MetaflowNotFound:
    results["missing"] = "MetaflowNotFound"
print(json.dumps(results))
