//! Rules for the download checker (`probe: download`). Failed: the download did not
//! complete, is corrupt (checksum or size wrong), or restarted from byte 0.
//! Impaired: only when the profile sets `max_download_stall_ms`, a stall in the
//! migration window longer than that.

use super::{Findings, ProbeCtx, Reason};
use record::{DownloadOutcome, EventKind, ProbeSummary};

pub(crate) fn judge(ctx: &ProbeCtx<'_>, f: &mut Findings) {
    let name = ctx.name;
    let Some(ProbeSummary::Download(s)) = ctx.summary else {
        f.failed.push(Reason::new(
            "download did not complete",
            format!("`{name}`: no outcome in its summary"),
        ));
        return stalls(ctx, f);
    };
    let why = s
        .reason
        .as_deref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    match s.outcome {
        DownloadOutcome::Completed => {
            if s.sha256_ok == Some(false) {
                f.failed.push(Reason::new(
                    "download corrupt",
                    format!("`{name}`: checksum mismatch"),
                ));
            }
            if s.size_ok == Some(false) {
                f.failed.push(Reason::new(
                    "download corrupt",
                    format!("`{name}`: size mismatch"),
                ));
            }
        }
        DownloadOutcome::Corrupt => f.failed.push(Reason::new(
            "download corrupt",
            format!("`{name}`: all bytes arrived but the file is wrong{why}"),
        )),
        DownloadOutcome::Failed => f.failed.push(Reason::new(
            "download did not complete",
            format!("`{name}`: failed{why}"),
        )),
    }
    if s.restarted_from_zero {
        f.failed.push(Reason::new(
            "download restarted from byte 0",
            format!(
                "`{name}`: an attempt started the file over ({} attempts)",
                s.attempts
            ),
        ));
    }
    stalls(ctx, f);
}

/// Impaired only when the profile sets `max_download_stall_ms`: a stall in the
/// migration window longer than that.
fn stalls(ctx: &ProbeCtx<'_>, f: &mut Findings) {
    let name = ctx.name;
    let Some(limit) = ctx.limits.max_download_stall_ms else {
        return;
    };
    let longest = ctx
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DownloadStallEnd(s) => ctx.in_window(s.start_ns).then_some(s.duration_ms),
            _ => None,
        })
        .fold(0.0, f64::max);
    if longest > limit {
        f.impaired.push(Reason::new(
            "download stalled longer than the limit",
            format!(
                "`{name}`: stalled {longest:.0} ms in the migration window, profile allows {limit:.0} ms"
            ),
        ));
    }
}
