//! Where the service under test runs and how it moves: the migration drivers and the
//! network conditions (docs/architecture.md, "Crates").
//!
//! - [`MigrationDriver`]: the driver trait, with everything a driver gets for one run
//!   ([`DriverContext`]: the service, the flavor, the links, the driver's own
//!   settings) and a [`DriverFactory`] that builds drivers ([`DefaultDrivers`]);
//! - [`emulated`]: rootless, the service as a child process behind an impairment
//!   proxy, timed by a pre-copy model (docs/emulated-driver.md);
//! - [`exec`]: user commands migrate on any platform (docs/exec-driver.md);
//! - [`dirtyrate`]: how fast a process tree on the host dirties memory and page cache,
//!   and whether pre-copy converges with it (docs/dirtyrate.md);
//! - [`lab`]: a real QEMU live migration between two namespaces (docs/lab.md);
//! - [`libvirt`]: an existing domain between two libvirt hosts through libvirt's C
//!   API, with a two-daemon testbed (docs/libvirt-driver.md);
//! - [`openstack`]: an existing server through Nova's API (docs/openstack-driver.md);
//! - [`net`]: namespaces, links, rate/delay/loss shaping, the delay relay and the
//!   registry that tears it all down (docs/network-conditions.md).
//!
//! This crate depends on the record only. It knows nothing of scenario files (the
//! `campaign` crate maps them onto a [`DriverContext`]) and runs the services under
//! test as a program (`qoeprobe serve ...` or the `qoeprobe-fixtures` binary, found
//! at run time), never as a library.

// Module docs point at their private parts on purpose (read with
// `cargo doc --document-private-items`).
#![allow(rustdoc::private_intra_doc_links)]

pub mod dirtyrate;
mod driver;
pub mod emulated;
mod endpoint;
pub mod exec;
mod factory;
pub mod lab;
pub mod libvirt;
pub mod net;
pub mod openstack;
mod request;

pub use driver::{
    BoxFuture, DriverConfig, DriverContext, DriverError, DriverKind, EventSink, Flavor, LiveSource,
    MigrationDriver, MigrationReport, Service, ServiceKind,
};
pub use endpoint::ServiceEndpoint;
pub use factory::{DefaultDrivers, DriverFactory};
pub use request::MigrationRequest;
