//! The probes of one run: started together against the endpoint, stopped together at
//! the end (each may first end by itself within its grace), each one's result kept by
//! its name. The single-host run and a client host's run share this.

use crate::attach::{Attachment, ProbeContext};
use platform::{EventSink, ServiceEndpoint};
use record::clock::MonotonicClock;
use record::{ProbeKind, ProbeResult};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Time a probe gets to stop after it is told to.
const STOP_TIMEOUT: Duration = Duration::from_secs(15);

/// One started probe.
pub(crate) struct Running {
    name: String,
    kind: ProbeKind,
    grace: Duration,
    stop: watch::Sender<bool>,
    handle: JoinHandle<ProbeResult>,
}

/// Starts every attachment with the run's clock and timeline.
pub(crate) fn start(
    attachments: Vec<Box<dyn Attachment>>,
    clock: &MonotonicClock,
    sink: &EventSink,
    endpoint: &ServiceEndpoint,
) -> Vec<Running> {
    attachments
        .into_iter()
        .map(|a| {
            let (stop, stop_rx) = watch::channel(false);
            let (name, kind, grace) = (a.name().to_string(), a.kind(), a.grace());
            let handle = a.start(ProbeContext {
                clock: clock.clone(),
                sink: sink.clone(),
                endpoint: endpoint.clone(),
                stop: stop_rx,
            });
            Running {
                name,
                kind,
                grace,
                stop,
                handle,
            }
        })
        .collect()
}

/// Stops the probes and collects their results. With `graceful` (the run was not
/// interrupted), a probe with a grace may first end by itself within it.
pub(crate) async fn stop(running: Vec<Running>, graceful: bool) -> BTreeMap<String, ProbeResult> {
    let mut results = BTreeMap::new();
    for mut r in running {
        let ended = if graceful && !r.grace.is_zero() {
            tokio::time::timeout(r.grace, &mut r.handle).await.ok()
        } else {
            None
        };
        let result = match ended {
            Some(res) => res,
            None => {
                let _ = r.stop.send(true);
                match tokio::time::timeout(STOP_TIMEOUT, &mut r.handle).await {
                    Ok(res) => res,
                    Err(_) => {
                        r.handle.abort();
                        Ok(ProbeResult::failed(
                            r.kind,
                            "the probe did not stop within 15 s",
                        ))
                    }
                }
            }
        };
        let result = result
            .unwrap_or_else(|e| ProbeResult::failed(r.kind, format!("the probe task failed: {e}")));
        results.insert(r.name, result);
    }
    results
}
