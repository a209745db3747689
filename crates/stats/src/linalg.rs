//! The small dense linear algebra the models need: weighted least squares by Householder QR
//! (as R's `lm.fit` and `glm.fit` solve it, for accuracy on badly scaled covariates such as
//! earnings next to ages), the inverse of R'R, and a symmetric eigen-decomposition for
//! pseudo-inverses. Matrices are row-major `Vec<f64>`.
//!
//! # ndarray at the edge
//! The public functions that take a design matrix or a column ([`crate::regression::wls`],
//! [`crate::glm::ValidGlmParams::fit`], [`crate::bootstrap::WildProblem::new`],
//! [`crate::regression::cr2_inverse_variance`], [`weighted_least_squares`]) take
//! `impl Into<MatrixRef>` and `impl Into<ColumnRef>`: a [`Matrix`], or an `ndarray` `Array2` /
//! `ArrayView2` (`Array1` / `ArrayView1`, a slice or a `Vec` for columns). A standard-layout
//! (row-major) array is borrowed, not copied; a view that is not contiguous row by row (a
//! transpose, Fortran order, a stepped slice) is copied once into row-major order.
//!
//! ```
//! use swp_stats::ndarray::{array, Array2};
//! use swp_stats::regression::wls;
//! let x: Array2<f64> = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]];
//! let y = array![1.0, 3.1, 4.9, 7.0];
//! let fit = wls(&x, &y, None).unwrap();
//! assert!((fit.coef[1] - 1.98).abs() < 1e-12);
//! ```

use std::borrow::Cow;
use std::ops::Deref;

use ndarray::{Array1, Array2, ArrayView1, ArrayView2};

use crate::error::StatsError;
use crate::moments::dot_fast;

/// A row-major n x p matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// Rows.
    pub n: usize,
    /// Columns.
    pub p: usize,
    /// Values, row by row.
    pub values: Vec<f64>,
}

impl Matrix {
    /// An n x p matrix of zeros.
    pub fn zeros(n: usize, p: usize) -> Self {
        Matrix { n, p, values: vec![0.0; n * p] }
    }

    /// Builds from rows (all of the same length).
    pub fn from_rows(rows: &[Vec<f64>]) -> Self {
        let p = rows.first().map_or(0, Vec::len);
        Matrix { n: rows.len(), p, values: rows.iter().flatten().copied().collect() }
    }

    /// Value at (i, j).
    #[inline]
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.p + j]
    }

    /// Row i.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        row_of(&self.values, self.p, i)
    }

    /// Column j, copied.
    pub fn column(&self, j: usize) -> Vec<f64> {
        column_of(&self.values, self.n, self.p, j)
    }

    /// The matrix as an `ndarray` view (no copy).
    ///
    /// # Errors
    /// [`StatsError::LengthMismatch`] when `values` does not hold n x p numbers (the fields are
    /// public, so a hand-built matrix can be inconsistent).
    pub fn view(&self) -> Result<ArrayView2<'_, f64>, StatsError> {
        ArrayView2::from_shape((self.n, self.p), &self.values)
            .map_err(|_| StatsError::LengthMismatch { inputs: "a matrix's values and its n x p" })
    }

    /// The matrix as an owned `ndarray` array (no copy: the values move).
    ///
    /// # Errors
    /// As [`Matrix::view`].
    pub fn into_array(self) -> Result<Array2<f64>, StatsError> {
        Array2::from_shape_vec((self.n, self.p), self.values)
            .map_err(|_| StatsError::LengthMismatch { inputs: "a matrix's values and its n x p" })
    }
}

/// Row i of row-major values with p columns (shared by [`Matrix`] and [`MatrixRef`]).
#[inline]
fn row_of(values: &[f64], p: usize, i: usize) -> &[f64] {
    &values[i * p..(i + 1) * p]
}

/// Column j of row-major values with n rows and p columns, copied.
fn column_of(values: &[f64], n: usize, p: usize, j: usize) -> Vec<f64> {
    (0..n).map(|i| values[i * p + j]).collect()
}

/// A row-major n x p matrix as the public functions take it (see the module page): borrowed
/// from a [`Matrix`] or a standard-layout `ndarray` array, copied from any other view.
#[derive(Debug, Clone, PartialEq)]
pub struct MatrixRef<'a> {
    /// Rows.
    pub n: usize,
    /// Columns.
    pub p: usize,
    /// Values, row by row.
    pub values: Cow<'a, [f64]>,
}

impl MatrixRef<'_> {
    /// Value at (i, j).
    #[inline]
    pub fn at(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.p + j]
    }

    /// Row i.
    #[inline]
    pub fn row(&self, i: usize) -> &[f64] {
        row_of(&self.values, self.p, i)
    }

    /// Column j, copied.
    pub fn column(&self, j: usize) -> Vec<f64> {
        column_of(&self.values, self.n, self.p, j)
    }

    /// Whether the values are borrowed from the caller (no copy was made).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.values, Cow::Borrowed(_))
    }

    /// An owned [`Matrix`] (copies when borrowed).
    pub fn to_matrix(&self) -> Matrix {
        Matrix { n: self.n, p: self.p, values: self.values.to_vec() }
    }
}

impl<'a> From<&'a Matrix> for MatrixRef<'a> {
    fn from(m: &'a Matrix) -> Self {
        MatrixRef { n: m.n, p: m.p, values: Cow::Borrowed(&m.values) }
    }
}

impl<'a> From<&'a MatrixRef<'_>> for MatrixRef<'a> {
    fn from(m: &'a MatrixRef<'_>) -> Self {
        MatrixRef { n: m.n, p: m.p, values: Cow::Borrowed(&m.values) }
    }
}

impl<'a> From<ArrayView2<'a, f64>> for MatrixRef<'a> {
    fn from(a: ArrayView2<'a, f64>) -> Self {
        let (n, p) = a.dim();
        let values = match a.to_slice() {
            Some(row_major) => Cow::Borrowed(row_major),
            // logical (row-major) order whatever the strides
            None => Cow::Owned(a.iter().copied().collect()),
        };
        MatrixRef { n, p, values }
    }
}

impl<'a> From<&'a Array2<f64>> for MatrixRef<'a> {
    fn from(a: &'a Array2<f64>) -> Self {
        a.view().into()
    }
}

/// One number per unit as the public functions take it: a slice, a `Vec`, an array, or an
/// `ndarray` `Array1` / `ArrayView1` (borrowed when contiguous, copied otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct ColumnRef<'a>(Cow<'a, [f64]>);

impl ColumnRef<'_> {
    /// Whether the values are borrowed from the caller (no copy was made).
    pub fn is_borrowed(&self) -> bool {
        matches!(self.0, Cow::Borrowed(_))
    }
}

impl Deref for ColumnRef<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        &self.0
    }
}

impl<'a> From<&'a [f64]> for ColumnRef<'a> {
    fn from(v: &'a [f64]) -> Self {
        ColumnRef(Cow::Borrowed(v))
    }
}

impl<'a> From<&'a Vec<f64>> for ColumnRef<'a> {
    fn from(v: &'a Vec<f64>) -> Self {
        ColumnRef(Cow::Borrowed(v))
    }
}

impl<'a, const N: usize> From<&'a [f64; N]> for ColumnRef<'a> {
    fn from(v: &'a [f64; N]) -> Self {
        ColumnRef(Cow::Borrowed(v))
    }
}

impl<'a> From<ArrayView1<'a, f64>> for ColumnRef<'a> {
    fn from(a: ArrayView1<'a, f64>) -> Self {
        ColumnRef(match a.to_slice() {
            Some(v) => Cow::Borrowed(v),
            None => Cow::Owned(a.iter().copied().collect()),
        })
    }
}

impl<'a> From<&'a Array1<f64>> for ColumnRef<'a> {
    fn from(a: &'a Array1<f64>) -> Self {
        a.view().into()
    }
}

/// A least-squares solution.
#[derive(Debug, Clone)]
pub struct LeastSquares {
    /// Coefficients.
    pub coef: Vec<f64>,
    /// (R'R)^-1 = (X'WX)^-1, row-major p x p.
    pub unscaled_cov: Vec<f64>,
}

/// Columns found linearly dependent on earlier ones (0-based), if any.
#[derive(Debug, Clone, PartialEq)]
pub struct RankDeficient(pub Vec<usize>);

/// Rows per block of the tall-skinny QR: a block of sqrt(w)[X z] stays in cache.
const BLOCK: usize = 2048;

/// Householder QR in place of a column-major m x q matrix `a`; returns the q x q upper
/// triangle R (row-major), and the norm each column had left when its turn came (|R_jj|).
fn householder(a: &mut [f64], m: usize, q: usize) -> Vec<f64> {
    let mut r = vec![0.0; q * q];
    for j in 0..q.min(m) {
        let norm = dot_fast(&a[j * m + j..(j + 1) * m], &a[j * m + j..(j + 1) * m]).sqrt();
        if norm == 0.0 {
            continue;
        }
        let alpha = if a[j * m + j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j * m + j..(j + 1) * m].to_vec();
        v[0] -= alpha;
        let vnorm2 = dot_fast(&v, &v);
        if vnorm2 > 0.0 {
            for k in j..q {
                let ck = &mut a[k * m + j..(k + 1) * m];
                let dot = dot_fast(&v, ck);
                let f = 2.0 * dot / vnorm2;
                for (c, vi) in ck.iter_mut().zip(&v) {
                    *c -= f * vi;
                }
            }
        }
    }
    for j in 0..q.min(m) {
        for k in j..q {
            r[j * q + k] = a[k * m + j];
        }
    }
    r
}

/// The columns of `x` to keep when the later of linearly dependent columns are dropped, as R's
/// `lm` (and `glm`) drop them (`dqrdc2`'s limited pivoting): in order, a column is kept unless
/// its norm after removing the kept earlier ones (in the sqrt(`w`) metric, modified Gram-Schmidt
/// with reorthogonalisation) falls below `tol` (R: 1e-7) times its own norm. A column of zeros is dropped.
///
/// ```
/// use swp_stats::linalg::{independent_columns, Matrix};
/// // the third column is the sum of the first two; the fourth is new
/// let x = Matrix::from_rows(&[vec![1.0, 0.0, 1.0, 3.0], vec![1.0, 1.0, 2.0, 1.0], vec![1.0, 2.0, 3.0, 0.0]]);
/// assert_eq!(independent_columns(&x, &[1.0, 2.0, 1.0], 1e-7), vec![0, 1, 3]);
/// ```
pub fn independent_columns(x: &Matrix, w: &[f64], tol: f64) -> Vec<usize> {
    let sw: Vec<f64> = w.iter().map(|v| v.max(0.0).sqrt()).collect();
    let mut basis: Vec<Vec<f64>> = Vec::new();
    let mut kept = Vec::new();
    for j in 0..x.p {
        let mut v: Vec<f64> = (0..x.n).map(|i| x.at(i, j) * sw[i]).collect();
        let norm0 = dot_fast(&v, &v).sqrt();
        if norm0 == 0.0 {
            continue;
        }
        // "twice is enough" (Parlett, after Kahan): a second pass only when the first removed
        // most of the column
        let mut before = norm0;
        let mut norm = norm0;
        for _ in 0..2 {
            for b in &basis {
                let dot = dot_fast(&v, b);
                v.iter_mut().zip(b).for_each(|(a, c)| *a -= dot * c);
            }
            norm = dot_fast(&v, &v).sqrt();
            if norm > 0.5 * before {
                break;
            }
            before = norm;
        }
        if norm > tol * norm0 {
            v.iter_mut().for_each(|a| *a /= norm);
            basis.push(v);
            kept.push(j);
        }
    }
    kept
}

/// Weighted least squares: minimises sum w_i (z_i - x_i'b)^2 by QR of sqrt(w) [X z], as a
/// tall-skinny QR: blocks of rows are reduced to their R factors in parallel, then the stacked
/// factors once more (as stable as one Householder QR; the same R up to signs). A column whose
/// norm after removing earlier columns falls below `tol` times its own norm is reported as
/// dependent (R's `dqrdc2` rule, without moving it: the caller decides).
pub fn weighted_least_squares<'a>(
    x: impl Into<MatrixRef<'a>>,
    z: &[f64],
    w: &[f64],
    tol: f64,
) -> Result<LeastSquares, RankDeficient> {
    least_squares(&x.into(), z, w, tol)
}

fn least_squares(x: &MatrixRef<'_>, z: &[f64], w: &[f64], tol: f64) -> Result<LeastSquares, RankDeficient> {
    use rayon::prelude::*;
    let (n, p) = (x.n, x.p);
    let q = p + 1;
    let reduce = |rows: std::ops::Range<usize>| -> (Vec<f64>, Vec<f64>) {
        let m = rows.len();
        let mut a = vec![0.0; m * q];
        let mut norms = vec![0.0; p];
        for (local, i) in rows.enumerate() {
            let sw = w[i].sqrt();
            for (j, &v) in x.row(i).iter().enumerate() {
                let value = v * sw;
                a[j * m + local] = value;
                norms[j] += value * value;
            }
            a[p * m + local] = z[i] * sw;
        }
        (householder(&mut a, m, q), norms)
    };
    let blocks: Vec<(Vec<f64>, Vec<f64>)> =
        (0..n.div_ceil(BLOCK)).into_par_iter().map(|b| reduce(b * BLOCK..((b + 1) * BLOCK).min(n))).collect();
    // stack the blocks' R factors (q rows each) and reduce them once more
    let m = blocks.len() * q;
    let mut stacked = vec![0.0; m * q];
    let mut norms = vec![0.0; p];
    for (b, (r, block_norms)) in blocks.iter().enumerate() {
        for row in 0..q {
            for col in 0..q {
                stacked[col * m + b * q + row] = r[row * q + col];
            }
        }
        for (total, v) in norms.iter_mut().zip(block_norms) {
            *total += v;
        }
    }
    let full = householder(&mut stacked, m, q);
    let dependent: Vec<usize> = (0..p).filter(|&j| full[j * q + j].abs() <= tol * norms[j].sqrt()).collect();
    if !dependent.is_empty() {
        return Err(RankDeficient(dependent));
    }
    let mut r = vec![0.0; p * p];
    for i in 0..p {
        r[i * p..(i + 1) * p].copy_from_slice(&full[i * q..i * q + p]);
    }
    // back substitution R b = Q'z (the last column of the stacked factor)
    let mut coef = vec![0.0; p];
    for j in (0..p).rev() {
        let s: f64 = ((j + 1)..p).map(|k| r[j * p + k] * coef[k]).sum();
        coef[j] = (full[j * q + p] - s) / r[j * p + j];
    }
    Ok(LeastSquares { coef, unscaled_cov: r_inverse_crossprod(&r, p) })
}

/// X'WX and X'Wt of the rows of `x` with per-row weight and target `row(i) = (w_i, t_i)`:
/// blocks of rows summed in parallel, the blocks' sums added in block order (the same bits
/// for any number of threads). X'WX row-major p x p.
pub(crate) fn weighted_cross_products(
    x: &MatrixRef<'_>,
    row: impl Fn(usize) -> (f64, f64) + Sync,
) -> (Vec<f64>, Vec<f64>) {
    // the width as a constant for the common small designs, so each row's triangle is unrolled
    macro_rules! by_width {
        ($($p:literal)*) => {
            match x.p {
                $($p => cross_products_in_blocks::<$p>(x, &row),)*
                _ => cross_products_in_blocks::<0>(x, &row),
            }
        };
    }
    by_width!(1 2 3 4 5 6 7 8 9 10 11 12)
}

/// [`weighted_cross_products`] with the width `P` known when compiled (0: read from `x`).
fn cross_products_in_blocks<const P: usize>(
    x: &MatrixRef<'_>,
    row: &(impl Fn(usize) -> (f64, f64) + Sync),
) -> (Vec<f64>, Vec<f64>) {
    use rayon::prelude::*;
    let (n, p) = (x.n, x.p);
    let values: &[f64] = &x.values;
    let blocks: Vec<(Vec<f64>, Vec<f64>)> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|b| block_cross_products::<P>(values, p, b * BLOCK..((b + 1) * BLOCK).min(n), row))
        .collect();
    let (mut h, mut v) = (vec![0.0; p * p], vec![0.0; p]);
    for (bh, bv) in &blocks {
        h.iter_mut().zip(bh).for_each(|(a, b)| *a += b);
        v.iter_mut().zip(bv).for_each(|(a, b)| *a += b);
    }
    for a in 0..p {
        for b in 0..a {
            h[b * p + a] = h[a * p + b];
        }
    }
    (h, v)
}

/// One block's lower triangle of X'WX and X'Wt, rows added in order (four at a time). A separate function with
/// the width as an argument (not captured by a closure), so the compiler keeps it in a register.
fn block_cross_products<const P: usize>(
    values: &[f64],
    width: usize,
    rows: std::ops::Range<usize>,
    row: &impl Fn(usize) -> (f64, f64),
) -> (Vec<f64>, Vec<f64>) {
    let p = if P == 0 { width } else { P };
    let (mut h, mut v) = (vec![0.0; p * p], vec![0.0; p]);
    // four rows at a time: each entry of the triangle is loaded and stored once per four rows
    // (the pass is bound by those loads and stores, not by the arithmetic)
    let start = rows.start;
    let quads = (rows.end - start) / 4;
    for q in 0..quads {
        let i = start + 4 * q;
        let (w0, t0) = row(i);
        let (w1, t1) = row(i + 1);
        let (w2, t2) = row(i + 2);
        let (w3, t3) = row(i + 3);
        let x0 = &values[i * p..(i + 1) * p];
        let x1 = &values[(i + 1) * p..(i + 2) * p];
        let x2 = &values[(i + 2) * p..(i + 3) * p];
        let x3 = &values[(i + 3) * p..(i + 4) * p];
        for a in 0..p {
            let (wa0, wa1, wa2, wa3) = (w0 * x0[a], w1 * x1[a], w2 * x2[a], w3 * x3[a]);
            v[a] += (wa0 * t0 + wa1 * t1) + (wa2 * t2 + wa3 * t3);
            // five slices of one length: no bound checks in the loop, so it vectorises
            let row_a = &mut h[a * p..=a * p + a];
            let (y0, y1, y2, y3) = (&x0[..row_a.len()], &x1[..row_a.len()], &x2[..row_a.len()], &x3[..row_a.len()]);
            for b in 0..row_a.len() {
                row_a[b] += (wa0 * y0[b] + wa1 * y1[b]) + (wa2 * y2[b] + wa3 * y3[b]);
            }
        }
    }
    for i in start + 4 * quads..rows.end {
        let (w, t) = row(i);
        let xi = &values[i * p..(i + 1) * p];
        for (a, &xa) in xi.iter().enumerate() {
            let wa = w * xa;
            v[a] += wa * t;
            for (hb, &xb) in h[a * p..a * p + a + 1].iter_mut().zip(xi) {
                *hb += wa * xb;
            }
        }
    }
    (h, v)
}

/// The Cholesky factor L (row-major, lower) of a symmetric positive definite p x p matrix, or
/// None when a pivot L_jj falls below `min_ratio` times sqrt(h_jj): the column is that close to
/// the span of the earlier ones (|R_jj| over the column's norm in a QR of the rows), where the
/// normal equations lose too many digits and a QR should be used.
pub(crate) fn cholesky(h: &[f64], p: usize, min_ratio: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; p * p];
    for j in 0..p {
        let d = h[j * p + j] - (0..j).map(|k| l[j * p + k] * l[j * p + k]).sum::<f64>();
        // NaN fails the first test too
        if d.is_nan() || d <= 0.0 || d.sqrt() < min_ratio * h[j * p + j].sqrt() {
            return None;
        }
        let ljj = d.sqrt();
        l[j * p + j] = ljj;
        for i in j + 1..p {
            let s = h[i * p + j] - (0..j).map(|k| l[i * p + k] * l[j * p + k]).sum::<f64>();
            l[i * p + j] = s / ljj;
        }
    }
    Some(l)
}

/// Solves L L' b = v for the Cholesky factor L of [`cholesky`].
pub(crate) fn cholesky_solve(l: &[f64], v: &[f64]) -> Vec<f64> {
    let p = v.len();
    let mut y = vec![0.0; p];
    for i in 0..p {
        y[i] = (v[i] - (0..i).map(|k| l[i * p + k] * y[k]).sum::<f64>()) / l[i * p + i];
    }
    let mut b = vec![0.0; p];
    for i in (0..p).rev() {
        b[i] = (y[i] - (i + 1..p).map(|k| l[k * p + i] * b[k]).sum::<f64>()) / l[i * p + i];
    }
    b
}

/// (L L')^-1 for the Cholesky factor L of [`cholesky`]: L' is the R of a QR, so
/// [`r_inverse_crossprod`] of it.
pub(crate) fn cholesky_inverse(l: &[f64], p: usize) -> Vec<f64> {
    let mut r = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            r[j * p + i] = l[i * p + j];
        }
    }
    r_inverse_crossprod(&r, p)
}

/// (R'R)^-1 for upper-triangular R (p x p, row-major): R^-1 R^-T.
fn r_inverse_crossprod(r: &[f64], p: usize) -> Vec<f64> {
    let mut inv = vec![0.0; p * p];
    for j in 0..p {
        inv[j * p + j] = 1.0 / r[j * p + j];
        for i in (0..j).rev() {
            let s: f64 = ((i + 1)..=j).map(|k| r[i * p + k] * inv[k * p + j]).sum();
            inv[i * p + j] = -s / r[i * p + i];
        }
    }
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            out[i * p + j] = (i.max(j)..p).map(|k| inv[i * p + k] * inv[j * p + k]).sum();
        }
    }
    out
}

/// Eigen-decomposition of a symmetric p x p matrix (cyclic Jacobi): eigenvalues and the
/// eigenvectors as columns (row-major p x p).
///
/// # Errors
/// [`StatsError::EigenNotConverged`] for a non-finite entry (sweeps 0), and when the
/// off-diagonal mass is still above 1e-10 of the matrix's (in squares, 1e-20) after 100 sweeps
/// or the result is not finite (cyclic Jacobi converges quadratically, in well under 20 sweeps
/// for finite input).
pub fn symmetric_eigen(m: &[f64], p: usize) -> Result<(Vec<f64>, Vec<f64>), StatsError> {
    const SWEEPS: usize = 100;
    let mut a = m.to_vec();
    let mut v = vec![0.0; p * p];
    for i in 0..p {
        v[i * p + i] = 1.0;
    }
    if m.iter().any(|x| !x.is_finite()) {
        return Err(StatsError::EigenNotConverged { size: p, sweeps: 0 });
    }
    let off_diagonal = |a: &[f64]| -> (f64, f64) {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * p + j].powi(2))
            .sum();
        (off, a.iter().map(|x| x * x).sum::<f64>().max(f64::MIN_POSITIVE))
    };
    for _sweep in 0..SWEEPS {
        let (off, scale) = off_diagonal(&a);
        if off <= 1e-30 * scale {
            break;
        }
        for k in 0..p {
            for l in (k + 1)..p {
                let akl = a[k * p + l];
                if akl == 0.0 {
                    continue;
                }
                let theta = (a[l * p + l] - a[k * p + k]) / (2.0 * akl);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for i in 0..p {
                    let (aik, ail) = (a[i * p + k], a[i * p + l]);
                    a[i * p + k] = c * aik - s * ail;
                    a[i * p + l] = s * aik + c * ail;
                }
                for i in 0..p {
                    let (aki, ali) = (a[k * p + i], a[l * p + i]);
                    a[k * p + i] = c * aki - s * ali;
                    a[l * p + i] = s * aki + c * ali;
                }
                for i in 0..p {
                    let (vik, vil) = (v[i * p + k], v[i * p + l]);
                    v[i * p + k] = c * vik - s * vil;
                    v[i * p + l] = s * vik + c * vil;
                }
            }
        }
    }
    // rounding can leave the off-diagonal mass just above the stopping rule for all the sweeps;
    // a failure is mass that is still not negligible, or a non-finite result
    let (off, scale) = off_diagonal(&a);
    if off.is_nan() || off > 1e-20 * scale || a.iter().chain(&v).any(|x| !x.is_finite()) {
        return Err(StatsError::EigenNotConverged { size: p, sweeps: SWEEPS });
    }
    Ok(((0..p).map(|i| a[i * p + i]).collect(), v))
}

/// Moore-Penrose pseudo-inverse of a symmetric positive semi-definite matrix: eigenvalues
/// below `tol` times the largest are treated as zero (as MASS::ginv's SVD rule).
///
/// # Errors
/// As [`symmetric_eigen`].
pub fn pseudo_inverse_psd(m: &[f64], p: usize, tol: f64) -> Result<Vec<f64>, StatsError> {
    let (values, vectors) = symmetric_eigen(m, p)?;
    let largest = values.iter().fold(0.0f64, |a, &b| a.max(b));
    let mut out = vec![0.0; p * p];
    for (k, &lambda) in values.iter().enumerate() {
        if lambda <= tol * largest || lambda <= 0.0 {
            continue;
        }
        for i in 0..p {
            for j in 0..p {
                out[i * p + j] += vectors[i * p + k] * vectors[j * p + k] / lambda;
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normal equations by Cholesky solve as the QR does on a well-conditioned design (to
    /// rounding), give (X'WX)^-1 alike, and decline a column close to the span of the others.
    #[test]
    fn normal_equations_agree_with_the_qr() {
        let mut rng = crate::rng::Rng::new(5, 9);
        let n = 5000;
        let rows: Vec<Vec<f64>> =
            (0..n).map(|_| vec![1.0, rng.normal(), f64::from(u8::from(rng.uniform() < 0.3))]).collect();
        let x = Matrix::from_rows(&rows);
        let z: Vec<f64> = rows.iter().map(|r| 0.5 + r[1] - 2.0 * r[2] + rng.normal()).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.1 + rng.uniform()).collect();
        let qr = weighted_least_squares(&x, &z, &w, 1e-7).unwrap();
        let xr: MatrixRef<'_> = (&x).into();
        let (h, v) = weighted_cross_products(&xr, |i| (w[i], z[i]));
        let l = cholesky(&h, 3, 1e-3).expect("well conditioned");
        for (a, b) in cholesky_solve(&l, &v).iter().zip(&qr.coef) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} against {b}");
        }
        for (a, b) in cholesky_inverse(&l, 3).iter().zip(&qr.unscaled_cov) {
            assert!((a - b).abs() <= 1e-12 * b.abs().max(1e-6), "{a} against {b}");
        }
        // the last column nearly the second (1e-4 apart): left to the QR
        let near: Vec<Vec<f64>> = rows.iter().map(|r| vec![r[0], r[1], r[1] + 1e-4 * r[2]]).collect();
        let xn = Matrix::from_rows(&near);
        let xn: MatrixRef<'_> = (&xn).into();
        let (h, _) = weighted_cross_products(&xn, |i| (w[i], z[i]));
        assert!(cholesky(&h, 3, 1e-3).is_none());
        assert!(cholesky(&h, 3, 1e-6).is_some());
    }

    #[test]
    fn least_squares_recovers_an_exact_fit_and_its_covariance() {
        // y = 1 + 2x on x = 0..4: exact; (X'X)^-1 for X = [1 x] is [[0.6, -0.2], [-0.2, 0.1]]
        let x = Matrix::from_rows(&(0..5).map(|i| vec![1.0, f64::from(i)]).collect::<Vec<_>>());
        let z: Vec<f64> = (0..5).map(|i| 1.0 + 2.0 * f64::from(i)).collect();
        let fit = weighted_least_squares(&x, &z, &[1.0; 5], 1e-7).unwrap();
        assert!((fit.coef[0] - 1.0).abs() < 1e-12 && (fit.coef[1] - 2.0).abs() < 1e-12);
        let expect = [0.6, -0.2, -0.2, 0.1];
        for (a, b) in fit.unscaled_cov.iter().zip(expect) {
            assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        }
    }

    #[test]
    fn a_dependent_column_is_reported() {
        let x =
            Matrix::from_rows(&(0..5).map(|i| vec![1.0, f64::from(i), 2.0 * f64::from(i) + 1.0]).collect::<Vec<_>>());
        let err = weighted_least_squares(&x, &[0.0, 1.0, 0.0, 1.0, 0.0], &[1.0; 5], 1e-7).unwrap_err();
        assert_eq!(err, RankDeficient(vec![2]));
    }

    #[test]
    fn pseudo_inverse_of_a_singular_matrix() {
        // [[1, 1], [1, 1]] has pseudo-inverse [[0.25, 0.25], [0.25, 0.25]]
        let pinv = pseudo_inverse_psd(&[1.0, 1.0, 1.0, 1.0], 2, 1e-10).unwrap();
        for v in pinv {
            assert!((v - 0.25).abs() < 1e-12);
        }
        // a regular one: [[2, 1], [1, 2]]^-1 = [[2, -1], [-1, 2]] / 3
        let inv = pseudo_inverse_psd(&[2.0, 1.0, 1.0, 2.0], 2, 1e-10).unwrap();
        let expect = [2.0 / 3.0, -1.0 / 3.0, -1.0 / 3.0, 2.0 / 3.0];
        for (a, b) in inv.iter().zip(expect) {
            assert!((a - b).abs() < 1e-12);
        }
    }
}

/// Eigen-decomposition of a symmetric p x p matrix in O(p^3) with a small constant: Householder
/// reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-type shifts
/// (Wilkinson and Reinsch 1971, Handbook for Automatic Computation II, "tred2" and "tql2";
/// Golub and Van Loan 2013, sections 8.3.1-8.3.3), accumulating the transformations.
/// Returns the eigenvalues and the eigenvectors as columns (row-major p x p), as
/// [`symmetric_eigen`] does, about 10 times faster on matrices of a few hundred rows.
pub fn symmetric_eigen_ql(m: &[f64], p: usize) -> (Vec<f64>, Vec<f64>) {
    if p == 0 {
        return (Vec::new(), Vec::new());
    }
    let t = EigenTransforms::new(m, p);
    (t.values.clone(), t.vectors())
}

/// sqrt(a^2 + b^2) without libm's hypot (several times slower): the plain sum of squares
/// when it neither overflows nor underflows, else scaled by the larger magnitude.
#[inline]
fn hypot(a: f64, b: f64) -> f64 {
    let sum = a * a + b * b;
    if sum.is_finite() && sum > 1e-290 {
        sum.sqrt()
    } else {
        let scale = a.abs().max(b.abs());
        if scale == 0.0 || !scale.is_finite() {
            return scale;
        }
        let (x, y) = (a / scale, b / scale);
        scale * (x * x + y * y).sqrt()
    }
}

/// A symmetric matrix's eigen-decomposition kept as the transformations that produce it (the
/// Householder reflectors of the tridiagonal reduction and the Givens rotations of the QL
/// iterations of [`symmetric_eigen_ql`], in the same order and with the same arithmetic), so
/// that f(M) v = V f(Lambda) V' v costs O(p^2) per vector instead of forming V, which costs
/// O(p^3) more than the eigenvalues: the path for a matrix function applied to a few vectors.
#[derive(Debug, Clone)]
pub struct EigenTransforms {
    p: usize,
    /// Eigenvalues, in the order of the (implicit) eigenvectors.
    pub values: Vec<f64>,
    reflectors: Reflectors,
    rotations: Vec<(u32, f64, f64)>,
}

/// Householder reflectors (start, beta, v), each I - beta v v' on the rows from `start`.
type Reflectors = Vec<(usize, f64, Vec<f64>)>;

/// The weights of the resolvent integral's nodes beyond one end of the trapezoid rule, summed
/// as geometric series, one per power of the tail's series: with node weights (2/pi) h e^s and
/// tau = e^(2s), power m's weights over the tail sum to (2/pi) h e^((1+2m) end) q / (1 - q),
/// q = e^(-(1+2m) h), where `end` is the first node's s below the range and minus the last
/// node's s above it.
pub(crate) fn tail_series(step: f64, end: f64, terms: usize) -> Vec<f64> {
    (0..terms)
        .map(|power| {
            let rate = (1 + 2 * power) as f64;
            let q = (-rate * step).exp();
            2.0 / std::f64::consts::PI * step * (rate * end).exp() * q / (1.0 - q)
        })
        .collect()
}

/// Q'z in place (the reflectors in order), or Qz (`reverse`: in reverse order).
fn reflect(reflectors: &Reflectors, z: &mut [f64], reverse: bool) {
    let one = |z: &mut [f64], (start, beta, v): &(usize, f64, Vec<f64>)| {
        let dot = dot_fast(&z[*start..], v) * beta;
        z[*start..].iter_mut().zip(v).for_each(|(a, b)| *a -= dot * b);
    };
    if reverse {
        reflectors.iter().rev().for_each(|r| one(z, r));
    } else {
        reflectors.iter().for_each(|r| one(z, r));
    }
}

/// A symmetric matrix reduced to tridiagonal form, T = Q'MQ with Q the product of Householder
/// reflectors (Golub and Van Loan 2013, section 8.3.1), kept as the reflectors: the first half
/// of [`EigenTransforms`], and on its own the way to a function of M applied to a few vectors
/// without the eigenvectors ([`Tridiagonal::inverse_sqrt`]).
#[derive(Debug, Clone)]
pub struct Tridiagonal {
    p: usize,
    /// T's diagonal.
    pub diagonal: Vec<f64>,
    /// T's off-diagonal: `off[i]` is T's entry (i + 1, i) (the last is 0).
    pub off: Vec<f64>,
    reflectors: Reflectors,
}

impl Tridiagonal {
    /// The reduction of the symmetric `m` (p x p, row-major; its lower triangle is read).
    pub fn new(m: &[f64], p: usize) -> Self {
        let mut a = m.to_vec();
        let mut reflectors = Vec::new();
        for k in 0..p.saturating_sub(2) {
            let x: Vec<f64> = (k + 1..p).map(|i| a[i * p + k]).collect();
            let norm = dot_fast(&x, &x).sqrt();
            if norm == 0.0 {
                continue;
            }
            let alpha = if x[0] > 0.0 { -norm } else { norm };
            let mut v = x;
            v[0] -= alpha;
            let vv = dot_fast(&v, &v);
            if vv == 0.0 {
                continue;
            }
            let beta = 2.0 / vv;
            let n = p - k - 1;
            // w = beta A22 v from A22's lower triangle: row r's entries left of the diagonal
            // serve w_r (a dot product) and, as the upper triangle's column r, w_c (an axpy)
            let mut w = vec![0.0; n];
            for r in 0..n {
                let start = (k + 1 + r) * p + k + 1;
                let left = &a[start..start + r];
                w[r] += dot_fast(left, &v[..r]) + a[start + r] * v[r];
                let vr = v[r];
                w[..r].iter_mut().zip(left).for_each(|(wc, arc)| *wc += arc * vr);
            }
            w.iter_mut().for_each(|x| *x *= beta);
            let kk = 0.5 * beta * dot_fast(&w, &v);
            for (wr, vr) in w.iter_mut().zip(&v) {
                *wr -= kk * vr;
            }
            // A22 -= v w' + w v', in the lower triangle
            for r in 0..n {
                let (vr, wr) = (v[r], w[r]);
                let start = (k + 1 + r) * p + k + 1;
                // three slices of one length, indexed: no bound checks, and no three-way zip
                let row = &mut a[start..=start + r];
                let (wc, vc) = (&w[..row.len()], &v[..row.len()]);
                for c in 0..row.len() {
                    row[c] -= vr * wc[c] + wr * vc[c];
                }
            }
            a[(k + 1) * p + k] = alpha;
            reflectors.push((k + 1, beta, v));
        }
        let diagonal: Vec<f64> = (0..p).map(|i| a[i * p + i]).collect();
        let off: Vec<f64> = (0..p).map(|i| if i + 1 < p { a[(i + 1) * p + i] } else { 0.0 }).collect();
        Tridiagonal { p, diagonal, off, reflectors }
    }

    /// Whether every eigenvalue lies above `floor`.
    pub fn is_above(&self, floor: f64) -> bool {
        self.count_below(floor) == 0
    }

    /// How many eigenvalues of T lie below `sigma` (Sylvester's law of inertia: the negative
    /// pivots of the LDL' factorisation of T - sigma I; Golub and Van Loan 2013, section 8.4.1).
    fn count_below(&self, sigma: f64) -> usize {
        let mut count = 0;
        let mut q = 1.0;
        for i in 0..self.p {
            let coupling = if i == 0 { 0.0 } else { self.off[i - 1] * self.off[i - 1] / q };
            q = self.diagonal[i] - sigma - coupling;
            if q == 0.0 {
                q = -f64::EPSILON * (self.diagonal[i].abs() + sigma.abs()).max(f64::MIN_POSITIVE);
            }
            if q < 0.0 {
                count += 1;
            }
        }
        count
    }

    /// M^(-1/2) applied to each of `ys`, when every eigenvalue of M is above `floor` (None
    /// otherwise: the caller decomposes M and takes a Moore-Penrose inverse), by the resolvent
    /// integral M^(-1/2) = (2/pi) int_0^inf (M + t^2 I)^-1 dt (Higham 2008, "Functions of
    /// Matrices", section 7.3; Hale, Higham and Trefethen 2008) on T, where each resolvent is a
    /// tridiagonal solve in O(p): O(p) per node instead of the QL iterations' O(p^2) of
    /// serial square roots and divisions. With t = e^s, the trapezoid rule of step h = 0.25 in
    /// s (error about exp(-pi^2 / h), 1e-17 relative: below rounding) over the eigenvalues' range widened by
    /// 2.5 on each side; beyond it the nodes are summed in closed form, as power series in T^-1
    /// below the range and in T above it, each power's weights a geometric series (the terms
    /// fall by e^-5 each: seven leave 1e-15). The range: above, Gershgorin's bound; below, the
    /// smallest power of 2 under it that no eigenvalue falls below (counted by the signs of the LDL'
    /// pivots of T - sigma I, Sylvester's law of inertia).
    pub fn inverse_sqrt(&self, ys: &[&[f64]], floor: f64) -> Option<Vec<Vec<f64>>> {
        const STEP: f64 = 0.25;
        const TAIL: f64 = 2.5;
        const TERMS: usize = 7;
        let p = self.p;
        if p == 0 {
            return Some(ys.iter().map(|_| Vec::new()).collect());
        }
        let (d, e) = (&self.diagonal, &self.off);
        let high = (0..p)
            .map(|i| d[i] + e[i].abs() + if i > 0 { e[i - 1].abs() } else { 0.0 })
            .fold(f64::NEG_INFINITY, f64::max);
        if !(high.is_finite() && high > floor && self.is_above(floor)) {
            return None;
        }
        // the largest high / 2^j at or below the smallest eigenvalue: j between 0 and the
        // power that reaches the floor (no eigenvalue below it)
        let (mut fine, mut coarse) = (0i32, ((high / floor).log2().ceil() as i32).max(1));
        while coarse - fine > 1 {
            let mid = (fine + coarse) / 2;
            if self.count_below(high * 2f64.powi(-mid)) == 0 {
                coarse = mid;
            } else {
                fine = mid;
            }
        }
        let low = high * 2f64.powi(-coarse);
        let (from, to) = (0.5 * low.ln() - TAIL, 0.5 * high.ln() + TAIL);
        let count = ((to - from) / STEP).ceil() as usize + 1;
        let last = from + (count - 1) as f64 * STEP;
        let (below, above) = (tail_series(STEP, from, TERMS), tail_series(STEP, -last, TERMS));
        let mut inner: Vec<Vec<f64>> = ys.iter().map(|y| y.to_vec()).collect();
        inner.iter_mut().for_each(|z| reflect(&self.reflectors, z, false));
        let mut out = vec![vec![0.0; p]; ys.len()];
        // T^-1 z, by T = L D L' (positive definite: no pivoting), factorised once for the
        // lower tail's powers
        let mut pivot = vec![0.0; p];
        let mut multiplier = vec![0.0; p];
        pivot[0] = d[0];
        for i in 1..p {
            multiplier[i - 1] = e[i - 1] / pivot[i - 1];
            pivot[i] = d[i] - multiplier[i - 1] * e[i - 1];
        }
        let solve = |z: &[f64]| -> Vec<f64> {
            let mut x = z.to_vec();
            for i in 1..p {
                x[i] -= multiplier[i - 1] * x[i - 1];
            }
            x.iter_mut().zip(&pivot).for_each(|(v, l)| *v /= l);
            for i in (0..p - 1).rev() {
                x[i] -= multiplier[i] * x[i + 1];
            }
            x
        };
        // the nodes side by side: at each row the nodes' factorisations and substitutions are
        // independent, so they proceed together (row-major rows x nodes) rather than each
        // node's chain of divisions waiting on the last
        let taus: Vec<f64> = (0..count).map(|j| (2.0 * (from + j as f64 * STEP)).exp()).collect();
        let weights: Vec<f64> =
            (0..count).map(|j| 2.0 / std::f64::consts::PI * STEP * (from + j as f64 * STEP).exp()).collect();
        // 1 / pivot and the multipliers e_i / pivot_i of each node's L D L'
        let mut inverse_pivot = vec![0.0; p * count];
        let mut multipliers = vec![0.0; p * count];
        for (node, tau) in taus.iter().enumerate() {
            inverse_pivot[node] = 1.0 / (d[0] + tau);
        }
        for i in 1..p {
            let (done, rest) = inverse_pivot.split_at_mut(i * count);
            let previous = &done[(i - 1) * count..];
            let m = &mut multipliers[(i - 1) * count..i * count];
            for node in 0..count {
                m[node] = e[i - 1] * previous[node];
                rest[node] = 1.0 / (d[i] + taus[node] - m[node] * e[i - 1]);
            }
        }
        let mut x = vec![0.0; p * count];
        for (z, y) in inner.iter().zip(out.iter_mut()) {
            x[..count].fill(z[0]);
            for i in 1..p {
                let (done, rest) = x.split_at_mut(i * count);
                let previous = &done[(i - 1) * count..];
                let m = &multipliers[(i - 1) * count..i * count];
                for node in 0..count {
                    rest[node] = z[i] - m[node] * previous[node];
                }
            }
            x.iter_mut().zip(&inverse_pivot).for_each(|(v, l)| *v *= l);
            for i in (0..p - 1).rev() {
                let (head, tail) = x.split_at_mut((i + 1) * count);
                let (current, next) = (&mut head[i * count..], &tail[..count]);
                let m = &multipliers[i * count..(i + 1) * count];
                for node in 0..count {
                    current[node] -= m[node] * next[node];
                }
            }
            for (i, yi) in y.iter_mut().enumerate() {
                *yi += dot_fast(&weights, &x[i * count..(i + 1) * count]);
            }
        }
        // below the range: sum_m (-1)^m below[m] T^-(1+m) z
        let mut power = inner.clone();
        for (m, weight) in below.iter().enumerate() {
            power = power.iter().map(|z| solve(z)).collect();
            let signed = if m % 2 == 0 { *weight } else { -weight };
            for (y, z) in out.iter_mut().zip(&power) {
                y.iter_mut().zip(z).for_each(|(a, b)| *a += signed * b);
            }
        }
        // above it: sum_m (-1)^m above[m] T^m z
        let times = |z: &[f64]| -> Vec<f64> {
            (0..p)
                .map(|i| {
                    d[i] * z[i]
                        + if i + 1 < p { e[i] * z[i + 1] } else { 0.0 }
                        + if i > 0 { e[i - 1] * z[i - 1] } else { 0.0 }
                })
                .collect()
        };
        let mut power = inner;
        for (m, weight) in above.iter().enumerate() {
            if m > 0 {
                power = power.iter().map(|z| times(z)).collect();
            }
            let signed = if m % 2 == 0 { *weight } else { -weight };
            for (y, z) in out.iter_mut().zip(&power) {
                y.iter_mut().zip(z).for_each(|(a, b)| *a += signed * b);
            }
        }
        out.iter_mut().for_each(|y| reflect(&self.reflectors, y, true));
        Some(out)
    }
}

impl EigenTransforms {
    /// The decomposition of the symmetric `m` (p x p, row-major).
    pub fn new(m: &[f64], p: usize) -> Self {
        Self::from_tridiagonal(Tridiagonal::new(m, p))
    }

    /// The QL iterations on a reduction already made.
    pub fn from_tridiagonal(t: Tridiagonal) -> Self {
        let Tridiagonal { p, diagonal: mut d, off: mut e, reflectors } = t;
        let mut rotations = Vec::new();
        for l in 0..p {
            let mut iterations = 0;
            loop {
                let mut mm = l;
                while mm + 1 < p {
                    let scale = d[mm].abs() + d[mm + 1].abs();
                    if e[mm].abs() <= f64::EPSILON * scale {
                        break;
                    }
                    mm += 1;
                }
                if mm == l || iterations >= 60 {
                    break;
                }
                iterations += 1;
                let mut g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                let mut r = hypot(g, 1.0);
                g = d[mm] - d[l] + e[l] / (g + if g >= 0.0 { r } else { -r });
                let (mut s, mut c, mut shift) = (1.0f64, 1.0f64, 0.0f64);
                let mut i = mm;
                let mut early = false;
                while i > l {
                    i -= 1;
                    let f = s * e[i];
                    let b = c * e[i];
                    r = hypot(f, g);
                    e[i + 1] = r;
                    if r == 0.0 {
                        d[i + 1] -= shift;
                        e[mm] = 0.0;
                        early = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - shift;
                    r = (d[i] - g) * s + 2.0 * c * b;
                    shift = s * r;
                    d[i + 1] = g + shift;
                    g = c * r - b;
                    rotations.push((i as u32, c, s));
                }
                if early {
                    continue;
                }
                d[l] -= shift;
                e[l] = g;
                e[mm] = 0.0;
            }
        }
        EigenTransforms { p, values: d, reflectors, rotations }
    }

    /// The eigenvectors as columns (row-major): Q accumulated from the identity, each reflector
    /// then each rotation in the order the decomposition made them (the arithmetic of forming
    /// Q alongside the reduction, as [`symmetric_eigen_ql`] returns it).
    pub fn vectors(&self) -> Vec<f64> {
        let p = self.p;
        let mut q = vec![0.0; p * p];
        for i in 0..p {
            q[i * p + i] = 1.0;
        }
        for (start, beta, v) in &self.reflectors {
            for row in 0..p {
                let r = &mut q[row * p + start..row * p + p];
                let qv: f64 = r.iter().zip(v).map(|(a, b)| a * b).sum::<f64>() * beta;
                r.iter_mut().zip(v).for_each(|(a, b)| *a -= qv * b);
            }
        }
        for &(i, c, s) in &self.rotations {
            let i = i as usize;
            for row in 0..p {
                let zi1 = q[row * p + i + 1];
                let zi = q[row * p + i];
                q[row * p + i + 1] = s * zi + c * zi1;
                q[row * p + i] = c * zi - s * zi1;
            }
        }
        q
    }

    /// V diag(scale) V' y, for `scale` one factor per eigenvalue of [`EigenTransforms::values`].
    pub fn apply(&self, scale: &[f64], y: &[f64]) -> Vec<f64> {
        let mut z = y.to_vec();
        // V' y: the reflectors in order, then the rotations' transposes in order
        reflect(&self.reflectors, &mut z, false);
        for &(i, c, s) in &self.rotations {
            let i = i as usize;
            let (zi, zi1) = (z[i], z[i + 1]);
            z[i] = c * zi - s * zi1;
            z[i + 1] = s * zi + c * zi1;
        }
        z.iter_mut().zip(scale).for_each(|(a, f)| *a *= f);
        // V z: the rotations in reverse, then the reflectors in reverse
        for &(i, c, s) in self.rotations.iter().rev() {
            let i = i as usize;
            let (zi, zi1) = (z[i], z[i + 1]);
            z[i] = c * zi + s * zi1;
            z[i + 1] = -s * zi + c * zi1;
        }
        reflect(&self.reflectors, &mut z, true);
        debug_assert_eq!(z.len(), self.p);
        z
    }
}

/// Eigen-decomposition of `diag(d) - rho z z'` with `d` strictly increasing, every `z_i`
/// non-zero and `rho > 0`, in O(m^2): the eigenvalues are the roots of the secular equation
/// `1 = rho sum_i z_i^2 / (d_i - mu)`, one below `d_0` and one in each `(d_{j-1}, d_j)`
/// (Golub 1973, "Some modified matrix eigenvalue problems"); each root is found by Newton's
/// method safeguarded by bisection, on its offset from the nearer pole, so that `d_i - mu` is
/// computed without cancellation, and the
/// eigenvectors come from `z` recomputed from the roots by Löwner's formula, which keeps them
/// orthogonal to working precision (Gu and Eisenstat 1994, "A stable and efficient algorithm
/// for the rank-one modification of the symmetric eigenproblem"). Same layout as
/// [`symmetric_eigen_ql`]: eigenvalues (increasing) and eigenvectors as columns, row-major.
pub fn diagonal_minus_rank_one_eigen(d: &[f64], z: &[f64], rho: f64) -> (Vec<f64>, Vec<f64>) {
    let m = d.len();
    // each root as (origin pole index, offset tau): mu = d[origin] + tau
    let norm2: f64 = z.iter().map(|v| v * v).sum();
    // g(tau) and g'(tau) at mu = d[origin] + tau
    let secular = |origin: usize, tau: f64| -> (f64, f64) {
        let (mut s, mut ds) = (0.0, 0.0);
        for i in 0..m {
            let r = 1.0 / ((d[i] - d[origin]) - tau);
            let t = z[i] * z[i] * r;
            s += t;
            ds += t * r;
        }
        (1.0 - rho * s, -rho * ds)
    };
    let mut roots: Vec<(usize, f64)> = Vec::with_capacity(m);
    for j in 0..m {
        // g decreases from +inf (or 1) to -inf over the interval; bracket tau around the origin
        let (origin, mut lo, mut hi) = if j == 0 {
            (0, -rho * norm2 * (1.0 + 1e-12) - f64::MIN_POSITIVE, 0.0)
        } else {
            let gap = d[j] - d[j - 1];
            if secular(j - 1, gap / 2.0).0 < 0.0 {
                (j - 1, 0.0, gap / 2.0)
            } else {
                (j, -gap / 2.0, 0.0)
            }
        };
        // Newton's method kept inside the bracket (a bisection step when it would leave it);
        // g decreases, so its sign moves the bracket
        let mut tau = lo + (hi - lo) / 2.0;
        for _ in 0..200 {
            let (g, dg) = secular(origin, tau);
            if g > 0.0 {
                lo = tau;
            } else if g < 0.0 {
                hi = tau;
            } else {
                break;
            }
            let newton = tau - g / dg;
            let next = if newton > lo && newton < hi && newton.is_finite() { newton } else { lo + (hi - lo) / 2.0 };
            if (next - tau).abs() <= 2.0 * f64::EPSILON * tau.abs() || next <= lo || next >= hi {
                tau = next.clamp(lo, hi);
                break;
            }
            tau = next;
        }
        roots.push((origin, tau));
    }
    // mu_j - d_k without cancellation
    let gap = |j: usize, k: usize| -> f64 {
        let (origin, tau) = roots[j];
        (d[origin] - d[k]) + tau
    };
    // Löwner: z_k^2 = -(mu_k - d_k) / rho * prod_{j != k} (mu_j - d_k) / (d_j - d_k)
    let z_hat: Vec<f64> = (0..m)
        .map(|k| {
            let mut v = -gap(k, k) / rho;
            for j in 0..m {
                if j != k {
                    v *= gap(j, k) / (d[j] - d[k]);
                }
            }
            v.max(0.0).sqrt().copysign(z[k])
        })
        .collect();
    let mut vectors = vec![0.0; m * m];
    for j in 0..m {
        let column: Vec<f64> = (0..m).map(|i| z_hat[i] / -gap(j, i)).collect();
        let norm = column.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (i, v) in column.iter().enumerate() {
            vectors[i * m + j] = v / norm;
        }
    }
    let values = (0..m).map(|j| d[roots[j].0] + roots[j].1).collect();
    (values, vectors)
}

#[cfg(test)]
mod eigen_tests {
    /// f(M) y through the kept transformations equals V diag(f) V' y with the eigenvectors
    /// formed, for a random symmetric matrix (with a repeated eigenvalue: a projection added).
    #[test]
    fn eigen_transforms_apply_the_function_of_the_matrix() {
        let mut rng = crate::rng::Rng::new(5, 0);
        for p in [1usize, 2, 3, 17, 60] {
            let b: Vec<f64> = (0..p * p).map(|_| rng.normal()).collect();
            let mut m = vec![0.0; p * p];
            for i in 0..p {
                for j in 0..p {
                    m[i * p + j] =
                        (0..p).map(|k| b[i * p + k] * b[j * p + k]).sum::<f64>() + f64::from(u8::from(i == j));
                }
            }
            let t = EigenTransforms::new(&m, p);
            let (values, vectors) = symmetric_eigen_ql(&m, p);
            assert_eq!(t.values, values);
            let scale: Vec<f64> = values.iter().map(|l| 1.0 / l.sqrt()).collect();
            let y: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
            let ours = t.apply(&scale, &y);
            for r in 0..p {
                let direct: f64 = (0..p)
                    .map(|l| vectors[r * p + l] * scale[l] * (0..p).map(|q| vectors[q * p + l] * y[q]).sum::<f64>())
                    .sum();
                assert!(
                    (ours[r] - direct).abs() <= 1e-10 * direct.abs().max(1.0),
                    "p {p} row {r}: {} vs {direct}",
                    ours[r]
                );
            }
        }
    }

    use super::*;
    use crate::rng::Rng;

    /// The tridiagonal resolvent quadrature of M^(-1/2) y equals the decomposition's
    /// V diag(lambda^(-1/2)) V' y to 1e-14 times the eigenvalues' spread (both are exact up to
    /// the rounding of M's entries; measured: 1e-16 to 1e-17 times it), for matrices whose eigenvalues span up to
    /// ten orders (diag(theta^2) minus a low-rank term, as a cluster's CR2 matrix), of sizes
    /// 1 to 150; and declines a matrix with an eigenvalue under the floor.
    #[test]
    fn tridiagonal_quadrature_equals_the_decomposition() {
        let mut rng = Rng::new(29, 0);
        for (p, orders) in [(1usize, 0.0), (2, 1.0), (5, 3.0), (40, 2.0), (67, 4.0), (150, 6.0), (90, 10.0)] {
            // B = diag(theta^2) + c c' (positive definite), theta's logs spread over `orders`
            let theta2: Vec<f64> = (0..p).map(|_| 10f64.powf(orders * rng.uniform())).collect();
            let c: Vec<f64> = (0..p * 3).map(|_| rng.normal()).collect();
            let mut m = vec![0.0; p * p];
            for i in 0..p {
                for j in 0..p {
                    let low_rank: f64 = (0..3).map(|r| c[i * 3 + r] * c[j * 3 + r]).sum();
                    m[i * p + j] = low_rank + if i == j { theta2[i] } else { 0.0 };
                }
            }
            let y: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
            let y2: Vec<f64> = (0..p).map(|_| rng.normal()).collect();
            let decomposed = EigenTransforms::new(&m, p);
            let scale: Vec<f64> = decomposed.values.iter().map(|l| 1.0 / l.sqrt()).collect();
            let expected = [decomposed.apply(&scale, &y), decomposed.apply(&scale, &y2)];
            let got = Tridiagonal::new(&m, p).inverse_sqrt(&[&y, &y2], 1e-8).expect("above the floor");
            for (ours, theirs) in got.iter().zip(&expected) {
                let norm = theirs.iter().map(|v| v * v).sum::<f64>().sqrt();
                let error = ours.iter().zip(theirs).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
                // both are exact to rounding in M's entries, which moves an eigenvalue by about
                // eps times the largest: relative to the smallest, eps times the spread
                let kappa = decomposed.values.iter().fold(0.0f64, |a, &l| a.max(l))
                    / decomposed.values.iter().fold(f64::INFINITY, |a, &l| a.min(l));
                assert!(
                    error <= 1e-14 * norm * kappa.max(100.0),
                    "p {p}, {orders} orders: error {error:e} of {norm:e}"
                );
            }
        }
        // a singular matrix (rank one): refused
        let m = [1.0, 1.0, 1.0, 1.0];
        assert!(!Tridiagonal::new(&m, 2).is_above(1e-8));
        assert!(Tridiagonal::new(&m, 2).inverse_sqrt(&[&[1.0, 0.0]], 1e-8).is_none());
    }

    #[test]
    fn ql_eigen_reconstructs_symmetric_matrices_and_agrees_with_jacobi() {
        let mut rng = Rng::new(11, 0);
        for &p in &[1usize, 2, 3, 7, 40] {
            let mut m = vec![0.0; p * p];
            for i in 0..p {
                for j in 0..=i {
                    let v = rng.normal();
                    m[i * p + j] = v;
                    m[j * p + i] = v;
                }
            }
            // a repeated eigenvalue: add a multiple of the identity to a low-rank matrix too
            let (values, vectors) = symmetric_eigen_ql(&m, p);
            for i in 0..p {
                for j in 0..p {
                    let back: f64 = (0..p).map(|l| vectors[i * p + l] * values[l] * vectors[j * p + l]).sum();
                    assert!((back - m[i * p + j]).abs() < 1e-10, "p {p}: V L V' differs at ({i}, {j})");
                    let dot: f64 = (0..p).map(|l| vectors[l * p + i] * vectors[l * p + j]).sum();
                    assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-10, "p {p}: V not orthogonal");
                }
            }
            let (mut jacobi, _) = symmetric_eigen(&m, p).unwrap();
            let mut ql = values.clone();
            jacobi.sort_by(f64::total_cmp);
            ql.sort_by(f64::total_cmp);
            for (a, b) in jacobi.iter().zip(&ql) {
                assert!((a - b).abs() < 1e-10);
            }
        }
        // diagonal plus rank one, with ties (the CR2 adjustment's shape)
        let p = 6;
        let u = [1.0, 2.0, 0.5, 1.0, 0.0, 3.0];
        let mut m = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                m[i * p + j] = -0.1 * u[i] * u[j] + if i == j { [2.0, 2.0, 1.0, 1.0, 3.0, 2.0][i] } else { 0.0 };
            }
        }
        let (values, vectors) = symmetric_eigen_ql(&m, p);
        for i in 0..p {
            for j in 0..p {
                let back: f64 = (0..p).map(|l| vectors[i * p + l] * values[l] * vectors[j * p + l]).sum();
                assert!((back - m[i * p + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn diagonal_minus_rank_one_agrees_with_ql_including_close_poles() {
        let mut rng = Rng::new(5, 0);
        for &(m, close) in &[(1usize, false), (2, false), (5, false), (60, false), (60, true), (300, true)] {
            let mut d: Vec<f64> = (0..m).map(|_| 0.01 + rng.uniform() * 10.0).collect();
            if close {
                // poles 1e-13 apart, and a z_i far smaller than the rest
                for i in (0..m).step_by(7) {
                    d[i] = d[(i + 1) % m] * (1.0 + 1e-13);
                }
            }
            d.sort_by(f64::total_cmp);
            d.dedup();
            let m = d.len();
            let mut z: Vec<f64> = (0..m).map(|_| rng.normal()).collect();
            if close {
                z[m / 2] = 1e-9;
            }
            let rho = 1.0 / z.iter().map(|v| v * v).sum::<f64>() * 0.999;
            let dense: Vec<f64> = (0..m * m)
                .map(|k| {
                    let (i, j) = (k / m, k % m);
                    (if i == j { d[i] } else { 0.0 }) - rho * z[i] * z[j]
                })
                .collect();
            let (values, vectors) = diagonal_minus_rank_one_eigen(&d, &z, rho);
            let (ql, _) = symmetric_eigen_ql(&dense, m);
            let mut ql = ql;
            ql.sort_by(f64::total_cmp);
            let scale = d.iter().fold(0.0f64, |a, b| a.max(b.abs()));
            for (a, b) in values.iter().zip(&ql) {
                assert!((a - b).abs() < 1e-12 * scale, "m {m}: eigenvalue {a} vs {b}");
            }
            for i in 0..m {
                for j in 0..m {
                    let back: f64 = (0..m).map(|l| vectors[i * m + l] * values[l] * vectors[j * m + l]).sum();
                    assert!((back - dense[i * m + j]).abs() < 1e-11 * scale, "m {m}: V L V' at ({i}, {j})");
                    let dot: f64 = (0..m).map(|l| vectors[l * m + i] * vectors[l * m + j]).sum();
                    assert!((dot - f64::from(u8::from(i == j))).abs() < 1e-11, "m {m}: V not orthogonal");
                }
            }
        }
    }

    /// A matrix with a non-finite entry is an error naming the failure, not NaN eigenvalues.
    #[test]
    fn jacobi_reports_non_convergence_instead_of_returning_nan() {
        let e = symmetric_eigen(&[1.0, f64::NAN, f64::NAN, 1.0], 2).unwrap_err();
        assert_eq!(e, StatsError::EigenNotConverged { size: 2, sweeps: 0 });
        assert!(e.to_string().contains("non-finite"));
        assert!(pseudo_inverse_psd(&[f64::INFINITY, 0.0, 0.0, 1.0], 2, 1e-10).is_err());
        assert!(symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2).is_ok());
    }
}
