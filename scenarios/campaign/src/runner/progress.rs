//! Progress of a campaign: a bar with ETA on a terminal (indicatif), one line per
//! run otherwise, nothing with `quiet`.

use indicatif::{ProgressBar, ProgressStyle};
use record::RunSummary;
use std::io::IsTerminal;
use std::io::Write as _;
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar on a terminal, lines otherwise.
    Auto,
    /// One line per run on stderr.
    Lines,
    /// Nothing.
    Quiet,
}

/// The campaign's progress display.
pub struct Progress {
    mode: ProgressMode,
    bar: Option<ProgressBar>,
    total: usize,
    done: usize,
    started: Instant,
}

impl Progress {
    /// A display for `total` runs to do.
    pub fn new(mode: ProgressMode, total: usize) -> Self {
        let bar = (mode == ProgressMode::Auto && std::io::stderr().is_terminal()).then(|| {
            let b = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template(
                "{bar:30} {pos}/{len} runs  {elapsed} elapsed, ETA {eta}  {msg}",
            ) {
                b.set_style(style);
            }
            b.enable_steady_tick(Duration::from_millis(250));
            b
        });
        Self {
            mode,
            bar,
            total,
            done: 0,
            started: Instant::now(),
        }
    }

    /// A run starts.
    pub fn start(&self, label: &str) {
        if let Some(b) = &self.bar {
            b.set_message(label.to_string());
        }
    }

    /// A run ended.
    pub fn finish_run(&mut self, label: &str, s: &RunSummary) {
        self.done += 1;
        let line = line(label, s);
        match (&self.bar, self.mode) {
            (Some(b), _) => {
                b.println(line);
                b.inc(1);
            }
            (None, ProgressMode::Quiet) => {}
            (None, _) => {
                let eta = self
                    .eta()
                    .map_or(String::new(), |d| format!(", ETA {:.0} s", d.as_secs_f64()));
                let _ = writeln!(
                    std::io::stderr(),
                    "[{}/{}] {line}{eta}",
                    self.done,
                    self.total
                );
            }
        }
    }

    fn eta(&self) -> Option<Duration> {
        (self.done > 0 && self.done < self.total).then(|| {
            self.started
                .elapsed()
                .mul_f64((self.total - self.done) as f64 / self.done as f64)
        })
    }

    /// The campaign ended.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

fn opt(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.0}"))
}

/// One human line about a finished run.
pub fn line(label: &str, s: &RunSummary) -> String {
    let m = &s.migration;
    let outcome = serde_json::to_value(m.outcome)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default();
    let mut l = format!(
        "{label}: {outcome}, preoperation {} ms, downtime {} ms, postoperation {} ms, total {} ms",
        opt(m.preoperation_ms),
        opt(m.downtime_ms),
        opt(m.postoperation_ms),
        opt(m.total_ms)
    );
    if !s.complete {
        l.push_str(&format!(
            " (incomplete: {})",
            s.incomplete_reason.as_deref().unwrap_or("?")
        ));
    }
    l
}
