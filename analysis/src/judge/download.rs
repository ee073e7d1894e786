//! Rules for the download checker (`probe: download`). Failed: the download did not
//! complete, is corrupt (checksum or size wrong), or restarted from byte 0.
//! Impaired: only when the profile sets `max_download_stall_ms`, a stall in the
//! migration window longer than that.

use super::{Findings, ProbeCtx, Reason};

pub(crate) fn judge(ctx: &ProbeCtx<'_>, f: &mut Findings) {
    let name = ctx.name;
    let why = ctx
        .text("reason")
        .map(|r| format!(": {r}"))
        .unwrap_or_default();
    match ctx.text("outcome") {
        Some("completed") => {}
        Some("corrupt") => f.failed.push(Reason::new(
            "download corrupt",
            format!("`{name}`: all bytes arrived but the file is wrong{why}"),
        )),
        Some(other) => f.failed.push(Reason::new(
            "download did not complete",
            format!("`{name}`: {other}{why}"),
        )),
        None => f.failed.push(Reason::new(
            "download did not complete",
            format!("`{name}`: no outcome in its summary"),
        )),
    }
    if ctx.text("outcome") == Some("completed") {
        if ctx.flag("sha256_ok") == Some(false) {
            f.failed.push(Reason::new(
                "download corrupt",
                format!("`{name}`: checksum mismatch"),
            ));
        }
        if ctx.flag("size_ok") == Some(false) {
            f.failed.push(Reason::new(
                "download corrupt",
                format!("`{name}`: size mismatch"),
            ));
        }
    }
    if ctx.flag("restarted_from_zero") == Some(true) {
        f.failed.push(Reason::new(
            "download restarted from byte 0",
            format!(
                "`{name}`: an attempt started the file over ({} attempts)",
                ctx.num("attempts").unwrap_or(0.0)
            ),
        ));
    }
    let Some(limit) = ctx.limits.max_download_stall_ms else {
        return;
    };
    let longest = ctx
        .events
        .iter()
        .filter(|e| e.kind == "download_stall_end")
        .filter_map(|e| {
            let d = e.duration_ms?;
            let start = e
                .start_ns
                .unwrap_or_else(|| e.t_ns.saturating_sub((d * 1e6) as u64));
            ctx.in_window(start).then_some(d)
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
