"""Reference values for `swp-eval did` from csdid (PyPI, a port of R did), written to
tests/reference/did_csdid.json; the panels it makes are tests/fixtures/did/panel_*.csv.

    pip install csdid==0.4.3 pandas numpy
    python tests/reference/did_csdid.py

csdid's own att_gt (est_method="reg", bstrap=False) and aggte (simple, dynamic, group,
calendar; bstrap=False) give every estimate and analytic standard error. The pre-trend Wald
statistic is formed here from csdid's dynamic influence functions (the event times before
treatment, less anticipation, that have a standard error): W = theta' V^-1 theta with
V = sum over clusters of (sum of influence values)^2 / n^2.
"""
import json
import os
import warnings

import numpy as np
import pandas as pd
from scipy.stats import chi2

warnings.filterwarnings("ignore")
from csdid.att_gt import ATTgt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "did")


def panel_a():
    """120 units x 2001-2008: never treated, groups 2003, 2004, 2006, five units treated in the
    first period (dropped), five after the last (never treated within it); 15 states."""
    rng = np.random.default_rng(20261206)
    groups = [0] * 40 + [2003] * 25 + [2004] * 25 + [2006] * 20 + [2001] * 5 + [2010] * 5
    rows = []
    for i, g in enumerate(groups):
        a = rng.normal()
        state = f"S{i % 15:02d}"
        for t in range(2001, 2009):
            effect = (0.5 + 0.25 * (t - g) + (0.3 if g == 2004 else 0.0)) if 0 < g <= t else 0.0
            y = a + 0.2 * (t - 2001) + 0.1 * (t - 2001) ** 2 * (g == 2006) + effect + rng.normal()
            rows.append((f"u{i:03d}", t, g, round(y, 6), state))
    return pd.DataFrame(rows, columns=["unit", "year", "first_treated", "y", "state"])


def panel_b():
    """60 units x periods 1-6, all treated eventually (groups 3, 4, 6): no never-treated unit."""
    rng = np.random.default_rng(7)
    rows = []
    for i in range(60):
        g = [3, 4, 6][i % 3]
        a = rng.normal()
        for t in range(1, 7):
            y = a + 0.3 * t + (1.0 + 0.2 * (t - g) if t >= g else 0.0) + rng.normal()
            rows.append((i + 1, t, g, round(y, 6)))
    return pd.DataFrame(rows, columns=["id", "period", "g", "outcome"])


CASES = [
    # name, panel, columns (unit, time, g, y), control, base, anticipation, cluster
    ("a_never_varying", "a", ("unit", "year", "first_treated", "y"), "nevertreated", "varying", 0, None),
    ("a_notyet_varying", "a", ("unit", "year", "first_treated", "y"), "notyettreated", "varying", 0, None),
    ("a_never_universal", "a", ("unit", "year", "first_treated", "y"), "nevertreated", "universal", 0, None),
    ("a_notyet_universal", "a", ("unit", "year", "first_treated", "y"), "notyettreated", "universal", 0, None),
    ("a_never_anticipation", "a", ("unit", "year", "first_treated", "y"), "nevertreated", "varying", 1, None),
    ("a_never_cluster", "a", ("unit", "year", "first_treated", "y"), "nevertreated", "varying", 0, "state"),
    ("b_notyet_varying", "b", ("id", "period", "g", "outcome"), "notyettreated", "varying", 0, None),
]


def number(x):
    x = float(x)
    return None if not np.isfinite(x) else x


def run(case, frames):
    name, panel, (unit, time, g, y), control, base, anticipation, cluster = case
    df = frames[panel].copy()
    df["_id"] = pd.factorize(df[unit])[0] + 1
    kwargs = dict(yname=y, tname=time, idname="_id", gname=g, data=df, control_group=control,
                  anticipation=anticipation)
    if cluster:
        kwargs["clustervar"] = cluster
    m = ATTgt(**kwargs)
    m.fit(est_method="reg", base_period=base, bstrap=False)
    r = m.results
    att_gt = [
        {"group": int(gr), "time": int(t), "att": number(a), "se": number(s)}
        for gr, t, a, s in zip(r["group"], r["year"], r["att"], r["se"])
    ]
    aggregates = []
    pretrend = None
    for kind in ["simple", "dynamic", "group", "calendar"]:
        m.aggte(typec=kind, bstrap=False)
        a = m.atte
        aggregates.append({"type": kind, "at": None, "att": number(a["overall_att"]),
                           "se": number(a["overall_se"])})
        if kind != "simple":
            for at, att, se in zip(a["egt"], a["att_egt"], a["se_egt"]):
                aggregates.append({"type": kind, "at": int(at), "att": number(att), "se": number(se)})
        if kind == "dynamic":
            inf = np.asarray(a["inf_function"]["dynamic_inf_func_e"])
            keep = [j for j, (e, se) in enumerate(zip(a["egt"], a["se_egt"]))
                    if e < -anticipation and np.isfinite(se) and se > 1.5e-7]
            if keep:
                psi = inf[:, keep]
                n = psi.shape[0]
                if cluster:
                    ids = df.drop_duplicates("_id").sort_values("_id")
                    kept_ids = ids[~ids[g].between(1, df[time].min() + anticipation)]
                    labels = kept_ids[cluster].to_numpy()
                    assert len(labels) == n, (len(labels), n)
                    sums = np.vstack([psi[labels == c].sum(axis=0) for c in np.unique(labels)])
                else:
                    sums = psi
                v = sums.T @ sums / n**2
                theta = np.asarray(a["att_egt"], dtype=float)[keep]
                w = float(theta @ np.linalg.solve(v, theta))
                pretrend = {"statistic": w, "df": len(keep), "p_value": float(chi2.sf(w, len(keep)))}
    return {
        "name": name, "panel": f"panel_{panel}.csv", "unit": unit, "time": time, "first_treated": g,
        "outcome": y, "control": "never" if control == "nevertreated" else "not-yet", "base": base,
        "anticipation": anticipation, "cluster": cluster, "n_units": int(m.MP["n"]) if "n" in m.MP else None,
        "att_gt": att_gt, "aggregates": aggregates, "pretrend": pretrend,
    }


def main():
    frames = {"a": panel_a(), "b": panel_b()}
    os.makedirs(FIXTURES, exist_ok=True)
    for k, f in frames.items():
        f.to_csv(os.path.join(FIXTURES, f"panel_{k}.csv"), index=False)
    out = {"tool": "csdid 0.4.3 (PyPI)", "cases": [run(c, frames) for c in CASES]}
    with open(os.path.join(HERE, "did_csdid.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
