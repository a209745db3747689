#![allow(dead_code)] // each harness uses part of it
//! The generated tables the matching and bootstrap benchmarks share with their peers: fixed
//! seeds, written as plain CSV so that swp-eval, R and Python read the same bytes.

use std::io::Write;
use std::path::Path;
use swp_stats::design::Covariate;
use swp_stats::rng::Rng;
use swp_stats::Matrix;

/// `n1` treated and `n0` controls, 8 covariates (6 continuous, 2 binary): the treated are
/// shifted by 0.3 SD scaled up with the covariate's index, so the propensity model has work to do.
pub fn matching(n1: usize, n0: usize, seed: u64) -> (Vec<bool>, Vec<Covariate>) {
    let mut rng = Rng::new(seed, 1);
    let n = n1 + n0;
    let treat: Vec<bool> = (0..n).map(|i| i < n1).collect();
    let mut columns: Vec<Vec<f64>> = (0..8).map(|_| Vec::with_capacity(n)).collect();
    for &t in &treat {
        let shift = if t { 0.3 } else { 0.0 };
        for (j, c) in columns.iter_mut().enumerate() {
            let v = if j < 6 {
                ((rng.normal() + shift * (j as f64 + 1.0) / 3.0) * 1000.0).round() / 1000.0
            } else {
                f64::from(u8::from(rng.chance(0.3 + shift / 2.0)))
            };
            c.push(v);
        }
    }
    let covariates =
        columns.into_iter().enumerate().map(|(j, v)| Covariate::numeric(&format!("x{}", j + 1), v)).collect();
    (treat, covariates)
}

/// Writes the matching table: `treat,x1,..,x8`.
pub fn write_matching(path: &Path, treat: &[bool], covariates: &[Covariate]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "treat,x1,x2,x3,x4,x5,x6,x7,x8")?;
    let values: Vec<&[f64]> = covariates
        .iter()
        .map(|c| match &c.values {
            swp_stats::design::Values::Numeric(v) => v.as_slice(),
            swp_stats::design::Values::Text(_) => unreachable!("numeric covariates"),
        })
        .collect();
    for (i, &t) in treat.iter().enumerate() {
        write!(out, "{}", u8::from(t))?;
        for v in &values {
            write!(out, ",{}", v[i])?;
        }
        writeln!(out)?;
    }
    out.flush()
}

/// A clustered panel: `sites` clusters (the first `pilots` treated), about n / sites units each,
/// half at baseline (`post` = 0); a site effect (intra-cluster correlation), a site trend and a
/// true effect `effect` of pilot x post. Returns the design (1, pilot, post, pilot x post), the
/// outcome and the cluster of each row.
pub fn panel(n: usize, sites: usize, pilots: usize, effect: f64, seed: u64) -> (Matrix, Vec<f64>, Vec<usize>) {
    let mut rng = Rng::new(seed, 3);
    let site_effect: Vec<f64> = (0..sites).map(|_| rng.normal()).collect();
    let trend: Vec<f64> = (0..sites).map(|_| 0.5 * rng.normal()).collect();
    let mut rows = Vec::with_capacity(n);
    let mut y = Vec::with_capacity(n);
    let mut cluster = Vec::with_capacity(n);
    for i in 0..n {
        let s = i * sites / n;
        let pilot = f64::from(u8::from(s < pilots));
        let post = f64::from(u8::from(rng.chance(0.5)));
        rows.push(vec![1.0, pilot, post, pilot * post]);
        y.push(site_effect[s] + trend[s] * post + effect * pilot * post + rng.normal());
        cluster.push(s);
    }
    (Matrix::from_rows(&rows), y, cluster)
}

/// Writes the panel as `y,pilot,post,site` (y rounded to 6 decimals, as a user's file would be).
pub fn write_panel(path: &Path, x: &Matrix, y: &[f64], cluster: &[usize]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "y,pilot,post,site")?;
    for i in 0..x.n {
        writeln!(out, "{:.6},{},{},s{}", y[i], x.at(i, 1), x.at(i, 2), cluster[i])?;
    }
    out.flush()
}

/// Survival data: `n` units, a quarter treated (hazard ratio 0.7), exponential times with a
/// median of about 1.4 years for controls, censored at two years, in whole days.
pub fn survival(n: usize, seed: u64) -> (Vec<f64>, Vec<bool>, Vec<bool>) {
    let mut rng = Rng::new(seed, 5);
    let treated: Vec<bool> = (0..n).map(|i| i % 4 == 0).collect();
    let latent: Vec<f64> =
        treated.iter().map(|&t| -(1.0 - rng.uniform()).ln() / (if t { 0.7 } else { 1.0 } * 0.5) * 365.25).collect();
    let time = latent.iter().map(|&t| t.min(730.5).round().max(1.0)).collect();
    let event = latent.iter().map(|&t| t < 730.5).collect();
    (time, event, treated)
}

/// Writes survival data as `time,event,treated` (0/1).
pub fn write_survival(path: &Path, time: &[f64], event: &[bool], treated: &[bool]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "time,event,treated")?;
    for i in 0..time.len() {
        writeln!(out, "{},{},{}", time[i], u8::from(event[i]), u8::from(treated[i]))?;
    }
    out.flush()
}
