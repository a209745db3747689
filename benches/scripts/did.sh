#!/usr/bin/env bash
# `swp-eval did` on a 1,000,000-row panel (10,000 units x 100 periods, 10 groups and never-treated
# units), end to end with file reading, beside csdid (PyPI) on the same file.
#   bash benches/scripts/did.sh            # needs python3 with numpy; csdid and pandas for the peer
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="${WORK:-$(mktemp -d)}"
cargo build --release --locked --manifest-path "$root/Cargo.toml" >/dev/null
bin="${CARGO_TARGET_DIR:-$root/target}/release/swp-eval"
python3 - "$work/panel.csv" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(3)
n, T = 10000, 100
k = np.arange(n)
g = np.where(k % 11 == 0, 0, (k % 11) * 8 + 5)
t = np.arange(1, T + 1)
y = rng.normal(size=n)[:, None] + 0.01 * t[None, :] + rng.normal(size=(n, T)) \
    + ((t[None, :] >= g[:, None]) & (g[:, None] > 0)) * 0.5
with open(sys.argv[1], "w") as f:
    f.write("id,t,g,y\n")
    np.savetxt(f, np.column_stack([np.repeat(k, T), np.tile(t, n), np.repeat(g, T), y.ravel()]),
               fmt=["%d", "%d", "%d", "%.6f"], delimiter=",")
PY
for run in 1 2 3; do
  /usr/bin/time -f "swp-eval did: %e s, %M KB" "$bin" did --table "$work/panel.csv" --unit id --time t \
    --first-treated g --outcome y --format json --out "$work/did.json"
done
if python3 -c "import csdid" 2>/dev/null; then
  python3 - "$work/panel.csv" <<'PY'
import contextlib, io, sys, time, warnings
warnings.filterwarnings("ignore")
import pandas as pd
from csdid.att_gt import ATTgt
t0 = time.time()
df = pd.read_csv(sys.argv[1])
m = ATTgt(yname="y", tname="t", idname="id", gname="g", data=df, control_group="nevertreated")
with contextlib.redirect_stdout(io.StringIO()):
    m.fit(est_method="reg", bstrap=False)
    for kind in ["simple", "dynamic", "group", "calendar"]:
        m.aggte(typec=kind, bstrap=False)
print(f"csdid 0.4.3: {time.time() - t0:.2f} s")
PY
fi
