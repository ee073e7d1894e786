//! Where the cloud is and who we are, read the way every OpenStack tool reads it:
//! a `clouds.yaml` entry (merged with `secure.yaml`) named by the scenario's `cloud`
//! or `$OS_CLOUD`, else the `OS_*` environment.
//!
//! clouds.yaml is searched in `$OS_CLIENT_CONFIG_FILE`, `./clouds.yaml`,
//! `~/.config/openstack/clouds.yaml`, `/etc/openstack/clouds.yaml`; secure.yaml in
//! `$OS_CLIENT_SECURE_FILE` and the same folders. Keystone v3 only: `password` and
//! `v3applicationcredential` auth types.

use super::secret::Secret;
use serde_yaml_ng::{Mapping, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// How we authenticate.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    /// Keystone v3 password, scoped to a project.
    Password {
        /// User name (with a domain) or ID.
        user: Named,
        /// The password.
        password: Secret,
        /// The project to scope to (name with a domain, or ID).
        project: Option<Named>,
    },
    /// A Keystone v3 application credential (already scoped).
    ApplicationCredential {
        /// Its ID, or its name with the owning user.
        credential: AppCredentialRef,
        /// Its secret.
        secret: Secret,
    },
}

/// A Keystone object by ID, or by name within a domain (by name or ID).
#[derive(Debug, Clone, PartialEq)]
pub enum Named {
    /// By ID.
    Id(String),
    /// By name in a domain.
    Name {
        /// The name.
        name: String,
        /// Domain name or ID (`None`: Keystone's `Default`).
        domain: Option<DomainRef>,
    },
}

/// A domain by name or ID.
#[derive(Debug, Clone, PartialEq)]
pub enum DomainRef {
    /// By name.
    Name(String),
    /// By ID.
    Id(String),
}

/// An application credential by ID, or by name with its user.
#[derive(Debug, Clone, PartialEq)]
pub enum AppCredentialRef {
    /// By ID.
    Id(String),
    /// By name, owned by `user`.
    Name {
        /// Credential name.
        name: String,
        /// Its owner.
        user: Named,
    },
}

/// A cloud: Keystone's URL, credentials and how to reach the endpoints.
#[derive(Debug, Clone, PartialEq)]
pub struct Cloud {
    /// What the cloud is called (clouds.yaml entry, or `environment`).
    pub name: String,
    /// Keystone v3 URL (ends with `/v3`).
    pub auth_url: String,
    /// Credentials.
    pub auth: Auth,
    /// Region of the endpoints (`None`: the first one of the catalog).
    pub region: Option<String>,
    /// Endpoint interface: `public`, `internal` or `admin`.
    pub interface: String,
    /// CA bundle to verify TLS with (besides the system's).
    pub cacert: Option<PathBuf>,
    /// Verify TLS certificates.
    pub verify: bool,
}

impl Cloud {
    /// Every secret of this cloud (for the redactor).
    pub fn secrets(&self) -> Vec<&Secret> {
        match &self.auth {
            Auth::Password { password, .. } => vec![password],
            Auth::ApplicationCredential { secret, .. } => vec![secret],
        }
    }
}

/// Reads the cloud named `cloud` (or `$OS_CLOUD`) from clouds.yaml, else from the
/// `OS_*` variables of `env`.
pub fn load(cloud: Option<&str>, env: &HashMap<String, String>) -> Result<Cloud, String> {
    let name = cloud
        .map(str::to_string)
        .or_else(|| env.get("OS_CLOUD").filter(|v| !v.is_empty()).cloned());
    match name {
        Some(name) => {
            let (path, mut entry) = find_entry(&name, env)?;
            if let Some((_, secure)) = find_file("secure.yaml", "OS_CLIENT_SECURE_FILE", env)
                .and_then(|p| read_yaml(&p).ok().map(|v| (p, v)))
                && let Some(extra) = secure
                    .get("clouds")
                    .and_then(|c| c.get(name.as_str()))
                    .and_then(Value::as_mapping)
            {
                merge(&mut entry, extra);
            }
            from_entry(&name, &entry)
                .map_err(|e| format!("cloud `{name}` in {}: {e}", path.display()))
        }
        None => from_env(env),
    }
}

fn find_entry(name: &str, env: &HashMap<String, String>) -> Result<(PathBuf, Mapping), String> {
    let Some(path) = find_file("clouds.yaml", "OS_CLIENT_CONFIG_FILE", env) else {
        return Err(format!(
            "cloud `{name}` was asked for, but there is no clouds.yaml (looked in $OS_CLIENT_CONFIG_FILE, ./clouds.yaml, ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml); write one or use the OS_* variables of an openrc file without `cloud`"
        ));
    };
    let doc = read_yaml(&path)?;
    let clouds = doc.get("clouds").and_then(Value::as_mapping);
    let entry = clouds
        .and_then(|c| c.get(name))
        .and_then(Value::as_mapping)
        .cloned();
    match entry {
        Some(e) => Ok((path, e)),
        None => {
            let names: Vec<String> = clouds
                .map(|c| {
                    c.keys()
                        .filter_map(|k| k.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            Err(format!(
                "{} has no cloud `{name}` (it has: {})",
                path.display(),
                if names.is_empty() {
                    "none".into()
                } else {
                    names.join(", ")
                }
            ))
        }
    }
}

fn find_file(file: &str, var: &str, env: &HashMap<String, String>) -> Option<PathBuf> {
    if let Some(p) = env.get(var).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let mut dirs = vec![PathBuf::from(".")];
    if let Some(home) = env.get("HOME") {
        dirs.push(Path::new(home).join(".config/openstack"));
    }
    dirs.push(PathBuf::from("/etc/openstack"));
    dirs.into_iter().map(|d| d.join(file)).find(|p| p.is_file())
}

fn read_yaml(path: &Path) -> Result<Value, String> {
    let text = userfile::read_to_string(path, userfile::limit::CLOUD_CONFIG)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_yaml_ng::from_str(&text).map_err(|e| format!("{} is not valid YAML: {e}", path.display()))
}

/// Merges `extra` into `base`, recursively for mappings (secure.yaml over clouds.yaml).
fn merge(base: &mut Mapping, extra: &Mapping) {
    for (k, v) in extra {
        match (base.get_mut(k), v) {
            (Some(Value::Mapping(b)), Value::Mapping(e)) => merge(b, e),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// A string field of a mapping (numbers and booleans as text too).
fn field(m: &Mapping, key: &str) -> Option<String> {
    match m.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn from_entry(name: &str, e: &Mapping) -> Result<Cloud, String> {
    let empty = Mapping::new();
    let auth = e.get("auth").and_then(Value::as_mapping).unwrap_or(&empty);
    let get = |k: &str| field(auth, k).or_else(|| field(e, k));
    let verify = match e.get("verify") {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => !matches!(s.as_str(), "false" | "False" | "no"),
        _ => true,
    };
    let insecure = e.get("insecure").and_then(Value::as_bool).unwrap_or(false);
    build(
        name,
        &get,
        field(e, "auth_type").as_deref(),
        field(e, "region_name"),
        field(e, "interface").or_else(|| field(e, "endpoint_type")),
        field(e, "cacert").map(PathBuf::from),
        verify && !insecure,
        "clouds.yaml",
    )
}

fn from_env(env: &HashMap<String, String>) -> Result<Cloud, String> {
    let var = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
    let get = |k: &str| {
        let alt = match k {
            "project_name" => Some("OS_TENANT_NAME"),
            "project_id" => Some("OS_TENANT_ID"),
            _ => None,
        };
        var(&format!("OS_{}", k.to_ascii_uppercase())).or_else(|| alt.and_then(var))
    };
    if get("auth_url").is_none() {
        return Err("no cloud configured: set OS_CLOUD (or `cloud` in [migration.openstack]) to an entry of clouds.yaml, or source an openrc file (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, ...)".into());
    }
    let insecure = matches!(
        var("OS_INSECURE").as_deref(),
        Some("true" | "True" | "1" | "yes")
    );
    build(
        "environment",
        &get,
        var("OS_AUTH_TYPE").as_deref(),
        var("OS_REGION_NAME"),
        var("OS_INTERFACE").or_else(|| var("OS_ENDPOINT_TYPE")),
        var("OS_CACERT").map(PathBuf::from),
        !insecure,
        "the OS_* environment",
    )
}

#[allow(clippy::too_many_arguments)]
fn build(
    name: &str,
    get: &dyn Fn(&str) -> Option<String>,
    auth_type: Option<&str>,
    region: Option<String>,
    interface: Option<String>,
    cacert: Option<PathBuf>,
    verify: bool,
    source: &str,
) -> Result<Cloud, String> {
    let missing = |k: &str| format!("`{k}` is missing in {source}");
    let auth_url = v3_url(&get("auth_url").ok_or_else(|| missing("auth_url"))?);
    let domain = |name_key: &str, id_key: &str| {
        get(id_key)
            .map(DomainRef::Id)
            .or_else(|| get(name_key).map(DomainRef::Name))
            .or_else(|| get("domain_id").map(DomainRef::Id))
            .or_else(|| get("domain_name").map(DomainRef::Name))
    };
    let user = || {
        get("user_id").map(Named::Id).or_else(|| {
            get("username").map(|name| Named::Name {
                name,
                domain: domain("user_domain_name", "user_domain_id"),
            })
        })
    };
    let kind = auth_type.unwrap_or("password").replace('-', "_");
    let auth = match kind.as_str() {
        "password" | "v3password" => Auth::Password {
            user: user().ok_or_else(|| missing("username (or user_id)"))?,
            password: Secret::new(get("password").ok_or_else(|| missing("password"))?),
            project: get("project_id").map(Named::Id).or_else(|| {
                get("project_name").map(|name| Named::Name {
                    name,
                    domain: domain("project_domain_name", "project_domain_id"),
                })
            }),
        },
        "v3applicationcredential" | "application_credential" => {
            let credential = match get("application_credential_id") {
                Some(id) => AppCredentialRef::Id(id),
                None => AppCredentialRef::Name {
                    name: get("application_credential_name")
                        .ok_or_else(|| missing("application_credential_id (or _name)"))?,
                    user: user().ok_or_else(|| {
                        missing("username (an application credential by name needs its user)")
                    })?,
                },
            };
            Auth::ApplicationCredential {
                credential,
                secret: Secret::new(
                    get("application_credential_secret")
                        .ok_or_else(|| missing("application_credential_secret"))?,
                ),
            }
        }
        other => {
            return Err(format!(
                "auth type `{other}` in {source} is not supported: use `password` or `v3applicationcredential` (Keystone v3)"
            ));
        }
    };
    let interface = interface
        .map(|i| i.trim_end_matches("URL").to_ascii_lowercase())
        .unwrap_or_else(|| "public".into());
    if !matches!(interface.as_str(), "public" | "internal" | "admin") {
        return Err(format!(
            "interface `{interface}` in {source}: use public, internal or admin"
        ));
    }
    Ok(Cloud {
        name: name.into(),
        auth_url,
        auth,
        region,
        interface,
        cacert,
        verify,
    })
}

/// Keystone's v3 URL from an `auth_url` with or without the version.
fn v3_url(u: &str) -> String {
    let t = u.trim_end_matches('/');
    if t.ends_with("/v3") {
        t.to_string()
    } else {
        format!("{t}/v3")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(kv: &[(&str, &str)]) -> HashMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn openrc_variables_give_a_password_cloud() {
        let c = load(
            None,
            &env(&[
                ("OS_AUTH_URL", "https://keystone.example:5000"),
                ("OS_USERNAME", "alice"),
                ("OS_PASSWORD", "pw-1234"),
                ("OS_PROJECT_NAME", "demo"),
                ("OS_USER_DOMAIN_NAME", "Default"),
                ("OS_PROJECT_DOMAIN_ID", "default"),
                ("OS_REGION_NAME", "RegionTwo"),
                ("OS_INTERFACE", "internalURL"),
            ]),
        )
        .unwrap();
        assert_eq!(c.auth_url, "https://keystone.example:5000/v3");
        assert_eq!(c.region.as_deref(), Some("RegionTwo"));
        assert_eq!(c.interface, "internal");
        let Auth::Password {
            user,
            password,
            project,
        } = &c.auth
        else {
            panic!("{c:?}")
        };
        assert_eq!(
            *user,
            Named::Name {
                name: "alice".into(),
                domain: Some(DomainRef::Name("Default".into()))
            }
        );
        assert_eq!(password.expose(), "pw-1234");
        assert_eq!(
            *project,
            Some(Named::Name {
                name: "demo".into(),
                domain: Some(DomainRef::Id("default".into()))
            })
        );
        assert!(!format!("{c:?}").contains("pw-1234"));
    }

    #[test]
    fn clouds_yaml_with_secure_yaml_and_application_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let clouds = dir.path().join("clouds.yaml");
        std::fs::write(
            &clouds,
            "clouds:\n  lab:\n    auth_type: v3applicationcredential\n    auth:\n      auth_url: http://127.0.0.1:5000/v3/\n      application_credential_id: abc123\n    region_name: R1\n    verify: false\n  other:\n    auth:\n      auth_url: http://x\n",
        )
        .unwrap();
        let secure = dir.path().join("secure.yaml");
        std::fs::write(
            &secure,
            "clouds:\n  lab:\n    auth:\n      application_credential_secret: s3cr3t-value\n",
        )
        .unwrap();
        let e = env(&[
            ("OS_CLIENT_CONFIG_FILE", clouds.to_str().unwrap()),
            ("OS_CLIENT_SECURE_FILE", secure.to_str().unwrap()),
            ("OS_CLOUD", "lab"),
        ]);
        let c = load(None, &e).unwrap();
        assert_eq!(c.auth_url, "http://127.0.0.1:5000/v3");
        assert!(!c.verify);
        assert_eq!(
            c.auth,
            Auth::ApplicationCredential {
                credential: AppCredentialRef::Id("abc123".into()),
                secret: Secret::new("s3cr3t-value"),
            }
        );
        let err = load(Some("nope"), &e).unwrap_err();
        assert!(
            err.contains("no cloud `nope`") && err.contains("lab, other"),
            "{err}"
        );
        let err = load(Some("other"), &e).unwrap_err();
        assert!(err.contains("`username (or user_id)` is missing"), "{err}");
    }

    #[test]
    fn nothing_configured_says_what_to_do() {
        let err = load(None, &env(&[("HOME", "/nonexistent")])).unwrap_err();
        assert!(err.contains("OS_CLOUD") && err.contains("openrc"), "{err}");
        let err = load(
            None,
            &env(&[
                ("OS_AUTH_URL", "http://k"),
                ("OS_AUTH_TYPE", "token"),
                ("OS_TOKEN", "x"),
            ]),
        )
        .unwrap_err();
        assert!(err.contains("auth type `token`"), "{err}");
    }
}
