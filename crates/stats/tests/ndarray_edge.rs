//! The public edge takes `ndarray` arrays and views: a standard-layout
//! (row-major) array is borrowed, not copied, and every other layout gives the same numbers as
//! the row-major [`Matrix`] holding the same values.

use swp_stats::balance::{balance_table, balance_table_of_matrix};
use swp_stats::bootstrap::{WildParams, WildProblem};
use swp_stats::design::{numeric_covariates, Covariate};
use swp_stats::glm::{Family, GlmParams};
use swp_stats::matching::{MatchData, MatchParams};
use swp_stats::ndarray::{Array1, Array2, ArrayView2, Axis, ShapeBuilder, Slice};
use swp_stats::regression::wls;
use swp_stats::rng::Rng;
use swp_stats::{ColumnRef, Matrix, MatrixRef, StatsError};

/// 200 units: an intercept and two covariates, a continuous outcome, a 0/1 treatment that
/// depends on the first covariate, 12 clusters.
struct Data {
    x: Matrix,
    y: Vec<f64>,
    treat: Vec<bool>,
    cluster: Vec<usize>,
}

fn data() -> Data {
    let mut rng = Rng::new(13, 5);
    let n = 200;
    let mut values = Vec::with_capacity(n * 3);
    let (mut y, mut treat, mut cluster) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let (a, b) = (rng.normal(), rng.uniform() * 4.0);
        values.extend([1.0, a, b]);
        y.push(0.5 + 1.5 * a - 0.25 * b + rng.normal());
        treat.push(rng.uniform() < 1.0 / (1.0 + (-(a - 0.5)).exp()));
        cluster.push(i % 12);
    }
    Data { x: Matrix { n, p: 3, values }, y, treat, cluster }
}

/// The same values in an `Array2` in standard (row-major) layout.
fn standard(m: &Matrix) -> Array2<f64> {
    m.clone().into_array().expect("n x p values")
}

/// The same values in Fortran (column-major) layout.
fn fortran(m: &Matrix) -> Array2<f64> {
    let column_major: Vec<f64> = (0..m.p).flat_map(|j| (0..m.n).map(move |i| m.at(i, j))).collect();
    Array2::from_shape_vec((m.n, m.p).f(), column_major).expect("n x p values")
}

#[test]
fn a_standard_layout_array_is_borrowed_and_other_layouts_are_copied_in_row_order() {
    let d = data();
    let a = standard(&d.x);
    let borrowed = MatrixRef::from(&a);
    assert!(borrowed.is_borrowed());
    assert_eq!(borrowed.values.as_ptr(), a.as_ptr(), "the array's own memory, not a copy");
    let f = fortran(&d.x);
    let copied = MatrixRef::from(&f);
    assert!(!copied.is_borrowed());
    assert_eq!(copied.to_matrix(), d.x);
    // a transposed view: p x n, copied in its own row order
    let t = MatrixRef::from(a.t());
    assert!(!t.is_borrowed());
    assert_eq!((t.n, t.p), (3, d.x.n));
    assert!((0..d.x.n).all(|i| (0..3).all(|j| t.at(j, i) == d.x.at(i, j))));
    // columns: contiguous borrowed, stepped copied in order
    let y = Array1::from(d.y.clone());
    assert!(ColumnRef::from(&y).is_borrowed());
    let every_other = ColumnRef::from(y.slice_axis(Axis(0), Slice::new(0, None, 2)));
    assert!(!every_other.is_borrowed());
    assert_eq!(&*every_other, &d.y.iter().step_by(2).copied().collect::<Vec<_>>()[..]);
}

#[test]
fn wls_and_the_glm_give_the_same_fit_from_arrays_of_any_layout_as_from_a_matrix() {
    let d = data();
    let y = Array1::from(d.y.clone());
    let from_matrix = wls(&d.x, &d.y, None).unwrap();
    for array in [standard(&d.x), fortran(&d.x)] {
        let fit = wls(&array, &y, None).unwrap();
        assert_eq!(fit.coef, from_matrix.coef);
        assert_eq!(fit.residuals, from_matrix.residuals);
        let fit = wls(array.view(), y.view(), Some(&vec![2.0; d.x.n])).unwrap();
        assert_eq!(fit.coef.len(), 3);
    }
    let names: Vec<String> = ["(Intercept)", "a", "b"].map(String::from).to_vec();
    let t: Vec<f64> = d.treat.iter().map(|&t| f64::from(u8::from(t))).collect();
    let logit = GlmParams::new(Family::Logit).check().unwrap();
    let from_matrix = logit.fit(&d.x, &names, &t, None).unwrap();
    let from_array = logit.fit(&fortran(&d.x), &names, &Array1::from(t.clone()), None).unwrap();
    assert_eq!(from_array.coef, from_matrix.coef);
    assert_eq!(from_array.se, from_matrix.se);
    assert!(from_matrix.coef[1] > 0.5, "treatment depends on a: {:?}", from_matrix.coef);
}

#[test]
fn the_wild_bootstrap_gives_the_same_test_from_an_array() {
    let d = data();
    let params = WildParams { reps: 999, ..WildParams::default() }.check().unwrap();
    let from_matrix = WildProblem::new(&d.x, &d.y, None, &d.cluster, 1).unwrap().test(0.0, &params);
    let a = standard(&d.x);
    let from_array = WildProblem::new(a.view(), &Array1::from(d.y.clone()), None, &d.cluster, 1).unwrap();
    assert_eq!(from_array.test(0.0, &params), from_matrix);
    assert!(from_matrix.p_value < 0.01, "a clear effect of a: {from_matrix:?}");
}

/// Columns 1.. (the covariates without the intercept): a view whose rows are not contiguous.
fn covariate_columns(a: &Array2<f64>) -> ArrayView2<'_, f64> {
    a.slice_axis(Axis(1), Slice::from(1..))
}

#[test]
fn matching_and_balance_take_the_covariates_as_a_matrix() {
    let d = data();
    let a = standard(&d.x);
    let covariates = numeric_covariates(&["a", "b"], covariate_columns(&a)).unwrap();
    let by_hand = [Covariate::numeric("a", d.x.column(1)), Covariate::numeric("b", d.x.column(2))];
    assert_eq!(covariates, by_hand);
    let params = MatchParams::new().caliper(Some(0.2)).check().unwrap();
    let from_array = params.run(&MatchData { treat: &d.treat, covariates: &covariates, exact: &[] }).unwrap();
    let from_columns = params.run(&MatchData { treat: &d.treat, covariates: &by_hand, exact: &[] }).unwrap();
    assert_eq!(from_array.match_matrix, from_columns.match_matrix);
    assert!(from_array.matched_treated() > 10);

    let table = balance_table_of_matrix(&["a", "b"], covariate_columns(&a), &d.treat, &from_array.weights).unwrap();
    let columns = vec![("a".to_string(), d.x.column(1)), ("b".to_string(), d.x.column(2))];
    assert_eq!(table, balance_table(&columns, &d.treat, &from_array.weights));
    assert!(table.after[0].smd.abs() < table.before[0].smd.abs(), "matching improves balance on a");
}

#[test]
fn names_that_are_not_one_per_column_and_inconsistent_matrices_are_refused() {
    let d = data();
    let a = standard(&d.x);
    assert!(matches!(numeric_covariates(&["a"], &a), Err(StatsError::LengthMismatch { .. })));
    let weights = vec![1.0; d.x.n];
    assert!(matches!(
        balance_table_of_matrix(&["a", "b"], &a, &d.treat, &weights),
        Err(StatsError::LengthMismatch { .. })
    ));
    let bad = Matrix { n: 3, p: 2, values: vec![1.0; 5] };
    assert!(matches!(bad.view(), Err(StatsError::LengthMismatch { .. })));
    assert!(matches!(bad.into_array(), Err(StatsError::LengthMismatch { .. })));
    assert_eq!(d.x.view().unwrap(), a.view());
}
