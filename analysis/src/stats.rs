//! Descriptive statistics: mean, sample standard deviation and the 95 % confidence
//! interval of the mean by Student's t (statrs), for the migration phases and every
//! numeric probe metric, per application x network scenario.

use record::RunSummary;
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, StudentsT};
use std::collections::BTreeMap;

/// Statistics of one metric over the runs of a condition.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n - 1); `None` for n < 2.
    pub sd: Option<f64>,
    /// Half-width of the 95 % confidence interval of the mean; `None` for n < 2.
    pub ci95: Option<f64>,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Stats {
    /// Lower end of the 95 % interval (the mean when there is none).
    pub fn ci_low(&self) -> f64 {
        self.mean - self.ci95.unwrap_or(0.0)
    }
    /// Upper end of the 95 % interval (the mean when there is none).
    pub fn ci_high(&self) -> f64 {
        self.mean + self.ci95.unwrap_or(0.0)
    }
}

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom.
pub fn t_quantile_975(df: usize) -> Option<f64> {
    let t = StudentsT::new(0.0, 1.0, df as f64).ok()?;
    let q = t.inverse_cdf(0.975);
    q.is_finite().then_some(q)
}

/// Mean, sd and 95 % CI of the finite values; `None` when there are none.
pub fn describe(values: &[f64]) -> Option<Stats> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    let (sd, ci95) = if n >= 2 {
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let sd = var.sqrt();
        (
            Some(sd),
            t_quantile_975(n - 1).map(|t| t * sd / (n as f64).sqrt()),
        )
    } else {
        (None, None)
    };
    Some(Stats {
        n,
        mean,
        sd,
        ci95,
        min: v.iter().copied().fold(f64::INFINITY, f64::min),
        max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    })
}

/// The migration phases, in the order of the paper.
pub const PHASES: [&str; 4] = ["preoperation", "downtime", "postoperation", "total"];

/// A run's phase length by name (`preoperation`, `downtime`, `postoperation`, `total`), ms.
pub fn phase_ms(summary: &RunSummary, phase: &str) -> Option<f64> {
    let m = &summary.migration;
    match phase {
        "preoperation" => m.preoperation_ms,
        "downtime" => m.downtime_ms,
        "postoperation" => m.postoperation_ms,
        "total" => m.total_ms,
        _ => None,
    }
}

/// Every numeric value of a run: `migration.<phase>_ms`, `migration.passes`,
/// `migration.transferred_bytes` and `<probe>.<field>` for each numeric (or boolean,
/// as 0/1) field of each probe summary.
pub fn metrics_of(summary: &RunSummary) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    for p in PHASES {
        if let Some(v) = phase_ms(summary, p) {
            out.push((format!("migration.{p}_ms"), v));
        }
    }
    let m = &summary.migration;
    out.push(("migration.passes".into(), m.passes as f64));
    if let Some(b) = m.transferred_bytes {
        out.push(("migration.transferred_bytes".into(), b as f64));
    }
    for (name, probe) in &summary.probes {
        let Ok(serde_json::Value::Object(obj)) = serde_json::to_value(probe) else {
            continue;
        };
        for (k, x) in &obj {
            let num = match x {
                serde_json::Value::Number(n) => n.as_f64(),
                serde_json::Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
                _ => None,
            };
            if let Some(num) = num {
                out.push((format!("{name}.{k}"), num));
            }
        }
    }
    out
}

/// Statistics of every metric over a set of runs, keyed by metric name.
pub fn describe_runs<'a>(
    runs: impl IntoIterator<Item = &'a RunSummary>,
) -> BTreeMap<String, Stats> {
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for s in runs {
        for (k, v) in metrics_of(s) {
            values.entry(k).or_default().push(v);
        }
    }
    values
        .into_iter()
        .filter_map(|(k, v)| describe(&v).map(|s| (k, s)))
        .collect()
}
