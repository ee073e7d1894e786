//! The ISO BMFF segment index box (`sidx`, ISO/IEC 14496-12 8.16.3), which turns a
//! DASH `SegmentBase@indexRange` into a list of byte-range segments.
//!
//! Only a single-level index is supported: every reference must point at media
//! (`reference_type` 0); a hierarchical index (references to further `sidx` boxes) is
//! rejected with a clear error.

use url::Url;

use super::{ByteRange, ManifestError, Resource, Segment};

/// Size of a box header without `largesize`: `size` (4) + `type` (4).
const HEADER: usize = 8;
/// Size of one reference entry.
const REFERENCE: usize = 12;

/// A cursor over big-endian fields that reports truncation instead of panicking.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        match end.and_then(|e| self.bytes.get(self.pos..e)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(format!(
                "sidx truncated: {what} needs {n} bytes at offset {} but only {} are left",
                self.pos,
                self.bytes.len().saturating_sub(self.pos)
            )),
        }
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?.first().copied().unwrap_or(0))
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes(b.try_into().unwrap_or([0; 2])))
    }

    fn u32(&mut self, what: &str) -> Result<u32, String> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes(b.try_into().unwrap_or([0; 4])))
    }

    fn u64(&mut self, what: &str) -> Result<u64, String> {
        let b = self.take(8, what)?;
        Ok(u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
    }
}

/// Parses the `sidx` box fetched from `SegmentBase@indexRange` into media segments.
///
/// `bytes` are exactly the bytes of `index_range` of `media`; they must start with the
/// `sidx` box (size and type are validated; `size` 0 = up to the end of `bytes`,
/// `size` 1 = 64-bit `largesize`). Versions 0 and 1 are supported.
///
/// Byte ranges: the first subsegment starts `first_offset` bytes after the end of the
/// box, i.e. at `index_range.last + 1 + first_offset` when the box fills the range;
/// each further one follows the previous. Times: the first subsegment starts at
/// `period_start_s` (the box's `earliest_presentation_time` is taken to be the
/// period's `presentationTimeOffset`, as in on-demand profile content), the others
/// follow by `subsegment_duration / timescale`. Numbers start at 1.
pub fn parse_sidx(
    bytes: &[u8],
    index_range: ByteRange,
    media: &Url,
    period_start_s: f64,
) -> Result<Vec<Segment>, ManifestError> {
    parse_inner(bytes, index_range, media, period_start_s).map_err(|detail| {
        ManifestError::Invalid {
            url: format!("{media} (index range {index_range})"),
            detail,
        }
    })
}

fn parse_inner(
    bytes: &[u8],
    index_range: ByteRange,
    media: &Url,
    period_start_s: f64,
) -> Result<Vec<Segment>, String> {
    let mut r = Reader { bytes, pos: 0 };
    let size32 = r.u32("box size")?;
    let box_type = r.take(4, "box type")?;
    if box_type != b"sidx" {
        return Err(format!(
            "expected a 'sidx' box at the start of the index range, found {:?}; check \
             SegmentBase@indexRange",
            String::from_utf8_lossy(box_type)
        ));
    }
    let box_size: u64 = match size32 {
        0 => bytes.len() as u64,
        1 => r.u64("largesize")?,
        n => u64::from(n),
    };
    let header = HEADER as u64 + if size32 == 1 { 8 } else { 0 };
    if box_size < header + 4 {
        return Err(format!(
            "sidx box size {box_size} is smaller than its header"
        ));
    }
    if box_size > bytes.len() as u64 {
        return Err(format!(
            "sidx truncated: the box announces {box_size} bytes but the index range holds {}",
            bytes.len()
        ));
    }
    // The box fits in `bytes`, so its size fits in usize.
    let box_end = box_size as usize;
    let mut r = Reader {
        bytes: bytes.get(..box_end).unwrap_or(bytes),
        pos: r.pos,
    };
    let version = r.u8("version")?;
    r.take(3, "flags")?;
    r.u32("reference_ID")?;
    let timescale = r.u32("timescale")?;
    if timescale == 0 {
        return Err("sidx timescale is 0".into());
    }
    let first_offset = match version {
        0 => {
            r.u32("earliest_presentation_time")?;
            u64::from(r.u32("first_offset")?)
        }
        1 => {
            r.u64("earliest_presentation_time")?;
            r.u64("first_offset")?
        }
        v => return Err(format!("unsupported sidx version {v} (only 0 and 1 exist)")),
    };
    r.u16("reserved")?;
    let count = r.u16("reference_count")?;
    if count == 0 {
        return Err("sidx has no references".into());
    }
    let needed = usize::from(count) * REFERENCE;
    if r.bytes.len().saturating_sub(r.pos) < needed {
        return Err(format!(
            "sidx truncated: {count} references need {needed} bytes but only {} are left",
            r.bytes.len().saturating_sub(r.pos)
        ));
    }

    // Absolute offset of the first byte after the box, in the media file.
    let after_box = index_range
        .first
        .checked_add(box_size)
        .ok_or("sidx offsets overflow")?;
    let mut offset = after_box
        .checked_add(first_offset)
        .ok_or("sidx first_offset overflows")?;
    let mut time: u64 = 0;
    let mut segments = Vec::with_capacity(usize::from(count));
    for i in 0..count {
        let word = r.u32("reference")?;
        let duration = r.u32("subsegment_duration")?;
        r.u32("SAP fields")?;
        if word & 0x8000_0000 != 0 {
            return Err(format!(
                "sidx reference {} points at another sidx (reference_type 1): hierarchical \
                 indexes are not supported",
                i + 1
            ));
        }
        let size = u64::from(word & 0x7fff_ffff);
        if size == 0 {
            return Err(format!("sidx reference {} has size 0", i + 1));
        }
        let last = offset
            .checked_add(size - 1)
            .ok_or("sidx byte offsets overflow")?;
        segments.push(Segment {
            number: u64::from(i) + 1,
            start_s: period_start_s + time as f64 / f64::from(timescale),
            duration_s: f64::from(duration) / f64::from(timescale),
            resource: Resource {
                url: media.clone(),
                range: Some(ByteRange {
                    first: offset,
                    last,
                }),
            },
        });
        offset = last.checked_add(1).ok_or("sidx byte offsets overflow")?;
        time = time.saturating_add(u64::from(duration));
    }
    Ok(segments)
}

/// Builds a `sidx` box (test helper): `refs` are `(referenced_size, subsegment_duration)`
/// media references; version 1 writes 64-bit times and offsets.
#[cfg(test)]
pub(crate) fn write_sidx(
    version: u8,
    timescale: u32,
    earliest_presentation_time: u64,
    first_offset: u64,
    refs: &[(u32, u32)],
) -> Vec<u8> {
    let mut body = Vec::new();
    body.push(version);
    body.extend_from_slice(&[0, 0, 0]);
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&timescale.to_be_bytes());
    if version == 0 {
        body.extend_from_slice(&(earliest_presentation_time as u32).to_be_bytes());
        body.extend_from_slice(&(first_offset as u32).to_be_bytes());
    } else {
        body.extend_from_slice(&earliest_presentation_time.to_be_bytes());
        body.extend_from_slice(&first_offset.to_be_bytes());
    }
    body.extend_from_slice(&0u16.to_be_bytes());
    body.extend_from_slice(&(refs.len() as u16).to_be_bytes());
    for &(size, duration) in refs {
        body.extend_from_slice(&(size & 0x7fff_ffff).to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.extend_from_slice(&0x9000_0000u32.to_be_bytes());
    }
    let mut out = ((body.len() + HEADER) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(b"sidx");
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media() -> Url {
        Url::parse("http://h/v/video_1000k.mp4").unwrap()
    }

    fn range_for(bytes: &[u8], first: u64) -> ByteRange {
        ByteRange {
            first,
            last: first + bytes.len() as u64 - 1,
        }
    }

    #[test]
    fn parses_version_0() {
        let b = write_sidx(0, 1000, 0, 0, &[(5000, 2000), (6000, 2000), (4000, 1500)]);
        let range = range_for(&b, 800);
        let segs = parse_sidx(&b, range, &media(), 10.0).unwrap();
        assert_eq!(segs.len(), 3);
        let first = range.last + 1;
        assert_eq!(segs[0].number, 1);
        assert_eq!(segs[0].start_s, 10.0);
        assert_eq!(segs[0].duration_s, 2.0);
        assert_eq!(
            segs[0].resource.range,
            Some(ByteRange {
                first,
                last: first + 4999
            })
        );
        assert_eq!(segs[1].start_s, 12.0);
        assert_eq!(segs[1].resource.range.unwrap().first, first + 5000);
        assert_eq!(segs[2].number, 3);
        assert_eq!(segs[2].start_s, 14.0);
        assert_eq!(segs[2].duration_s, 1.5);
        assert_eq!(segs[2].resource.range.unwrap().last, first + 14999);
        assert_eq!(segs[2].resource.url, media());
    }

    #[test]
    fn parses_version_1_with_first_offset() {
        let b = write_sidx(1, 90000, 1 << 40, 100, &[(1000, 180000), (2000, 180000)]);
        let range = range_for(&b, 0);
        let segs = parse_sidx(&b, range, &media(), 0.0).unwrap();
        assert_eq!(segs.len(), 2);
        let first = range.last + 1 + 100;
        assert_eq!(segs[0].resource.range.unwrap().first, first);
        assert_eq!(segs[0].resource.range.unwrap().last, first + 999);
        assert_eq!(segs[1].resource.range.unwrap().first, first + 1000);
        assert_eq!(segs[1].start_s, 2.0);
    }

    #[test]
    fn rejects_truncated_and_wrong_boxes() {
        let b = write_sidx(0, 1000, 0, 0, &[(5000, 2000), (6000, 2000)]);
        for cut in 0..b.len() {
            let part = &b[..cut];
            let range = ByteRange {
                first: 0,
                last: cut.max(1) as u64 - 1,
            };
            let err = parse_sidx(part, range, &media(), 0.0).unwrap_err();
            assert!(matches!(err, ManifestError::Invalid { .. }), "{err}");
        }
        let mut moof = b.clone();
        moof[4..8].copy_from_slice(b"moof");
        let err = parse_sidx(&moof, range_for(&moof, 0), &media(), 0.0).unwrap_err();
        assert!(err.to_string().contains("expected a 'sidx' box"), "{err}");
    }

    #[test]
    fn rejects_hierarchical_index_and_bad_fields() {
        let mut b = write_sidx(0, 1000, 0, 0, &[(5000, 2000)]);
        let refs_at = b.len() - REFERENCE;
        b[refs_at] |= 0x80;
        let err = parse_sidx(&b, range_for(&b, 0), &media(), 0.0).unwrap_err();
        assert!(err.to_string().contains("hierarchical"), "{err}");

        let b = write_sidx(0, 0, 0, 0, &[(5000, 2000)]);
        assert!(parse_sidx(&b, range_for(&b, 0), &media(), 0.0).is_err());
        let b = write_sidx(2, 1000, 0, 0, &[(5000, 2000)]);
        assert!(parse_sidx(&b, range_for(&b, 0), &media(), 0.0).is_err());
        let b = write_sidx(0, 1000, 0, 0, &[]);
        assert!(parse_sidx(&b, range_for(&b, 0), &media(), 0.0).is_err());
        // A size that overstates the box.
        let mut b = write_sidx(0, 1000, 0, 0, &[(5000, 2000)]);
        b[0..4].copy_from_slice(&1000u32.to_be_bytes());
        assert!(parse_sidx(&b, range_for(&b, 0), &media(), 0.0).is_err());
    }

    #[test]
    fn accepts_size_zero_meaning_to_the_end() {
        let mut b = write_sidx(0, 1000, 0, 0, &[(5000, 2000)]);
        b[0..4].copy_from_slice(&0u32.to_be_bytes());
        let segs = parse_sidx(&b, range_for(&b, 0), &media(), 0.0).unwrap();
        assert_eq!(segs.len(), 1);
    }
}
