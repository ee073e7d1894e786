//! Confidence intervals against known values.

use analysis::stats::{describe, t_quantile_975};

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

#[test]
fn t_quantiles_match_tables() {
    for (df, t) in [
        (1, 12.7062),
        (4, 2.7764),
        (9, 2.2622),
        (29, 2.0452),
        (1000, 1.9623),
    ] {
        let q = t_quantile_975(df).unwrap();
        assert!(close(q, t, 1e-4), "df {df}: {q} vs {t}");
    }
}

#[test]
fn ci_of_a_known_sample() {
    // 1..=5: mean 3, sd sqrt(2.5), half-width t(0.975, 4) * sd / sqrt(5) = 1.96324
    let s = describe(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
    assert_eq!(s.n, 5);
    assert!(close(s.mean, 3.0, 1e-12));
    assert!(close(s.sd.unwrap(), 2.5f64.sqrt(), 1e-12));
    assert!(close(s.ci95.unwrap(), 1.963_243, 1e-5), "{:?}", s.ci95);
    assert!(close(s.ci_low(), 1.036_757, 1e-5));
    assert!(close(s.ci_high(), 4.963_243, 1e-5));
    assert_eq!((s.min, s.max), (1.0, 5.0));
}

#[test]
fn small_and_degenerate_samples() {
    assert!(describe(&[]).is_none());
    assert!(describe(&[f64::NAN]).is_none());
    let one = describe(&[7.0]).unwrap();
    assert_eq!((one.n, one.mean, one.sd, one.ci95), (1, 7.0, None, None));
    let same = describe(&[2.0, 2.0, 2.0]).unwrap();
    assert_eq!(same.ci95, Some(0.0));
}
