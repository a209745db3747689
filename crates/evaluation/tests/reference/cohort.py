"""Independent re-implementation of the cohort of docs/evaluation.md (eligibility, sample flow,
baseline covariates, follow-up outcomes) in plain Python (standard library only), written from
the spec, not from swp-eval's code. It reads a flat dataset directory (data/sample) and writes

  cohort_reference.csv        one row per eligible child: ids, arm, covariates, outcomes
  sample_flow_reference.json  docs/evaluation.md's sample_flow.json

The test `the_cohort_equals_the_python_reimplementation` compares swp-eval's cohort with them.

    python3 cohort.py ../../../../data/sample
"""

import csv
import json
import sys
from datetime import date, timedelta
from pathlib import Path

ETHNIC = [
    ("White", ["WBRI", "WIRI", "WIRT", "WOTH", "WROM"]),
    ("Mixed", ["MWBC", "MWBA", "MWAS", "MOTH"]),
    ("Asian", ["AIND", "APKN", "ABAN", "AOTH"]),
    ("Black", ["BCRB", "BAFR", "BOTH"]),
    ("Other", ["CHNE", "OOTH", "REFU", "NOBT"]),
]
LEGAL = [("care_order", ["C1", "C2"]), ("accommodated", ["V2"]), ("placement_order", ["E1", "D1"]), ("other", [])]
PLACE = [
    ("foster", ["U1", "U2", "U3", "U4", "U5", "U6", "Q1", "Q2"]),
    ("placed_for_adoption", ["A1", "A2", "A3", "A4", "A5", "A6"]),
    ("with_parents", ["P1"]),
    ("residential", ["K1", "K2", "H5", "R1", "R2", "R5", "S1"]),
    ("other", ["P2", "P3", "R3", "Z1", "T0", "T1", "T2", "T3", "T4"]),
]
TEMPORARY = {"T0", "T1", "T2", "T3", "T4"}
SHORT_BREAK = {"V3", "V4"}
NEW_CARER = {"S", "P", "B"}


def group(code, groups):
    if not code:
        return "not recorded"
    for name, codes in groups:
        if code in codes:
            return name
    return groups[-1][0]


def day(text):
    return date.fromisoformat(text) if text else None


def add_months(d, months):
    """Calendar arithmetic: same day `months` later (negative: earlier), clamped to month end."""
    total = d.year * 12 + (d.month - 1) + months
    y, m = divmod(total, 12)
    m += 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)).day
    return date(y, m, min(d.day, last))


def read(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.DictReader(f))


def main(directory):
    d = Path(directory)
    sites = {r["site_id"]: r for r in read(d / "sites.csv")}
    extract = None
    for line in (d / "dataset.toml").read_text().splitlines():
        if line.startswith("extract_date"):
            extract = day(line.split('"')[1])
    index = min(day(s["go_live"]) for s in sites.values() if s["arm"] == "pilot")
    baseline = (add_months(index, -12), index - timedelta(days=1))
    follow = (index, min(add_months(index, 24) - timedelta(days=1), extract))
    in_care_since = add_months(index, -6)

    children = read(d / "children.csv")
    # tables without a site_id column: child ids are then unique across the dataset
    site_of = {c["child_id"]: c["site_id"] for c in children}
    episodes, allocations = {}, {}
    for r in read(d / "episodes.csv"):
        episodes.setdefault((r.get("site_id") or site_of.get(r["child_id"]), r["child_id"]), []).append(r)
    for r in read(d / "allocations.csv"):
        allocations.setdefault((r.get("site_id") or site_of.get(r["child_id"]), r["child_id"]), []).append(r)

    rows, flow_removed = [], {True: [0] * 5, False: [0] * 5}
    flow_total = {True: 0, False: 0}
    for c in children:
        arm = sites[c["site_id"]]["arm"]
        if arm not in ("pilot", "comparison"):
            continue
        treated = arm == "pilot"
        flow_total[treated] += 1
        key = (c["site_id"], c["child_id"])
        eps = sorted(
            ({"start": day(e["decom"]), "end": day(e["dec"]), "rne": e["rne"], "ls": e["ls"], "cin": e["cin"], "place": e["place"]}
             for e in episodes.get(key, [])),
            key=lambda e: (e["start"], e["end"] or date.max),
        )
        for i, e in enumerate(eps):
            after_temp = i > 0 and eps[i - 1]["place"] in TEMPORARY
            e["starts"] = e["rne"] in NEW_CARER and e["place"] not in TEMPORARY and e["ls"] not in SHORT_BREAK and not after_temp
            cont = i > 0 and eps[i - 1]["end"] is not None and e["start"] <= eps[i - 1]["end"] + timedelta(days=1)
            e["period"] = eps[i - 1]["period"] if cont else i

        def in_force(t):
            for i in range(len(eps) - 1, -1, -1):
                e = eps[i]
                if e["start"] <= t and (e["end"] is None or t <= e["end"]):
                    return i
            return None

        k = in_force(index)
        if k is None:
            flow_removed[treated][1] += 1
            continue
        if eps[k]["ls"] in SHORT_BREAK:
            flow_removed[treated][2] += 1
            continue
        first = eps[k]["period"]
        if eps[first]["start"] > in_care_since:
            flow_removed[treated][3] += 1
            continue
        dob = day(c["dob"])
        age = None
        if dob:
            age = index.year - dob.year
            if add_months(dob, 12 * age) > index:
                age -= 1
        if age is None or not (0 <= age <= 17):
            flow_removed[treated][4] += 1
            continue

        allocs = sorted(
            ({"start": day(a["start_date"]), "worker": a["worker_id"]} for a in allocations.get(key, [])),
            key=lambda a: a["start"],
        )

        def changes(lo, hi):
            return [allocs[i]["start"] for i in range(1, len(allocs))
                    if lo <= allocs[i]["start"] <= hi and allocs[i]["worker"] != allocs[i - 1]["worker"]]

        def is_move(i):
            return eps[i]["starts"] and any(eps[j]["starts"] for j in range(eps[i]["period"], i))

        last = k
        while last + 1 < len(eps) and eps[last + 1]["period"] == first:
            last += 1
        period_end = eps[last]["end"]
        censor = follow[1] if period_end is None else min(period_end, follow[1])
        covered, days = follow[0] - timedelta(days=1), 0
        for e in eps:
            a = max(e["start"], covered + timedelta(days=1))
            b = min(e["end"] or follow[1], follow[1])
            if b >= a:
                days += (b - a).days + 1
                covered = b
        starting = sum(1 for e in eps if e["starts"] and follow[0] <= e["start"] <= follow[1])
        at_start = next((j for j in range(k, first - 1, -1) if eps[j]["starts"]), None)
        if at_start is not None and follow[0] <= eps[at_start]["start"] <= follow[1]:
            at_start = None
        first_change = next((t for t in changes(index, censor)), None)
        first_move = next((eps[i]["start"] for i in range(len(eps))
                           if index <= eps[i]["start"] <= censor and is_move(i)), None)
        rows.append({
            "child_id": c["child_id"], "site_id": c["site_id"],
            "sex": c["sex"] or "not recorded", "ethnic_group": group(c["ethnic"], ETHNIC),
            "legal_status": group(eps[k]["ls"], LEGAL), "placement_type": group(eps[k]["place"], PLACE),
            "treated": int(treated),
            "age": (index - dob).days / 365.25,
            "years_in_care": (index - eps[first]["start"]).days / 365.25,
            "prior_placements": sum(1 for e in eps if e["starts"] and baseline[0] <= e["start"] <= baseline[1]),
            "prior_sw_changes": len(changes(*baseline)),
            "cin_abuse_neglect": int(eps[k]["cin"] == "N1"),
            "sw_changes": len(changes(*follow)),
            "placement_moves": sum(1 for i in range(len(eps)) if follow[0] <= eps[i]["start"] <= follow[1] and is_move(i)),
            "exposure_years": days / 365.25,
            "three_plus_placements": int(starting + (at_start is not None) >= 3),
            "time_to_sw_change": ((first_change or censor) - index).days + 1,
            "sw_change_event": int(first_change is not None),
            "time_to_placement_move": ((first_move or censor) - index).days + 1,
            "placement_move_event": int(first_move is not None),
        })

    with open("cohort_reference.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow({k: (repr(v) if isinstance(v, float) else v) for k, v in r.items()})
    flow = []
    for treated, arm in [(True, "treated"), (False, "control")]:
        remaining = flow_total[treated]
        flow.append({"step": 0, "arm": arm, "removed": None, "remaining": remaining})
        for step in range(1, 5):
            remaining -= flow_removed[treated][step]
            flow.append({"step": step, "arm": arm, "removed": flow_removed[treated][step], "remaining": remaining})
    Path("sample_flow_reference.json").write_text(json.dumps(flow, indent=1) + "\n")
    print(f"{len(rows)} eligible children; index date {index}; follow-up to {follow[1]}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../../../../data/sample")
