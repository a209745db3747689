"""Peer of `swp-eval metrics DIR --by site`, in Python polars (the fastest dataframe peer): the
social-worker change metrics of METRICS.md (sw_changes_per_child_year, mean_distinct_workers,
pct_3plus_workers) by site for each financial year, as lazy queries.

Usage: python3 metrics_polars.py DIR FIRST_YEAR LAST_YEAR
Prints one JSON object: {"seconds": work time (reading included, interpreter start excluded),
"rows": [{"group", "metric", "period_from", "value"}, ...]}.
"""
import datetime
import json
import sys
import time

import polars as pl

start = time.perf_counter()
folder, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
text = {"child_id": pl.String, "worker_id": pl.String, "site_id": pl.String}
children = pl.read_csv(f"{folder}/children.csv", columns=["child_id", "site_id"], schema_overrides=text)
sites = pl.read_csv(f"{folder}/sites.csv", columns=["site_id"], schema_overrides=text)
episodes = (
    pl.read_csv(f"{folder}/episodes.csv", columns=["child_id", "decom", "dec"], schema_overrides=text, try_parse_dates=True)
    .with_columns(start=pl.col("decom").cast(pl.Int32), end=pl.col("dec").cast(pl.Int32))
    .sort(["child_id", "start", "end"], nulls_last=True, maintain_order=True)
    .with_columns(prev_end=pl.col("end").shift().over("child_id"))
)
allocations = (
    pl.read_csv(f"{folder}/allocations.csv", columns=["child_id", "worker_id", "start_date", "end_date"],
                schema_overrides=text, try_parse_dates=True)
    .with_columns(start=pl.col("start_date").cast(pl.Int32), end=pl.col("end_date").cast(pl.Int32))
    .sort(["child_id", "start"], maintain_order=True)
    .with_columns(
        change=(pl.col("worker_id") != pl.col("worker_id").shift().over("child_id")).fill_null(False),
        next_start=pl.col("start").shift(-1).over("child_id"),
    )
    # same-day handover: an allocation ending the day the next one starts is not in force that day
    .with_columns(last=pl.when(pl.col("end") == pl.col("next_start")).then(pl.col("end") - 1).otherwise(pl.col("end")))
)

epoch = datetime.date(1970, 1, 1)
rows = []
for year in range(first, last + 1):
    p_from = (datetime.date(year, 4, 1) - epoch).days
    p_to = (datetime.date(year + 1, 3, 31) - epoch).days
    care = (
        episodes.lazy()
        .with_columns(
            days=(pl.min_horizontal(pl.col("end").fill_null(p_to), pl.lit(p_to))
                  - pl.max_horizontal(pl.col("start"), pl.lit(p_from)) + 1).clip(lower_bound=0)
            # a handover day (the next episode starts the day the previous ended) is counted once
            - ((pl.col("prev_end") == pl.col("start")) & pl.col("start").is_between(p_from, p_to)).fill_null(False).cast(pl.Int32)
        )
        .group_by("child_id").agg(pl.col("days").sum())
        .filter(pl.col("days") > 0)
    )
    alloc = allocations.lazy()
    changes = (alloc.filter(pl.col("start").is_between(p_from, p_to) & pl.col("change"))
               .group_by("child_id").agg(changes=pl.len()))
    distinct = (
        alloc.filter((pl.col("start") <= p_to)
                     & (pl.col("last").is_null() | ((pl.col("last") >= p_from) & (pl.col("last") >= pl.col("start")))))
        .group_by("child_id").agg(distinct=pl.col("worker_id").n_unique())
    )
    by_site = (
        care.join(changes, on="child_id", how="left").join(distinct, on="child_id", how="left")
        .with_columns(pl.col("changes").fill_null(0), pl.col("distinct").fill_null(0))
        .join(children.lazy(), on="child_id", how="inner")
        .group_by("site_id")
        .agg(children=pl.len(), days=pl.col("days").sum(), changes=pl.col("changes").sum(),
             distinct=pl.col("distinct").sum(), three_plus=(pl.col("distinct") >= 3).sum())
    )
    by_site = sites.lazy().join(by_site, on="site_id", how="left").fill_null(0).collect()
    period_from = f"{year}-04-01"
    for r in by_site.iter_rows(named=True):
        ratio = lambda n, d: float(n) / float(d) if d > 0 else None
        rows.append({"group": r["site_id"], "metric": "sw_changes_per_child_year", "period_from": period_from,
                     "value": ratio(r["changes"], r["days"] / 365.25)})
        rows.append({"group": r["site_id"], "metric": "mean_distinct_workers", "period_from": period_from,
                     "value": ratio(r["distinct"], r["children"])})
        rows.append({"group": r["site_id"], "metric": "pct_3plus_workers", "period_from": period_from,
                     "value": ratio(r["three_plus"], r["children"])})
print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows}))
