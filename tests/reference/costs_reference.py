"""Independent computation of docs/metrics.md v1.1's four cost metrics (standard library only,
written from docs/metrics.md, not from swp-eval's code), for every financial year of a dataset, by
site, arm and total.

    swp-eval synth /tmp/held-out --seed 31 --scale small
    python3 costs_reference.py /tmp/held-out > costs_reference.json

The test `cost_metrics_equal_an_independent_computation` regenerates the held-out dataset (no
other test reads seed 31) and compares `swp-eval metrics` with this file to 1e-9.
"""
import csv
import json
import sys
from datetime import date, timedelta
from pathlib import Path

d = Path(sys.argv[1])
rows = lambda name: list(csv.DictReader(open(d / name, newline="")))
day = lambda s: date.fromisoformat(s) if s else None

sites = {r["site_id"]: r["arm"] for r in rows("sites.csv")}
child_site = {(r["site_id"], r["child_id"]): r["site_id"] for r in rows("children.csv")}
by_id = {}
for (s, c) in child_site:
    by_id.setdefault(c, []).append(s)
episodes = {}
for r in rows("episodes.csv"):
    site = r.get("site_id") or by_id[r["child_id"]][0]
    episodes.setdefault((site, r["child_id"]), []).append((day(r["decom"]), day(r["dec"])))
spells = [r for r in rows("workers.csv") if r["role"] in ("social_worker", "senior_practitioner", "team_manager")]
costs = rows("costs.csv")
CATS = ["staff", "agency_staff", "placements", "overheads", "contract", "outcome_payment", "other"]

years = sorted({int(c["financial_year"][:4]) for c in costs})


def looked_after_days(eps, start, end):
    """Days of [start, end] on which an episode decom <= d <= dec (or no dec) holds."""
    days = set()
    for a, b in eps:
        lo, hi = max(a, start), min(b or end, end)
        while lo <= hi:
            days.add(lo)
            lo += timedelta(days=1)
    return len(days)


def month_ends(start, end):
    out, y, m = [], start.year, start.month
    while True:
        nxt = date(y + (m == 12), m % 12 + 1, 1)
        last = nxt - timedelta(days=1)
        if last > end:
            return out
        out.append(last)
        y, m = nxt.year, nxt.month


out = []
for y in years:
    start, end = date(y, 4, 1), date(y + 1, 3, 31)
    spend = {}
    for c in costs:
        if int(c["financial_year"][:4]) == y:
            spend.setdefault(c["site_id"], dict.fromkeys(CATS, 0.0))[c["category"]] += float(c["amount"])
    child_years = dict.fromkeys(sites, 0.0)
    for (s, c), eps in episodes.items():
        child_years[s] += looked_after_days(eps, start, end) / 365.25
    ends = month_ends(start, end)
    fte = dict.fromkeys(sites, 0.0)
    for w in spells:
        a, b = day(w["start_date"]), day(w["end_date"])
        fte[w["site_id"]] += float(w["fte"]) * sum(1 for e in ends if a <= e and (b is None or e <= b)) / len(ends)
    groups = [(s, [s]) for s in sites] + [(arm, [s for s in sites if sites[s] == arm]) for arm in ("pilot", "host", "comparison")]
    groups.append(("total", list(sites)))
    for name, members in groups:
        members = [s for s in members if s in spend]
        if not members:
            continue
        total = sum(sum(spend[s].values()) for s in members)
        staff = sum(spend[s]["staff"] + spend[s]["agency_staff"] for s in members)
        agency = sum(spend[s]["agency_staff"] for s in members)
        payment = sum(spend[s]["outcome_payment"] for s in members)
        cy = sum(child_years[s] for s in members)
        f = sum(fte[s] for s in members)
        ratio = lambda a, b: a / b if b else None
        for metric, num, den in [
            ("cost_per_child_year", total, cy),
            ("staff_cost_per_fte", staff, f),
            ("agency_cost_share", agency, staff),
            ("outcome_payment_share", payment, total),
        ]:
            out.append({"group": name, "year": y, "metric": metric, "value": ratio(num, den), "numerator": num, "denominator": den})
json.dump(out, sys.stdout, indent=1)
print()
