#!/usr/bin/env python3
"""swp-eval against the tools evaluators use today, on the same work, in one run.

Called by `benches/run.sh` (which builds the release binaries first); docs/benchmarks.md says
what each row compares. For every task and size it

1. generates the inputs (synthetic datasets with `swp-eval synth`, tables with `bench-data`),
2. runs swp-eval and each installed peer once and checks that the peer's numbers equal
   swp-eval's (to 1e-6, or within Monte Carlo error for the bootstrap); a peer that disagrees is
   reported with the difference and not timed,
3. times every contender `--repeats` times, interleaved (A B C A B C ...), each run in a fresh
   process: wall time and peak resident memory of the process (GNU time's %M), plus the seconds the
   peer reports for its own work (its interpreter's start-up and package loading excluded),
4. writes `results.json` and `results.md` (medians, peak memory, swp-eval/peer ratios).

Usage: run.py --bin TARGET/release --work DIR --out DIR [--repeats N] [--quick] [--only TASK,..] [--merge]
"""
import argparse
import csv
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def log(message):
    print(message, file=sys.stderr, flush=True)


TIME = shutil.which("time", path="/usr/bin:/bin")


def run_process(argv):
    """Runs argv; returns (wall seconds, peak RSS MiB, exit code, stdout, stderr).

    Peak memory comes from GNU time (`%M`) when installed: a process forked from this Python
    would inherit its peak at exec (Linux keeps the larger of the two), so wait4 on it would
    report at least this runner's own size. Without GNU time, peak memory is not measured (NaN)."""
    measure = None
    if TIME:
        import tempfile
        measure = tempfile.NamedTemporaryFile(prefix="swp-bench-rss-", delete=False)
        measure.close()
        argv = [TIME, "-f", "%M", "-o", measure.name, *argv]
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True)
    wall = time.perf_counter() - started
    rss = float("nan")
    if measure is not None:
        try:
            rss = float(Path(measure.name).read_text().strip().splitlines()[-1]) / 1024.0
        except (ValueError, IndexError):
            pass
        os.unlink(measure.name)
    return wall, rss, done.returncode, done.stdout.decode(), done.stderr.decode()


def median(values):
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def last_json(text):
    """The last line of stdout that parses as a JSON object."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    return None


# ---------------------------------------------------------------------------------------------
# What is installed


def python_has(*modules):
    code = "import importlib.util, sys; sys.exit(0 if all(importlib.util.find_spec(m) for m in sys.argv[1:]) else 1)"
    return subprocess.run([sys.executable, "-c", code, *modules]).returncode == 0


def r_has(*packages):
    if shutil.which("Rscript") is None:
        return False
    code = "q(status = if (all(sapply(commandArgs(TRUE), requireNamespace, quietly = TRUE))) 0 else 1)"
    return subprocess.run(["Rscript", "-e", code, *packages], capture_output=True).returncode == 0


INSTALL = ("Debian: apt-get install time r-base-core r-cran-matchit r-cran-sandwich r-cran-clubsandwich "
           "r-cran-survival r-cran-jsonlite; PyPI: pip install pandas polars statsmodels wildboottest lifelines")


def versions():
    v = {"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version()}
    from importlib import metadata
    for m in ["pandas", "polars", "statsmodels", "wildboottest", "numpy"]:
        try:
            v[m] = metadata.version(m)
        except metadata.PackageNotFoundError:
            pass
    if shutil.which("Rscript"):
        code = ("cat(R.version$major, '.', R.version$minor, sep = ''); for (p in commandArgs(TRUE)) "
                "cat(';', p, tryCatch(as.character(packageVersion(p)), error = function(e) 'absent'))")
        out = subprocess.run(["Rscript", "-e", code, "MatchIt", "cobalt", "sandwich", "clubSandwich"],
                             capture_output=True, text=True).stdout
        parts = out.split(";")
        v["R"] = parts[0].strip()
        for p in parts[1:]:
            name, _, ver = p.strip().partition(" ")
            v[name] = ver
    return v


# ---------------------------------------------------------------------------------------------
# Checks: does the peer compute what swp-eval computes?


def close(a, b, tol=1e-6):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def check_metrics(ours_csv, peer):
    ours = {}
    with open(ours_csv) as f:
        for r in csv.DictReader(f):
            ours[(r["group"], r["metric"], r["period_from"])] = None if r["value"] == "" else float(r["value"])
    bad = [r for r in peer["rows"]
           if (r["group"], r["metric"], r["period_from"]) not in ours
           or not close(ours[(r["group"], r["metric"], r["period_from"])], r["value"], 1e-9)]
    if not peer["rows"]:
        return "the peer computed no rows"
    if bad:
        r = bad[0]
        return (f"{len(bad)} of {len(peer['rows'])} values differ (first: {r['group']} {r['metric']} "
                f"{r['period_from']}: peer {r['value']}, swp-eval {ours.get((r['group'], r['metric'], r['period_from']))})")
    return None


def check_match(ours, peer):
    theirs = {b["covariate"]: b for b in peer["balance"]}
    compared = 0
    for b in ours["balance"]:
        t = theirs.get(b["covariate"])
        if t is None:
            return f"MatchIt has no balance row for {b['covariate']}"
        keys = ["mean_treated", "mean_control_before", "smd_before"] + (["smd_after"] if "smd_after" in t else [])
        for k in keys:
            if not close(b[k], t[k]):
                return f"{b['covariate']} {k}: MatchIt {t[k]}, swp-eval {b[k]}"
            compared += 1
    if "smd_after" in peer["balance"][0]:
        for k in ["matched_treated", "matched_control"]:
            if ours["n"][k] != peer["n"][k]:
                return f"{k}: MatchIt {peer['n'][k]}, swp-eval {ours['n'][k]}"
    return None if compared else "nothing to compare"


def check_survival(ours, peer):
    for k in ["km_median", "cox_coef", "cox_se"]:
        if not close(ours[k], peer[k]):
            return f"{k}: peer {peer[k]}, swp-stats {ours[k]}"
    return None


def check_effect(ours, peer):
    for k in ["difference", "se_cr1", "se", "df"]:
        if k in peer and not close(ours[k], peer[k]):
            return f"{k}: peer {peer[k]}, swp-eval {ours[k]}"
    if "wild_p_value" in peer:
        p, q, b = ours["wild_p_value"], peer["wild_p_value"], peer["reps"]
        # two independent Monte Carlo estimates of one p-value: SE of their difference
        se = math.sqrt(2 * max(p * (1 - p), 1e-4) / b)
        if abs(p - q) > 4.5 * se:
            return f"wild bootstrap p: peer {q}, swp-eval {p} (more than 4.5 Monte Carlo SE apart)"
    return None


# ---------------------------------------------------------------------------------------------
# Tasks


class Contender:
    def __init__(self, name, argv, role, needs=None, parse=True, note=""):
        self.name, self.argv, self.role, self.needs, self.parse, self.note = name, argv, role, needs, parse, note


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, help="folder of the release binaries (swp-eval, bench-data, ingest-bench)")
    ap.add_argument("--work", required=True, help="folder for the generated inputs and outputs")
    ap.add_argument("--out", required=True, help="folder for results.json and results.md")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="the smallest sizes only (a check that everything runs)")
    ap.add_argument("--merge", action="store_true",
                    help="keep the other tasks' results already in OUT/results.json (with --only)")
    ap.add_argument("--only", default="", help="comma-separated tasks: validate,metrics,match,effect,survival,report")
    a = ap.parse_args()
    binary = Path(a.bin)
    swp = str(binary / "swp-eval")
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    only = set(filter(None, a.only.split(",")))
    wanted = lambda task: not only or task in only  # noqa: E731

    have = {
        "pandas": python_has("pandas", "numpy"),
        "polars": python_has("polars"),
        "statsmodels+wildboottest": python_has("pandas", "statsmodels", "wildboottest"),
        "MatchIt": r_has("MatchIt", "jsonlite"),
        "clubSandwich+sandwich": r_has("clubSandwich", "sandwich", "jsonlite"),
        "survival (R)": r_has("survival", "jsonlite"),
        "lifelines": python_has("pandas", "lifelines"),
    }
    for peer, ok in have.items():
        if not ok:
            log(f"peer {peer} is not installed: skipped (install: {INSTALL})")

    scales = ["small"] if a.quick else ["small", "pilot", "national"]
    datasets = {}
    for scale in scales:
        d = work / f"synth-{scale}"
        if not (d / "dataset.toml").exists():
            log(f"generating the {scale} synthetic dataset (seed 1) in {d}")
            subprocess.run([swp, "synth", str(d), "--seed", "1", "--scale", scale], check=True, capture_output=True)
        with open(d / "children.csv") as f:
            datasets[scale] = (d, sum(1 for _ in f) - 1)
    years = (2003, 2012)  # the financial years every synthetic scale covers (swp-eval's default periods)

    match_sizes = [(1_000, 10_000)] if a.quick else [(2_500, 25_000), (5_000, 50_000), (10_000, 100_000), (20_000, 200_000)]
    panel_sizes = [10_000] if a.quick else [10_000, 100_000, 1_000_000]
    cases = []  # (task, size label, n, unit, contenders, checker, swp output key)

    for scale, (d, n) in datasets.items():
        bare = Contender("bare polars CSV read (Rust, in process)", [str(binary / "ingest-bench"), "--stage", "polars", str(d)],
                         "yardstick", note="polars 0.55 reading the six table files with inferred types")
        if wanted("validate"):
            cases.append(("validate", scale, n, "children", [
                Contender("swp-eval validate", [swp, "validate", str(d)], "swp-eval", parse=False), bare], None))
        if wanted("metrics"):
            ours_csv = work / f"metrics-{scale}.csv"
            cases.append(("metrics", scale, n, "children", [
                Contender("swp-eval metrics (every metric, by site)",
                          [swp, "metrics", str(d), "--no-suppress", "--format", "csv", "--out", str(ours_csv)],
                          "swp-eval", parse=False),
                bare,
                Contender("pandas (the social-worker change metrics only)",
                          [sys.executable, str(HERE / "metrics_pandas.py"), str(d), *map(str, years)], "peer", needs="pandas"),
                Contender("Python polars (the social-worker change metrics only)",
                          [sys.executable, str(HERE / "metrics_polars.py"), str(d), *map(str, years)], "peer", needs="polars"),
            ], lambda ours, peer, f=ours_csv: check_metrics(f, peer)))
        if wanted("report"):
            target = work / f"report-{scale}"
            cases.append(("report", scale, n, "children", [
                Contender("swp-eval report (EVALUATION.md defaults, every output)",
                          [swp, "report", str(d), "--out", str(target)], "swp-eval", parse=False)], None))

    if wanted("match"):
        for treated, controls in match_sizes:
            f = work / f"match-{treated + controls}.csv"
            if not f.exists():
                subprocess.run([str(binary / "bench-data"), "matching", str(f), str(treated), str(controls)], check=True)
            label = f"{treated:,} treated x {controls:,} controls"
            cases.append(("match", label, treated + controls, "rows", [
                Contender("swp-eval match --caliper 0.2",
                          [swp, "match", "--table", str(f), "--treatment", "treat", "--covariates",
                           "x1,x2,x3,x4,x5,x6,x7,x8", "--caliper", "0.2", "--format", "json"], "swp-eval"),
                Contender("R MatchIt (reading excluded)", ["Rscript", str(HERE / "matchit.R"), str(f)], "peer", needs="MatchIt"),
            ], check_match))

    if wanted("effect"):
        for rows in panel_sizes:
            f = work / f"panel-{rows}.csv"
            if not f.exists():
                subprocess.run([str(binary / "bench-data"), "panel", str(f), str(rows), "150"], check=True)
            contenders = [
                Contender("swp-eval effect --cluster (CR2, CR1, 9,999 wild reps)",
                          [swp, "effect", "--table", str(f), "--group", "pilot", "--outcome", "y", "--cluster", "site",
                           "--format", "json"], "swp-eval"),
                Contender("statsmodels CR1 + wildboottest (reading included)",
                          [sys.executable, str(HERE / "effect_python.py"), str(f)], "peer", needs="statsmodels+wildboottest"),
            ]
            # clubSandwich forms each cluster's n_g x n_g adjustment matrix: 1M rows in 150
            # clusters would be 6,667^2 doubles per cluster, beyond what an evaluator would wait for
            if rows <= 100_000:
                contenders.append(Contender("clubSandwich CR2 + sandwich CR1 (reading excluded)",
                                            ["Rscript", str(HERE / "effect_r.R"), str(f)], "peer", needs="clubSandwich+sandwich"))
            cases.append(("effect", f"{rows:,} rows, 150 clusters", rows, "rows", contenders, check_effect))

    if wanted("survival"):
        for units in ([10_000] if a.quick else [10_000, 100_000, 1_000_000]):
            f = work / f"survival-{units}.csv"
            if not f.exists():
                subprocess.run([str(binary / "bench-data"), "survival", str(f), str(units)], check=True)
            cases.append(("survival", f"{units:,} units", units, "units", [
                Contender("swp-stats KM + Cox (library; reading incl.)",
                          [str(binary / "survival-bench"), str(f)], "swp-eval"),
                Contender("R survival (reading incl.)",
                          ["Rscript", str(HERE / "survival_r.R"), str(f)], "peer", needs="survival (R)"),
                Contender("lifelines (reading incl.)",
                          [sys.executable, str(HERE / "survival_python.py"), str(f)], "peer", needs="lifelines"),
            ], check_survival))

    # the matched sets themselves, checked once at a size MatchIt's distance-matrix path can hold
    checks = []
    if wanted("match") and have["MatchIt"]:
        f = work / "match-check.csv"
        subprocess.run([str(binary / "bench-data"), "matching", str(f), "1000", "10000"], check=True)
        _, _, code, stdout, _ = run_process([swp, "match", "--table", str(f), "--treatment", "treat", "--covariates",
                                             "x1,x2,x3,x4,x5,x6,x7,x8", "--caliper", "0.2", "--format", "json"])
        ours = json.loads(stdout)
        _, _, code_r, stdout_r, err_r = run_process(["Rscript", str(HERE / "matchit.R"), str(f), "check"])
        problem = check_match(ours, last_json(stdout_r)) if code_r == 0 else f"MatchIt failed: {err_r.strip()[-300:]}"
        checks.append({"what": "matched sets, 1,000 treated x 10,000 controls, caliper 0.2 (MatchIt's matrix path)",
                       "agrees": problem is None, "problem": problem,
                       "matched_treated": ours["n"]["matched_treated"]})
        log(f"check of the matched sets: {'agrees' if problem is None else problem}")

    results = {"versions": versions(), "repeats": a.repeats, "checks": checks, "cases": []}
    for task, label, n, unit, contenders, checker in cases:
        log(f"== {task}: {label}")
        entry = {"task": task, "size": label, "n": n, "unit": unit, "contenders": []}
        active = []
        ours_value = None
        for c in contenders:
            record = {"name": c.name, "role": c.role, "note": c.note}
            entry["contenders"].append(record)
            if c.needs and not have[c.needs]:
                record["status"] = "not installed"
                continue
            wall, rss, code, stdout, stderr = run_process(c.argv)
            if code != 0:
                record["status"] = f"failed: {stderr.strip()[-300:]}"
                log(f"  {c.name}: {record['status']}")
                continue
            value = last_json(stdout) if c.parse else None
            if c.role == "swp-eval":
                ours_value = json.loads(stdout) if c.parse else None
            elif c.role == "peer" and checker is not None:
                problem = checker(ours_value, value)
                if problem is not None:
                    record["status"] = f"disagrees: {problem}"
                    log(f"  {c.name}: {record['status']} (not timed)")
                    continue
                record["agrees"] = True
            record["status"] = "timed"
            active.append((c, record))
        for _ in range(a.repeats):
            for c, record in active:
                wall, rss, code, stdout, stderr = run_process(c.argv)
                if code != 0:
                    record["status"] = f"failed on a repeat: {stderr.strip()[-300:]}"
                    continue
                record.setdefault("wall", []).append(wall)
                record.setdefault("peak_rss_mib", []).append(rss)
                reported = (last_json(stdout) or {}).get("seconds") if c.role != "swp-eval" else None
                if reported is not None:
                    record.setdefault("reported", []).append(reported)
        ours = next((r for _, r in active if r["role"] == "swp-eval" and r.get("wall")), None)
        for c, record in active:
            if not record.get("wall"):
                continue
            record["median_wall"] = median(record["wall"])
            record["median_peak_rss_mib"] = median(record["peak_rss_mib"])
            if record.get("reported"):
                record["median_reported"] = median(record["reported"])
            # a peer's own work time (start-up excluded) against swp-eval's whole command
            record["seconds"] = record.get("median_reported", record["median_wall"])
            if ours is not None and record is not ours:
                record["ratio"] = record["seconds"] / ours["median_wall"]
            log(f"  {record['name']}: {record['seconds']:.3f} s, {record['median_peak_rss_mib']:.0f} MiB peak"
                + (f", {record['ratio']:.1f}x swp-eval" if "ratio" in record else ""))
        if ours is not None:
            ours["seconds"] = ours["median_wall"]
        results["cases"].append(entry)

    if a.merge and (out / "results.json").exists():
        before = json.loads((out / "results.json").read_text())
        ran = {c["task"] for c in results["cases"]}
        results["cases"] = [c for c in before["cases"] if c["task"] not in ran] + results["cases"]
        if not checks:
            results["checks"] = before.get("checks", [])
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "results.md").write_text(markdown(results))
    log(f"wrote {out / 'results.md'} and {out / 'results.json'}")


def markdown(results):
    lines = ["# swp-eval and its peers, side by side", "",
             f"Medians of {results['repeats']} interleaved runs, each a fresh process. swp-eval: the whole "
             "command's wall time (start-up, reading, computing, writing). Peers: the work time the peer "
             "reports (reading included unless the name says otherwise; interpreter start-up and package "
             "loading excluded). Ratio = peer seconds / swp-eval seconds (> 1: swp-eval is faster; for the "
             "bare read, < 1 means swp-eval takes longer than reading the files). Peak memory: the process's "
             "peak resident set (GNU time).", "",
             "| task | size | contender | seconds | peak MiB | ratio | status |", "|---|---|---|---|---|---|---|"]
    for case in results["cases"]:
        for r in case["contenders"]:
            seconds = f"{r['seconds']:.3f}" if "seconds" in r else ""
            rss = f"{r['median_peak_rss_mib']:.0f}" if not math.isnan(r.get("median_peak_rss_mib", math.nan)) else ""
            ratio = f"{r['ratio']:.1f}x" if "ratio" in r else ""
            status = "swp-eval" if r["role"] == "swp-eval" else ("checked, timed" if r.get("agrees") else r.get("status", ""))
            if r["role"] == "yardstick" and r.get("status") == "timed":
                status = "yardstick"
            lines.append(f"| {case['task']} | {case['size']} | {r['name']} | {seconds} | {rss} | {ratio} | {status} |")
    lines += ["", "Checks:", ""]
    for c in results["checks"]:
        lines.append(f"- {c['what']}: {'agrees' if c['agrees'] else c['problem']}")
    lines += ["", "Versions: " + ", ".join(f"{k} {v}" for k, v in results["versions"].items()), ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
