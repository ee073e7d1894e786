//! Checks of `[migration.libvirt]` and `[migration.openstack]` that serde cannot do:
//! addresses, URIs, and `[migration]` settings a platform cannot honour (Nova's API
//! has no per-migration bandwidth, auto-converge or post-copy switch: they are
//! nova.conf settings of the compute hosts).

use super::platforms::{LibvirtSettings, OpenStackSettings};
use super::types::MigrationSettings;
use std::ops::Range;
use toml::Spanned;

type Failure = (Range<usize>, String, String);

/// `[migration.libvirt]`.
pub(super) fn libvirt(lv: &LibvirtSettings) -> Result<(), Failure> {
    addresses(
        "libvirt",
        [
            ("http", &lv.http),
            ("game", &lv.game),
            ("probe_target", &lv.probe_target),
        ],
        lv.domain.span(),
    )?;
    for (key, uri) in [
        ("source_uri", &lv.source_uri),
        ("destination_uri", &lv.destination_uri),
    ] {
        uri_like(
            uri,
            key,
            "a libvirt URI such as qemu:///system or qemu+ssh://HOST/system",
        )?;
    }
    for (key, uri) in [
        ("migrate_uri", &lv.migrate_uri),
        ("migrate_uri_back", &lv.migrate_uri_back),
    ] {
        if let Some(u) = uri {
            uri_like(u, key, "a migration URI such as tcp://10.0.0.2")?;
        }
    }
    if lv.source_uri.get_ref() == lv.destination_uri.get_ref() {
        return Err((
            lv.destination_uri.span(),
            "migration.libvirt.destination_uri".into(),
            "the destination is the source: give the URI of the other host".into(),
        ));
    }
    if lv.domain.get_ref().trim().is_empty() {
        return Err((
            lv.domain.span(),
            "migration.libvirt.domain".into(),
            "the domain is empty: give its name or UUID (`virsh list --all`)".into(),
        ));
    }
    netns_name(&lv.netns, "libvirt")
}

/// `[migration.openstack]` and what of `[migration]` Nova can honour.
pub(super) fn openstack(
    os: &OpenStackSettings,
    m: &MigrationSettings,
) -> Result<(), (Option<Range<usize>>, String, String)> {
    let some = |(s, k, m): Failure| (Some(s), k, m);
    addresses(
        "openstack",
        [
            ("http", &os.http),
            ("game", &os.game),
            ("probe_target", &os.probe_target),
        ],
        os.server.span(),
    )
    .map_err(some)?;
    if os.server.get_ref().trim().is_empty() {
        return Err((
            Some(os.server.span()),
            "migration.openstack.server".into(),
            "the server is empty: give its name or ID (`openstack server list`)".into(),
        ));
    }
    if let Some(b) = &os.block_migration
        && b.get_ref() != "auto"
    {
        return Err((
            Some(b.span()),
            "migration.openstack.block_migration".into(),
            format!(
                "`{}`: the only value is \"auto\" (Nova decides); leave it out to follow [migration] mode (live: false, block: true)",
                b.get_ref()
            ),
        ));
    }
    for (host, uri) in &os.libvirt_uris {
        if !uri.contains(':') {
            return Err((
                None,
                "migration.openstack.libvirt_uris".into(),
                format!(
                    "`{host}` = \"{uri}\" is not a libvirt URI (e.g. qemu+ssh://{host}/system)"
                ),
            ));
        }
    }
    let nova_conf = |key: &str, what: &str, conf: &str| {
        (
            None,
            format!("migration.{key}"),
            format!(
                "Nova's API has no per-migration {what}: set `{conf}` in nova.conf on the compute hosts and remove `{key}` from [migration]"
            ),
        )
    };
    if m.bandwidth_mbit.is_some() {
        return Err(nova_conf(
            "bandwidth_mbit",
            "bandwidth limit",
            "[libvirt] live_migration_bandwidth",
        ));
    }
    if m.auto_converge {
        return Err(nova_conf(
            "auto_converge",
            "auto-converge",
            "[libvirt] live_migration_permit_auto_converge",
        ));
    }
    if m.copy == record::Copy::Postcopy {
        return Err((
            None,
            "migration.copy".into(),
            "Nova switches to post-copy itself (`[libvirt] live_migration_permit_post_copy` in nova.conf) when a migration is force-completed: use `copy = \"precopy\"` and [migration.openstack] force_complete_after_s".into(),
        ));
    }
    netns_name(&os.netns, "openstack").map_err(some)
}

fn uri_like(uri: &Spanned<String>, key: &str, what: &str) -> Result<(), Failure> {
    let u = uri.get_ref();
    if u.contains("://") && !u.trim().is_empty() && !u.contains(char::is_whitespace) {
        return Ok(());
    }
    Err((
        uri.span(),
        format!("migration.libvirt.{key}"),
        format!("\"{u}\" is not a URI: expected {what}"),
    ))
}

fn netns_name(ns: &Option<Spanned<String>>, table: &str) -> Result<(), Failure> {
    let Some(ns) = ns else {
        return Ok(());
    };
    let n = ns.get_ref();
    let ok = !n.is_empty()
        && n.len() <= 64
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && n != "."
        && n != "..";
    if ok {
        return Ok(());
    }
    Err((
        ns.span(),
        format!("migration.{table}.netns"),
        format!("`{n}` is not a network namespace name (`ip netns list` shows them)"),
    ))
}

/// A driver table's service addresses: each parses as IP:PORT, and `http` or
/// `probe_target` is there (the reachability prober needs a TCP address). `table` is
/// the table's name (`exec`, `libvirt`, ...); `at` the span to report a missing one.
pub(super) fn addresses(
    table: &str,
    keys: [(&str, &Option<Spanned<String>>); 3],
    at: std::ops::Range<usize>,
) -> Result<(), (std::ops::Range<usize>, String, String)> {
    for (key, v) in keys {
        if let Some(v) = v
            && v.get_ref().parse::<std::net::SocketAddr>().is_err()
        {
            return Err((
                v.span(),
                format!("migration.{table}.{key}"),
                format!(
                    "\"{}\" is not an address: expected IP:PORT, e.g. \"10.0.0.2:8080\"",
                    v.get_ref()
                ),
            ));
        }
    }
    let [(_, http), _, (_, probe_target)] = keys;
    if probe_target.is_none() && http.is_none() {
        return Err((
            at,
            format!("migration.{table}"),
            format!(
                "the {table} driver needs `http` or `probe_target` (a TCP address the reachability prober connects to)"
            ),
        ));
    }
    Ok(())
}
