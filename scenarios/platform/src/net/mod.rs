//! Network conditions (root only): namespaces, veth links, bridges and taps,
//! per-link rate / one-way delay / loss, the userspace delay relay, and the
//! registry that tears all of it down again.
//!
//! How to use it (docs/network-conditions.md has the full contract):
//!
//! ```no_run
//! use platform::net::{LinkCondition, ShapedLinkSpec, DelayBackend, Topology};
//! # fn main() -> Result<(), platform::net::NetError> {
//! let topo = Topology::new()?;                       // run id, state folder
//! let client = topo.namespace("client")?;            // qp-<run>-client
//! let server = topo.namespace("server")?;
//! let mut link = topo.shaped_link(&ShapedLinkSpec {
//!     name: "c".into(),
//!     a_ns: client, b_ns: server,
//!     a_addr: Some("10.9.0.1/24".into()), b_addr: Some("10.9.0.2/24".into()),
//!     condition: LinkCondition { rate_mbit: Some(100.0), delay_ms: Some(25.0), loss_pct: None },
//!     delay: DelayBackend::Auto,
//! })?;
//! link.apply(&topo, &LinkCondition { loss_pct: Some(1.0), ..link.condition() })?;
//! topo.teardown()?;                                  // also on drop / panic
//! # Ok(()) }
//! ```
//!
//! This module never touches an interface, namespace or table without our
//! prefix (`qp`, `qoeprobe_`), and sends traffic nowhere but inside them.

mod cleanup;
mod cmd;
mod condition;
mod error;
pub mod netns;
mod registry;
pub mod relay;
mod shaping;
mod state;
mod topology;

pub use cleanup::{CleanupReport, cleanup_leftovers, our_links, our_namespaces, our_nft_tables};
pub use cmd::require_root;
pub use condition::{
    LinkCondition, LinkShaping, MAX_DELAY_MS, MAX_RATE_MBIT, nft_loss_script, tbf_args,
};
pub use error::{NetError, Result};
pub use netns::{command_in, enter as enter_namespace, run_in, runtime_in};
pub use registry::{MAX_RUN_ID, Registry, new_run_id};
pub use shaping::{DelayBackend, ShapedLink, ShapedLinkSpec, kernel_has_netem};
pub use state::{Resource, state_root};
pub use topology::{TcpTuning, Topology, allow_congestion_control, set_sysctls};
