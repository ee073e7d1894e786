//! The store's errors.

/// What can go wrong talking to PostgreSQL or reading a folder for it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The server could not be reached or refused the login.
    #[error(
        "cannot connect to {url}: {source} (is the server running, and the URL's user, password and database right?)"
    )]
    Connect {
        /// The URL, password redacted.
        url: String,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
    /// A statement failed.
    #[error("PostgreSQL: {what}: {source}")]
    Sql {
        /// What was being done.
        what: String,
        /// The driver's error.
        source: tokio_postgres::Error,
    },
    /// The results folder could not be read.
    #[error(transparent)]
    Folder(#[from] analysis::AnalysisError),
    /// The database holds no campaign of that name.
    #[error(
        "no campaign `{name}` in the database (it holds: {known}); load one with `qoeprobe export DIR --postgres URL`"
    )]
    NoCampaign {
        /// The name asked for.
        name: String,
        /// The names it holds.
        known: String,
    },
    /// The database's schema is newer than this version knows.
    #[error(
        "the database's qoeprobe schema is version {found}, newer than this qoeprobe's {known}: upgrade qoeprobe"
    )]
    NewerSchema {
        /// Found in the database.
        found: i32,
        /// Known here.
        known: i32,
    },
    /// The throw-away cluster could not be started.
    #[error("throw-away PostgreSQL cluster: {0}")]
    Cluster(String),
}

/// Wraps a driver error with what was being done.
pub(crate) fn sql(what: impl Into<String>) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Sql { what, source }
}
