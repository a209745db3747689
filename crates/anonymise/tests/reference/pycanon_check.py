"""Independent check of the bundled sample's k-anonymity and l-diversity with pycanon
(Python, https://github.com/IFCA-Advanced-Computing/pycanon; 1.3.6 from PyPI), on the files as
written: the quasi-identifiers sex, dob, dob_precision, ethnic, ethnic_precision and site_id of
children.csv; the sensitive attributes legal status and category of need of each child's
latest episode (greatest decom; on a tie the later row) in episodes.csv.

    python3 pycanon_check.py ../../../../data/sample    # writes pycanon_reference.json

The test `the_sample_is_k_anonymous_as_pycanon_says` compares data/sample/k_anonymity.json
with it.
"""
import json
import sys
from pathlib import Path

import pandas as pd
from pycanon import anonymity

sample = Path(sys.argv[1])
children = pd.read_csv(sample / "children.csv", dtype=str, keep_default_na=False)
episodes = pd.read_csv(sample / "episodes.csv", dtype=str, keep_default_na=False)
episodes["row"] = range(len(episodes))
latest = (
    episodes.sort_values(["site_id", "child_id", "decom", "row"], kind="stable")
    .groupby(["site_id", "child_id"])
    .tail(1)[["site_id", "child_id", "ls", "cin"]]
)
data = children.merge(latest, on=["site_id", "child_id"], how="left")
qi = ["sex", "dob", "dob_precision", "ethnic", "ethnic_precision", "site_id"]
out = {
    "pycanon": "1.3.6",
    "children": len(data),
    "classes": int(data.groupby(qi).ngroups),
    "k": int(anonymity.k_anonymity(data, qi)),
}
for name, column in [("legal_status", "ls"), ("category_of_need", "cin")]:
    known = data[data[column].notna() & (data[column] != "")]
    out[f"l_{name}"] = int(anonymity.l_diversity(known, qi, [column]))
    distinct = known.groupby(qi)[column].nunique()
    out[f"classes_with_one_{name}"] = int((distinct == 1).sum())
Path("pycanon_reference.json").write_text(json.dumps(out, indent=2) + "\n")
print(out)
