//! Values as the binary COPY writes them: JSON text sent as `jsonb` without
//! re-encoding, and wall-clock times.

use bytes::{BufMut, BytesMut};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};

/// JSON text already serialized (a file's content, a timeline line), sent as is.
#[derive(Debug)]
pub(crate) struct RawJson<'a>(pub &'a str);

impl ToSql for RawJson<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        if *ty == Type::JSONB {
            out.put_u8(1);
        }
        out.put_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB || *ty == Type::JSON
    }

    to_sql_checked!();
}

/// The wall-clock time `t_ns` after `anchor_unix_ns`.
pub(crate) fn wall(anchor_unix_ns: u64, t_ns: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(anchor_unix_ns.saturating_add(t_ns))
}

/// A u64 counter as `bigint` (saturating: no counter reaches 2^63).
pub(crate) fn big(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
