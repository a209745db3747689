"""The realised rate ratios that swp-synth's planted effects give among pilot children.

swp-synth multiplies rates at pilot sites from go-live (`synth --effect`), but the evaluation's
outcomes are not those rates alone: a social-worker change follows a reallocation (planted
`sw_changes`, 0.6) or a worker leaving (planted `turnover`, 0.6, with `caseload`, 0.7, moving how
many posts are vacant), and a placement move counts only placements METRICS.md counts (returns
from temporary placements and starts of a period of care are not moves). So the rate ratio the
evaluation estimates, the pilot children's follow-up rate against the same children's rate had
no pilot existed, is not the multiplier itself.

For seeds 1..N this writes each seed's pilot-scale dataset twice: with the default effects (A)
and with every effect on these outcomes set to 1 (B: sw_changes, turnover, caseload,
placement_moves). The two are independent draws of one design (the effects change how the
random stream is consumed, so even the children before go-live differ), so only the pooled
ratio over many seeds estimates the ratio of expected rates. Among the children looked after on
their pilot's go-live it counts, over each pilot's 24 months of follow-up, social-worker changes
and placement moves as METRICS.md defines them and the days looked after, and prints the pooled
ratio of A's rates to B's after each seed, then a bootstrap standard error over seeds.

    cargo build --release
    python3 benches/scripts/realised_truth.py 60
"""
import csv
import datetime
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile

BIN = os.path.join(os.environ.get("CARGO_TARGET_DIR", "target"), "release", "swp-eval")
TEMPORARY = ("T0", "T1", "T2", "T3", "T4")
NULL = ["--effect", "sw_changes=1", "--effect", "turnover=1", "--effect", "caseload=1",
        "--effect", "placement_moves=1"]


def day(text):
    return datetime.date.fromisoformat(text).toordinal() if text else 10**9


def counts(d):
    """Social-worker changes, placement moves and days looked after in the follow-up."""
    sites = {r["site_id"]: r for r in csv.DictReader(open(f"{d}/sites.csv"))}
    pilot = {s: day(r["go_live"]) for s, r in sites.items() if r["arm"] == "pilot"}
    site_of = {r["child_id"]: r["site_id"] for r in csv.DictReader(open(f"{d}/children.csv"))}
    episodes, allocations = {}, {}
    for r in csv.DictReader(open(f"{d}/episodes.csv")):
        if site_of.get(r["child_id"]) in pilot:
            episodes.setdefault(r["child_id"], []).append(
                (day(r["decom"]), day(r["dec"]), r["rne"], r["place"], r["ls"]))
    for r in csv.DictReader(open(f"{d}/allocations.csv")):
        if site_of.get(r["child_id"]) in pilot:
            allocations.setdefault(r["child_id"], []).append((day(r["start_date"]), r["worker_id"]))
    changes = moves = days = 0
    for child, eps in episodes.items():
        lo = pilot[site_of[child]]
        hi = lo + 730
        eps.sort()
        if not any(s <= lo < e for s, e, *_ in eps):
            continue
        days += sum(max(0, min(e, hi + 1) - max(s, lo)) for s, e, *_ in eps)
        # a placement starts at S, P or B, not temporary, not a short break, and not as the
        # return from a temporary placement; a move is a start that is not its period's first
        prev, first = None, True
        for s, e, rne, place, ls in eps:
            follows = prev is not None and s <= prev[1] + 1
            if not follows:
                first = True
            starts = (rne in ("S", "P", "B") and place not in TEMPORARY and ls not in ("V3", "V4")
                      and not (follows and prev[3] in TEMPORARY))
            if starts:
                moves += int(not first and lo < s <= hi)
                first = False
            prev = (s, e, rne, place, ls)
        # a change: an allocation starting in the follow-up to another worker than the
        # previous allocation's (by start date)
        al = sorted(allocations.get(child, []))
        changes += sum(1 for i in range(1, len(al)) if lo < al[i][0] <= hi and al[i][1] != al[i - 1][1])
    return changes, moves, days


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    total = {"A": [0, 0, 0], "B": [0, 0, 0]}
    per_seed = []
    work = tempfile.mkdtemp()
    try:
        for seed in range(1, n + 1):
            this = {}
            for arm, extra in (("A", []), ("B", NULL)):
                d = os.path.join(work, arm)
                subprocess.run([BIN, "synth", d, "--seed", str(seed), "--scale", "pilot", *extra],
                               check=True, capture_output=True)
                this[arm] = counts(d)
                for k, v in enumerate(this[arm]):
                    total[arm][k] += v
                shutil.rmtree(d)
            per_seed.append(this)
            a, b = total["A"], total["B"]
            print(f"{seed} seeds: social-worker changes {a[0] / a[2] / (b[0] / b[2]):.4f}, "
                  f"placement moves {a[1] / a[2] / (b[1] / b[2]):.4f} "
                  f"(events A {a[0]}, {a[1]}; B {b[0]}, {b[1]})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    # the seeds resampled (each seed's A and B together): the standard error of each log ratio
    rng = random.Random(1)
    logs = [[], []]
    for _ in range(2000):
        pick = [rng.choice(per_seed) for _ in per_seed]
        a = [sum(s["A"][k] for s in pick) for k in range(3)]
        b = [sum(s["B"][k] for s in pick) for k in range(3)]
        for j in range(2):
            logs[j].append(math.log(a[j] / a[2] / (b[j] / b[2])))
    for name, values in zip(("social-worker changes", "placement moves"), logs):
        print(f"{name}: bootstrap SE of the log ratio over seeds {statistics.stdev(values):.4f}")


if __name__ == "__main__":
    main()
