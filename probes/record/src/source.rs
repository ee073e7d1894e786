//! [`Source`]: who saw an event, shared by every event of that source.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::{Borrow, Cow};
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// The `source` of an [`Event`](crate::Event) (`probe:<name>`, `migration`, `net`,
/// `runner`): an interned string. A probe emits thousands of events from one source,
/// so cloning it is a reference count, not an allocation. It reads, writes and
/// compares as a plain string.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Source(Arc<str>);

impl Source {
    /// The source as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for Source {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Source {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for Source {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Source {
    fn from(s: &str) -> Self {
        Self(Arc::from(s))
    }
}

impl From<String> for Source {
    fn from(s: String) -> Self {
        Self(Arc::from(s))
    }
}

impl From<&String> for Source {
    fn from(s: &String) -> Self {
        Self(Arc::from(s.as_str()))
    }
}

impl From<Source> for String {
    fn from(s: Source) -> Self {
        s.0.to_string()
    }
}

impl PartialEq<str> for Source {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Source {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Source {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Source> for str {
    fn eq(&self, other: &Source) -> bool {
        *self == *other.0
    }
}

impl PartialEq<Source> for &str {
    fn eq(&self, other: &Source) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Source> for String {
    fn eq(&self, other: &Source) -> bool {
        **self == *other.0
    }
}

impl Serialize for Source {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Source {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Cow::<'de, str>::deserialize(deserializer).map(|s| Self(Arc::from(s.as_ref())))
    }
}

/// The schema of a plain string: a `Source` is written as one.
impl JsonSchema for Source {
    fn inline_schema() -> bool {
        String::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        String::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        String::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        String::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_string_and_compare_as_strings() {
        let a = Source::from("probe:player");
        let b = a.clone();
        assert!(std::ptr::eq(a.as_str(), b.as_str()), "no copy");
        assert_eq!(a, "probe:player");
        assert_eq!(a, String::from("probe:player"));
        assert_eq!(a.strip_prefix("probe:"), Some("player"));
        assert_eq!(serde_json::to_string(&a).unwrap(), r#""probe:player""#);
        let back: Source = serde_json::from_str(r#""probe:pl\u0061yer""#).unwrap();
        assert_eq!(back, a);
    }
}
