//! Keystone v3: a token (`POST /v3/auth/tokens`, password or application credential)
//! and the compute endpoint from the token's service catalog.

use super::cloud::{AppCredentialRef, Auth, Cloud, DomainRef, Named};
use super::http::{Http, HttpError};
use super::secret::Secret;
use serde_json::{Value, json};

/// A token and where Nova is.
#[derive(Debug, Clone)]
pub struct Session {
    /// The token (`X-Auth-Token`).
    pub token: Secret,
    /// Nova's endpoint (e.g. `https://nova.example:8774/v2.1`).
    pub compute_url: String,
    /// The project the token is scoped to (for messages).
    pub project: Option<String>,
}

/// The v3 request body for `cloud`'s credentials.
pub fn auth_body(cloud: &Cloud) -> Value {
    let named = |n: &Named| match n {
        Named::Id(id) => json!({ "id": id }),
        Named::Name { name, domain } => json!({
            "name": name,
            "domain": match domain {
                Some(DomainRef::Id(id)) => json!({ "id": id }),
                Some(DomainRef::Name(n)) => json!({ "name": n }),
                None => json!({ "id": "default" }),
            },
        }),
    };
    match &cloud.auth {
        Auth::Password {
            user,
            password,
            project,
        } => {
            let mut user = named(user);
            user["password"] = json!(password.expose());
            let mut body = json!({ "auth": { "identity": {
                "methods": ["password"],
                "password": { "user": user },
            }}});
            if let Some(p) = project {
                body["auth"]["scope"] = json!({ "project": named(p) });
            }
            body
        }
        Auth::ApplicationCredential { credential, secret } => {
            let mut cred = match credential {
                AppCredentialRef::Id(id) => json!({ "id": id }),
                AppCredentialRef::Name { name, user } => {
                    json!({ "name": name, "user": named(user) })
                }
            };
            cred["secret"] = json!(secret.expose());
            json!({ "auth": { "identity": {
                "methods": ["application_credential"],
                "application_credential": cred,
            }}})
        }
    }
}

/// Authenticates and finds the compute endpoint.
pub async fn authenticate(http: &Http, cloud: &Cloud) -> Result<Session, String> {
    let url = format!("{}/auth/tokens", cloud.auth_url);
    let resp = http.post_json(&url, None, &[], &auth_body(cloud)).await;
    let resp = match resp {
        Ok(r) => r,
        Err(HttpError::Status { status: 401, .. }) => {
            return Err(format!(
                "Keystone at {} refused the credentials of cloud `{}` (401): check the user, password or application credential, and the domains",
                cloud.auth_url, cloud.name
            ));
        }
        Err(e) => return Err(format!("cannot authenticate with Keystone: {e}")),
    };
    let token = resp
        .header("x-subject-token")
        .ok_or("Keystone's answer has no X-Subject-Token header")?;
    let token = Secret::new(token);
    http.redactor().add(&token);
    let body = resp.json()?;
    let compute_url = compute_endpoint(&body, cloud)?;
    Ok(Session {
        token,
        compute_url,
        project: body["token"]["project"]["name"]
            .as_str()
            .map(str::to_string),
    })
}

/// The compute endpoint of a token response for the cloud's interface and region.
pub fn compute_endpoint(body: &Value, cloud: &Cloud) -> Result<String, String> {
    let catalog = body["token"]["catalog"].as_array().ok_or(
        "the token has no service catalog: the credentials are not scoped to a project (set project_name or project_id)",
    )?;
    let compute = catalog
        .iter()
        .find(|s| s["type"] == "compute")
        .ok_or("the service catalog has no `compute` service: this cloud has no Nova endpoint for this project")?;
    let endpoints = compute["endpoints"].as_array().cloned().unwrap_or_default();
    let region_ok = |e: &Value| match &cloud.region {
        None => true,
        Some(r) => e["region_id"] == r.as_str() || e["region"] == r.as_str(),
    };
    endpoints
        .iter()
        .find(|e| e["interface"] == cloud.interface.as_str() && region_ok(e))
        .and_then(|e| e["url"].as_str())
        .map(|u| u.trim_end_matches('/').to_string())
        .ok_or_else(|| {
            let have: Vec<String> = endpoints
                .iter()
                .map(|e| {
                    format!(
                        "{} in {}",
                        e["interface"].as_str().unwrap_or("?"),
                        e["region_id"].as_str().or(e["region"].as_str()).unwrap_or("?")
                    )
                })
                .collect();
            format!(
                "no {} compute endpoint{} in the catalog (it has: {}); set `interface` / `region_name` (OS_INTERFACE / OS_REGION_NAME)",
                cloud.interface,
                cloud
                    .region
                    .as_ref()
                    .map(|r| format!(" in region {r}"))
                    .unwrap_or_default(),
                have.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cloud(auth: Auth) -> Cloud {
        Cloud {
            name: "t".into(),
            auth_url: "http://k/v3".into(),
            auth,
            region: Some("R2".into()),
            interface: "public".into(),
            cacert: None,
            verify: true,
        }
    }

    #[test]
    fn password_and_application_credential_bodies() {
        let c = cloud(Auth::Password {
            user: Named::Name {
                name: "admin".into(),
                domain: Some(DomainRef::Name("Default".into())),
            },
            password: Secret::new("pw"),
            project: Some(Named::Id("p1".into())),
        });
        let b = auth_body(&c);
        assert_eq!(b["auth"]["identity"]["methods"][0], "password");
        assert_eq!(
            b["auth"]["identity"]["password"]["user"]["domain"]["name"],
            "Default"
        );
        assert_eq!(b["auth"]["identity"]["password"]["user"]["password"], "pw");
        assert_eq!(b["auth"]["scope"]["project"]["id"], "p1");
        let a = cloud(Auth::ApplicationCredential {
            credential: AppCredentialRef::Id("ac".into()),
            secret: Secret::new("s"),
        });
        let b = auth_body(&a);
        assert_eq!(b["auth"]["identity"]["application_credential"]["id"], "ac");
        assert_eq!(
            b["auth"]["identity"]["application_credential"]["secret"],
            "s"
        );
        assert!(b["auth"].get("scope").is_none());
    }

    #[test]
    fn picks_the_endpoint_of_the_interface_and_region() {
        let body = json!({"token": {"catalog": [
            {"type": "identity", "endpoints": []},
            {"type": "compute", "endpoints": [
                {"interface": "public", "region_id": "R1", "url": "http://r1/v2.1"},
                {"interface": "internal", "region_id": "R2", "url": "http://r2-int/v2.1"},
                {"interface": "public", "region_id": "R2", "url": "http://r2/v2.1/"}
            ]}
        ]}});
        let c = cloud(Auth::ApplicationCredential {
            credential: AppCredentialRef::Id("x".into()),
            secret: Secret::new("s"),
        });
        assert_eq!(compute_endpoint(&body, &c).unwrap(), "http://r2/v2.1");
        let mut c3 = c.clone();
        c3.region = Some("R9".into());
        let err = compute_endpoint(&body, &c3).unwrap_err();
        assert!(
            err.contains("region R9") && err.contains("public in R1"),
            "{err}"
        );
        let err = compute_endpoint(&json!({"token": {}}), &c).unwrap_err();
        assert!(err.contains("not scoped"), "{err}");
    }
}
