//! Checks that span more than one value: unique and folder-safe names, at least one
//! application, scenario and probe, probes that fit their service, driver settings.

use super::error::ScenarioError;
use super::platform_checks::addresses;
use super::types::*;
use platform::{DriverKind, ServiceKind};
use std::collections::HashSet;
use std::path::Path;
use toml::Spanned;

pub(super) fn check(c: &Campaign, path: &Path, src: &str) -> Result<(), ScenarioError> {
    let err = |span: Option<std::ops::Range<usize>>, key: &str, msg: String| {
        ScenarioError::at(path, src, span, Some(key.to_string()), msg)
    };
    folder_name(&c.name, "name").map_err(|m| err(Some(c.name.span()), "name", m))?;
    if c.applications.is_empty() {
        return Err(err(
            None,
            "application",
            "the campaign has no [[application]]: add at least one (see docs/scenario-file.md)"
                .into(),
        ));
    }
    if c.scenarios.is_empty() {
        return Err(err(
            None,
            "scenario",
            "the campaign has no [[scenario]]: add at least one, e.g. [[scenario]] name = \"S1\", or a [matrix]"
                .into(),
        ));
    }
    unique(c.applications.iter().map(|a| &a.name), "application.name")
        .map_err(|(s, m)| err(Some(s), "application.name", m))?;
    unique(c.scenarios.iter().map(|s| &s.name), "scenario.name")
        .map_err(|(s, m)| err(Some(s), "scenario.name", m))?;
    for app in &c.applications {
        let name = app.name.get_ref();
        let service = *app.service.get_ref();
        let mut probes = Vec::new();
        let mut paths = Vec::new();
        if let Some(p) = &app.player {
            probes.push((p.name.as_str(), "player", ServiceKind::Dash));
            paths.push(("player", p.path.as_str()));
        }
        if let Some(p) = &app.download {
            probes.push((p.name.as_str(), "download", ServiceKind::File));
            paths.push(("download", p.path.as_str()));
        }
        if let Some(p) = &app.game {
            probes.push((p.name.as_str(), "game", ServiceKind::Game));
        }
        if let Some(p) = &app.stream {
            probes.push((p.name.as_str(), "stream", ServiceKind::Live));
            paths.push(("stream", p.path.as_str()));
        }
        for (kind, p) in paths {
            service_path(p).map_err(|m| {
                err(
                    Some(app.name.span()),
                    &format!("application.{kind}.path"),
                    format!("application `{name}`: {m}"),
                )
            })?;
        }
        if probes.is_empty() {
            return Err(err(
                Some(app.name.span()),
                "application",
                format!(
                    "application `{name}` has no probe: add one of [application.player], [application.download], [application.game], [application.stream]"
                ),
            ));
        }
        live_settings(app).map_err(|(s, k, m)| err(Some(s), k, m))?;
        let mut seen = HashSet::new();
        for (pname, kind, needs) in probes {
            if service != needs {
                return Err(err(
                    Some(app.service.span()),
                    "application.service",
                    format!(
                        "application `{name}`: the {kind} probe needs service \"{}\", but service is \"{}\"",
                        needs.name(),
                        service.name()
                    ),
                ));
            }
            folder_name_str(pname).map_err(|m| {
                err(
                    Some(app.name.span()),
                    &format!("application.{kind}.name"),
                    m,
                )
            })?;
            if !seen.insert(pname) {
                return Err(err(
                    Some(app.name.span()),
                    &format!("application.{kind}.name"),
                    format!(
                        "application `{name}`: two probes are named `{pname}`; give each a different `name`"
                    ),
                ));
            }
        }
    }
    if c.migration.driver == DriverKind::Exec {
        let Some(exec) = &c.migration.exec else {
            return Err(err(None, "migration.exec", "driver \"exec\" needs a [migration.exec] table with at least `start` (see docs/exec-driver.md)".into()));
        };
        addresses(
            "exec",
            [
                ("http", &exec.http),
                ("game", &exec.game),
                ("probe_target", &exec.probe_target),
            ],
            exec.start.span(),
        )
        .map_err(|(s, k, m)| err(Some(s), &k, m))?;
    }
    if c.migration.driver == DriverKind::Libvirt {
        let Some(lv) = &c.migration.libvirt else {
            return Err(err(None, "migration.libvirt", "driver \"libvirt\" needs a [migration.libvirt] table with `source_uri`, `destination_uri`, `domain` and `http` or `probe_target` (see docs/libvirt-driver.md)".into()));
        };
        super::platform_checks::libvirt(lv).map_err(|(s, k, m)| err(Some(s), &k, m))?;
    }
    if c.migration.driver == DriverKind::Openstack {
        let Some(os) = &c.migration.openstack else {
            return Err(err(None, "migration.openstack", "driver \"openstack\" needs a [migration.openstack] table with `server` and `http` or `probe_target` (see docs/openstack-driver.md)".into()));
        };
        super::platform_checks::openstack(os, &c.migration).map_err(|(s, k, m)| err(s, &k, m))?;
    }
    Ok(())
}

/// `source` only on a `live` service, whose stream source is never set through
/// `service_args` (the driver starts the external encoder and sets `--upstream`).
fn live_settings(app: &Application) -> Result<(), (std::ops::Range<usize>, &'static str, String)> {
    let name = app.name.get_ref();
    let live = *app.service.get_ref() == ServiceKind::Live;
    if let Some(src) = &app.source
        && !live
    {
        return Err((
            src.span(),
            "application.source",
            format!(
                "application `{name}`: `source` is for service \"live\" only (service is \"{}\")",
                app.service.get_ref().name()
            ),
        ));
    }
    if live
        && let Some(flag) = app.service_args.iter().find(|a| {
            ["--source", "--upstream", "--bind"]
                .iter()
                .any(|f| a.as_str() == *f || a.starts_with(&format!("{f}=")))
        })
    {
        return Err((
            app.service.span(),
            "application.service_args",
            format!(
                "application `{name}`: `{flag}` is set by the runner; use `source = \"encoder\"` or `source = \"relay\"` instead"
            ),
        ));
    }
    Ok(())
}

fn unique<'a>(
    names: impl Iterator<Item = &'a Spanned<String>>,
    key: &str,
) -> Result<(), (std::ops::Range<usize>, String)> {
    let mut seen = HashSet::new();
    for n in names {
        folder_name(n, key).map_err(|m| (n.span(), m))?;
        if !seen.insert(n.get_ref().as_str()) {
            return Err((
                n.span(),
                format!(
                    "`{}` is used twice: names must be unique",
                    shown(n.get_ref())
                ),
            ));
        }
    }
    Ok(())
}

fn folder_name(n: &Spanned<String>, _key: &str) -> Result<(), String> {
    folder_name_str(n.get_ref())
}

fn folder_name_str(n: &str) -> Result<(), String> {
    let ok = !n.is_empty()
        && n.len() <= 64
        && n != "."
        && n != ".."
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "`{}` cannot be a folder name: use 1 to 64 letters, digits, `.`, `_` or `-`",
            shown(n)
        ))
    }
}

/// A probe's `path` on the service: an absolute path (`/...`) of visible ASCII. The
/// runner puts it after the service's address, so anything else (`@host:port/x`, a
/// full URL, a `//host` authority, a backslash) could point the probe at another
/// host.
fn service_path(p: &str) -> Result<(), String> {
    let ok = p.starts_with('/')
        && !p.starts_with("//")
        && p.len() <= 2048
        && p.bytes().all(|b| b.is_ascii_graphic() && b != b'\\');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "path `{}` is not a path on the service: give an absolute path such as \"/manifest.mpd\" (visible ASCII, no `\\`, not `//...`; the service's address comes from the campaign, not from `path`)",
            shown(p)
        ))
    }
}

/// A name or value as it is shown in a message: whole when short, else its first
/// 64 characters and its length (a 1 MB name is not echoed back).
fn shown(s: &str) -> String {
    const MAX: usize = 64;
    match s.char_indices().nth(MAX) {
        None => s.to_string(),
        Some((cut, _)) => format!("{}... ({} bytes in all)", &s[..cut], s.len()),
    }
}
