"""Peer of `swp-eval metrics DIR --by site`: the social-worker change metrics of METRICS.md
(sw_changes_per_child_year, mean_distinct_workers, pct_3plus_workers) by site for each financial
year, written in pandas the way an analyst would (vectorised, no Python loop over children).

Usage: python3 metrics_pandas.py DIR FIRST_YEAR LAST_YEAR
Prints one JSON object: {"seconds": work time (reading included, interpreter start excluded),
"rows": [{"group", "metric", "period_from", "value"}, ...]}.
"""
import json
import sys
import time

import numpy as np
import pandas as pd

start = time.perf_counter()
folder, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = {"child_id": str, "worker_id": str, "site_id": str}
children = pd.read_csv(f"{folder}/children.csv", usecols=["child_id", "site_id"], dtype=text)
episodes = pd.read_csv(f"{folder}/episodes.csv", usecols=["child_id", "decom", "dec"], dtype=text,
                       parse_dates=["decom", "dec"])
allocations = pd.read_csv(f"{folder}/allocations.csv", usecols=["child_id", "worker_id", "start_date", "end_date"],
                          dtype=text, parse_dates=["start_date", "end_date"])
sites = pd.read_csv(f"{folder}/sites.csv", usecols=["site_id"], dtype=text)["site_id"]

# days as integers; open ends stay NaN
day = lambda s: (s - pd.Timestamp("1970-01-01")).dt.days
episodes = episodes.assign(start=day(episodes["decom"]), end=day(episodes["dec"]))
episodes = episodes.sort_values(["child_id", "start", "end"], kind="stable", na_position="last")
same_child = episodes["child_id"].eq(episodes["child_id"].shift())
episodes["prev_end"] = episodes["end"].shift().where(same_child)

allocations = allocations.assign(start=day(allocations["start_date"]), end=day(allocations["end_date"]))
allocations = allocations.sort_values(["child_id", "start"], kind="stable")
same_child = allocations["child_id"].eq(allocations["child_id"].shift())
allocations["change"] = same_child & allocations["worker_id"].ne(allocations["worker_id"].shift())
# same-day handover: an allocation ending the day the next one starts is not in force that day
next_start = allocations["start"].shift(-1).where(allocations["child_id"].eq(allocations["child_id"].shift(-1)))
allocations["last"] = allocations["end"].where(allocations["end"].ne(next_start), allocations["end"] - 1)

rows = []
for year in range(first, last + 1):
    p_from = (pd.Timestamp(f"{year}-04-01") - pd.Timestamp("1970-01-01")).days
    p_to = (pd.Timestamp(f"{year + 1}-03-31") - pd.Timestamp("1970-01-01")).days
    a = np.maximum(episodes["start"], p_from)
    b = np.minimum(episodes["end"].fillna(p_to), p_to)
    days = (b - a + 1).clip(lower=0)
    # a handover day (the next episode starts the day the previous ended) is counted once
    shared = episodes["prev_end"].eq(episodes["start"]) & episodes["start"].between(p_from, p_to)
    care = (days - shared.astype(int)).groupby(episodes["child_id"]).sum()
    care = care[care > 0]
    in_p = allocations["start"].between(p_from, p_to)
    changes = allocations[in_p & allocations["change"]].groupby("child_id").size()
    in_force = (allocations["start"] <= p_to) & (
        allocations["last"].isna() | ((allocations["last"] >= p_from) & (allocations["last"] >= allocations["start"])))
    distinct = allocations[in_force].groupby("child_id")["worker_id"].nunique()
    per_child = pd.DataFrame({"days": care})
    per_child["changes"] = changes.reindex(per_child.index, fill_value=0)
    per_child["distinct"] = distinct.reindex(per_child.index, fill_value=0)
    per_child["three_plus"] = per_child["distinct"] >= 3
    per_child = per_child.join(children.set_index("child_id"), how="inner")
    by_site = per_child.groupby("site_id").agg(children=("days", "size"), days=("days", "sum"),
                                                changes=("changes", "sum"), distinct=("distinct", "sum"),
                                                three_plus=("three_plus", "sum")).reindex(sites, fill_value=0)
    period_from = f"{year}-04-01"
    for site, r in by_site.iterrows():
        ratio = lambda n, d: float(n) / float(d) if d > 0 else None
        rows.append({"group": site, "metric": "sw_changes_per_child_year", "period_from": period_from,
                     "value": ratio(r["changes"], r["days"] / 365.25)})
        rows.append({"group": site, "metric": "mean_distinct_workers", "period_from": period_from,
                     "value": ratio(r["distinct"], r["children"])})
        rows.append({"group": site, "metric": "pct_3plus_workers", "period_from": period_from,
                     "value": ratio(r["three_plus"], r["children"])})
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
