//! Where a Nova migration's pause and resume come from: libvirt's lifecycle events
//! on the compute hosts (when their URIs are given; the domain's UUID is the
//! server's ID), else the driver's reachability watcher ([`super::outage`]), whose
//! bounds are marked `origin: "reachability"`.

use super::outage::Watcher;
use super::round::{Round, to_t};
use crate::libvirt::conn::Conn;
use crate::libvirt::events::{self, DomainEvent, EventKind as LvKind, Side, Subscription};
use record::{Event, EventKind as Ev, MigrationPaused, MigrationResumed, PlatformEvent};
use std::time::Duration;

/// After the migration, how long to wait for a service that is still unreachable.
const OUTAGE_GRACE: Duration = Duration::from_secs(10);

/// Where the pause and resume come from.
pub(super) enum Phases {
    /// libvirt events of the compute hosts.
    Libvirt {
        rx: tokio::sync::mpsc::UnboundedReceiver<DomainEvent>,
        subs: Vec<Subscription>,
        paused: Option<std::time::Duration>,
        resumed: Option<std::time::Duration>,
    },
    /// The reachability watcher.
    Outage(Option<Watcher>),
}

impl Phases {
    pub(super) async fn start(r: &Round<'_>) -> Phases {
        if r.config.libvirt_uris.is_empty() {
            let ep = &r.config.endpoint;
            let w = Watcher::start(ep.probe_target, r.config.outage_interval, ep.netns.clone());
            if let Err(e) = &w {
                eprintln!("qoeprobe: {e}");
            }
            return Phases::Outage(w.ok());
        }
        let (tx, rx) = events::channel();
        let uris: Vec<(String, String)> = r.config.libvirt_uris.clone().into_iter().collect();
        let uuid = r.server.id.clone();
        let subs = tokio::task::spawn_blocking(move || {
            let mut subs = Vec::new();
            for (host, uri) in uris {
                match Conn::open(&uri)
                    .and_then(|c| Subscription::new(c.connect(), Side::Source, &uuid, tx.clone()))
                {
                    Ok(s) => subs.push(s),
                    Err(e) => eprintln!("qoeprobe: libvirt events of compute host {host}: {e}"),
                }
            }
            subs
        })
        .await
        .unwrap_or_default();
        Phases::Libvirt {
            rx,
            subs,
            paused: None,
            resumed: None,
        }
    }

    /// Emits the phase events that arrived.
    pub(super) async fn poll(&mut self, r: &Round<'_>) {
        if let Phases::Libvirt {
            rx,
            paused,
            resumed,
            ..
        } = self
        {
            while let Ok(ev) = rx.try_recv() {
                let LvKind::Lifecycle(l) = ev.kind else {
                    continue;
                };
                let t = to_t(r.clock, ev.wall_ns);
                let origin = format!("libvirt:{}", l.name());
                if l.is_paused_for_migration() && paused.is_none() {
                    *paused = Some(t);
                    (r.sink)(Event::new(
                        t,
                        "migration",
                        Ev::MigrationPaused(MigrationPaused { origin }),
                    ));
                } else if l.is_resumed_after_migration() && resumed.is_none() {
                    *resumed = Some(t);
                    (r.sink)(Event::new(
                        t,
                        "migration",
                        Ev::MigrationResumed(MigrationResumed { origin }),
                    ));
                } else {
                    (r.sink)(Event::new(
                        t,
                        "migration",
                        Ev::PlatformEvent(PlatformEvent {
                            origin: "libvirt".into(),
                            name: l.name(),
                            host: None,
                            detail: None,
                        }),
                    ));
                }
            }
        }
    }

    /// Ends the watch; the pause and resume times and their origin.
    pub(super) async fn finish(
        &mut self,
        r: &Round<'_>,
    ) -> (Option<Duration>, Option<Duration>, Option<String>) {
        if let Phases::Libvirt { .. } = self {
            // The destination's resume can trail Nova's task state by a poll.
            tokio::time::sleep(Duration::from_millis(100)).await;
            self.poll(r).await;
        }
        match self {
            Phases::Libvirt {
                subs,
                paused,
                resumed,
                ..
            } => {
                let subs = std::mem::take(subs);
                let _ = tokio::task::spawn_blocking(move || drop(subs)).await;
                (*paused, *resumed, Some("libvirt".into()))
            }
            Phases::Outage(w) => {
                let Some(w) = w.take() else {
                    return (None, None, None);
                };
                let o = tokio::task::spawn_blocking(move || w.stop(OUTAGE_GRACE))
                    .await
                    .unwrap_or_default();
                let (Some(down), Some(up)) = (o.down_ns, o.up_ns) else {
                    return (None, None, None);
                };
                let (p, q) = (to_t(r.clock, down), to_t(r.clock, up));
                let origin = || "reachability".to_string();
                (r.sink)(Event::new(
                    p,
                    "migration",
                    Ev::MigrationPaused(MigrationPaused { origin: origin() }),
                ));
                (r.sink)(Event::new(
                    q,
                    "migration",
                    Ev::MigrationResumed(MigrationResumed { origin: origin() }),
                ));
                (Some(p), Some(q), Some("reachability".into()))
            }
        }
    }
}
