//! The `openstack` driver: live migration of a server through Nova's API.

pub mod factory;
