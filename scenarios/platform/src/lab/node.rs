//! A QEMU of the lab with its QMP session: what the session starts and the migration
//! sequence drives.

use super::network::Host;
use super::qmp::{Qmp, QmpEvent};
use super::vm::Vm;
use std::path::PathBuf;
use tokio::sync::mpsc::UnboundedReceiver;

/// A QEMU with its QMP session.
pub(super) struct Node {
    pub(super) qmp: Qmp,
    pub(super) events: UnboundedReceiver<QmpEvent>,
    pub(super) vm: Vm,
    pub(super) host: Host,
    pub(super) disk: PathBuf,
}
