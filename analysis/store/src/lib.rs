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

/// `url` with its password replaced by `***` (URLs reach logs and errors).
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (auth, host) = match rest.rsplit_once('@') {
        Some(x) => x,
        None => return url.to_string(),
    };
    match auth.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_string(),
    }
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
    }
}
