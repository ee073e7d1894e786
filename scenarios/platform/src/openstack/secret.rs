//! Secrets (passwords, application credential secrets, tokens) that never reach a
//! log, an event, a results file or an error message: [`Secret`] prints as `***`, and
//! [`Redactor`] removes every known secret from a text before it leaves the driver
//! (an error body a server echoes, a URL a proxy rewrote).

use std::sync::{Arc, Mutex};

/// A secret value; `Debug` and `Display` print `***`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value.
    pub fn new(v: impl Into<String>) -> Self {
        Self(v.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Every secret this driver holds, to scrub texts with.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    /// Remembers `s` (values shorter than 4 characters are not scrubbed: they would
    /// mangle ordinary words, and no real credential is that short).
    pub fn add(&self, s: &Secret) {
        if s.expose().len() >= 4 {
            let mut v = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
            if !v.iter().any(|x| x == s.expose()) {
                v.push(s.expose().to_string());
                // Longest first, so a secret containing another is removed whole.
                v.sort_by_key(|x| std::cmp::Reverse(x.len()));
            }
        }
    }

    /// `text` with every known secret replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        let v = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        v.iter()
            .fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        let r = Redactor::default();
        r.add(&s);
        r.add(&Secret::new("hunter22-longer"));
        r.add(&Secret::new("ab"));
        assert_eq!(
            r.scrub("pw hunter22, other hunter22-longer, ab"),
            "pw ***, other ***, ab"
        );
    }
}
