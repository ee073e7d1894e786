//! Results in PostgreSQL (docs/postgres.md).
//!
//! [`connect`] opens a connection and applies the schema's migrations
//! (`migrations/*.sql`, recorded in `qoeprobe_schema`); [`load_folder`] loads a
//! campaign's results folder (idempotently: a run already loaded with the same
//! content is skipped, a changed one, e.g. an interrupted run finished by `--resume`,
//! replaced); [`read_campaign`] reads a campaign back as an [`analysis::Campaign`],
//! judged as the folder would be; [`Live`] loads a campaign's runs as they finish
//! (`qoeprobe run --postgres URL`). [`throwaway`] starts a private cluster in a
//! temporary folder for tests and benchmarks.

mod error;
mod live;
mod load;
mod prepare;
mod read;
mod rows;
mod schema;
pub mod throwaway;
mod write;

pub use error::StoreError;
pub use live::Live;
pub use load::{LoadStats, load_folder};
pub use read::{campaign_names, read_campaign};
pub use schema::{MIGRATIONS, migrate};

/// A connection: the client, its connection driven by a tokio task.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, StoreError> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .map_err(|e| StoreError::Connect {
            url: redact(url),
            source: e,
        })?;
    tokio::spawn(async move {
        // Errors surface on the client's next call; nothing to add here.
        let _ = connection.await;
    });
    Ok(client)
}

/// `url` with its password replaced by `***` (URLs reach logs and errors): the
/// password of a URL's user info, and the value of every `password=` parameter (a
/// URL's query, or a `key=value` connection string, quoted or not).
pub fn redact(url: &str) -> String {
    let mut out = match url.split_once("://") {
        Some((scheme, rest)) => {
            // The user info ends at the last `@` before the path.
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rsplit_once('@') {
                Some((auth, _)) => match auth.split_once(':') {
                    Some((user, _)) => {
                        format!("{scheme}://{user}:***{}", &rest[auth.len()..])
                    }
                    None => url.to_string(),
                },
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    };
    let mut from = 0;
    while let Some(at) = out[from..].to_ascii_lowercase().find("password=") {
        let start = from + at + "password=".len();
        let rest = &out[start..];
        let len = match rest.strip_prefix('\'') {
            // 'a quoted value', in which \' is a quote
            Some(quoted) => {
                let mut escaped = false;
                let end = quoted
                    .char_indices()
                    .find(|&(_, c)| {
                        let closes = !escaped && c == '\'';
                        escaped = !escaped && c == '\\';
                        closes
                    })
                    .map_or(quoted.len(), |(k, _)| k + 1);
                1 + end
            }
            None => rest
                .find(|c: char| c.is_whitespace() || c == '&')
                .unwrap_or(rest.len()),
        };
        out.replace_range(start..start + len, "***");
        from = start + 3;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_show() {
        assert_eq!(
            super::redact("postgres://me:s3cret@db:5432/q"),
            "postgres://me:***@db:5432/q"
        );
        assert_eq!(super::redact("postgres://db/q"), "postgres://db/q");
        assert_eq!(super::redact("host=/tmp dbname=q"), "host=/tmp dbname=q");
        assert_eq!(
            super::redact("host=db password=s3cret dbname=q"),
            "host=db password=*** dbname=q"
        );
        assert_eq!(
            super::redact("host=db password='s3 \\'cret' dbname=q"),
            "host=db password=*** dbname=q"
        );
        assert_eq!(
            super::redact("postgres://me@db/q?PASSWORD=s3cret&sslmode=disable"),
            "postgres://me@db/q?PASSWORD=***&sslmode=disable"
        );
        // An `@` in the path is not user info.
        assert_eq!(super::redact("postgres://db/q@x"), "postgres://db/q@x");
    }
}
