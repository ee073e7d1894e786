//! Ctrl-C and SIGTERM: turn them into the campaign's interrupt, whose value is the
//! reason written into the interrupted run's `summary.json`.

use tokio::sync::watch;

/// Starts listening for SIGINT and SIGTERM; the receiver turns `Some(reason)` at the
/// first one.
pub fn interrupt_on_signals() -> watch::Receiver<Option<String>> {
    let (tx, rx) = watch::channel(None);
    tokio::spawn(async move {
        let reason = wait_for_signal().await;
        let _ = tx.send(Some(reason));
        // Keep the sender alive so receivers do not see it closed.
        std::future::pending::<()>().await;
    });
    rx
}

#[cfg(unix)]
async fn wait_for_signal() -> String {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut term), Ok(mut int)) => tokio::select! {
            _ = term.recv() => "interrupted by SIGTERM".into(),
            _ = int.recv() => "interrupted by SIGINT (Ctrl-C)".into(),
        },
        _ => {
            let _ = tokio::signal::ctrl_c().await;
            "interrupted by SIGINT (Ctrl-C)".into()
        }
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> String {
    let _ = tokio::signal::ctrl_c().await;
    "interrupted by Ctrl-C".into()
}
