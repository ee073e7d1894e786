//! `$Number$` segment templates: a `SegmentTemplate@media` split once into its
//! literals and number widths, and the segment URLs built from it without the URL
//! parser when they are plain paths.

use super::model::{Resource, Segment, SegmentRef};
use std::sync::Arc;
use url::Url;

/// A `$Number$` SegmentTemplate with a fixed segment duration.
///
/// `@media` is split once, when the template is made, into its literal parts and its
/// `$Number$` identifiers, and the text every segment's URL starts with is kept: a
/// segment's URL is then that prefix, the number's digits and the literals, with no
/// formatting and no scan of the template per segment.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberTemplate {
    /// `@media` with every identifier except `$Number$` already substituted.
    media: String,
    /// Base URL the expanded template is resolved against.
    base: Url,
    /// `@startNumber` (default 1).
    pub start_number: u64,
    /// Segment duration in seconds (`@duration / @timescale`).
    pub duration_s: f64,
    /// Presentation time of segment `start_number` (the period start).
    pub first_start_s: f64,
    /// VoD: number of segments; `None` for an open-ended live presentation.
    pub count: Option<u64>,
    /// `media` split at its `$Number$` identifiers.
    split: SplitTemplate,
    /// The base's scheme, authority and directory followed by `split.head`, when the
    /// expanded template is a plain relative path (see [`join_plain_path`]): every
    /// segment's URL starts with it. `None`: URLs go through the URL parser.
    plain_prefix: Option<String>,
}

impl NumberTemplate {
    /// A template of segments `media` (every identifier but `$Number$` substituted)
    /// relative to `base`, numbered from `start_number`, each `duration_s` long, the
    /// first starting at `first_start_s`; `count` segments (`None`: open-ended).
    pub fn new(
        media: String,
        base: Url,
        start_number: u64,
        duration_s: f64,
        first_start_s: f64,
        count: Option<u64>,
    ) -> Self {
        let split = SplitTemplate::new(&media, "Number");
        let plain_prefix = join_plain_path(&base, &split);
        Self {
            media,
            base,
            start_number,
            duration_s,
            first_start_s,
            count,
            split,
            plain_prefix,
        }
    }

    /// `@media` with every identifier except `$Number$` already substituted.
    pub fn media(&self) -> &str {
        &self.media
    }

    /// Base URL the expanded template is resolved against.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The segment with number `number`, or `None` if outside the template.
    pub fn segment(&self, number: u64) -> Option<Segment> {
        let k = self.offset(number)?;
        let mut path = String::with_capacity(self.media.len() + 8);
        self.split.expand_into(&mut path, number);
        let url = self.base.join(&path).ok()?;
        Some(Segment {
            number,
            start_s: self.first_start_s + k as f64 * self.duration_s,
            duration_s: self.duration_s,
            resource: Resource { url, range: None },
        })
    }

    /// Position of segment `number` in the template (0 = `start_number`), or `None`
    /// if outside it.
    fn offset(&self, number: u64) -> Option<u64> {
        let k = number.checked_sub(self.start_number)?;
        self.count.is_none_or(|c| k < c).then_some(k)
    }

    /// Segment `number` with its URL as text ([`NumberTemplate::url_text`]), or
    /// `None` if outside the template.
    pub fn segment_ref(&self, number: u64) -> Option<SegmentRef> {
        let k = self.offset(number)?;
        // Assembled in a buffer kept by the thread, so that the shared text is the
        // URL's only allocation.
        let url = URL_SCRATCH.with_borrow_mut(|text| {
            text.clear();
            self.push_url(text, number)
                .then(|| Arc::from(text.as_str()))
        })?;
        Some(SegmentRef {
            number,
            start_s: self.first_start_s + k as f64 * self.duration_s,
            duration_s: self.duration_s,
            url,
            range: None,
        })
    }

    /// The text of segment `number`'s URL: what `self.segment(number)` would give,
    /// without parsing a URL when the expanded template is a plain relative path (the
    /// usual `$RepresentationID$/$Number$.m4s`): then it is the base up to its last
    /// `/` followed by the path. Anything else (dot segments, characters a URL
    /// encodes, a scheme or host) is joined by the URL parser.
    pub fn url_text(&self, number: u64) -> Option<String> {
        let mut text = String::new();
        self.push_url(&mut text, number).then_some(text)
    }

    /// Appends [`NumberTemplate::url_text`] to `out`; false (and nothing appended)
    /// when `number` is outside the template or its URL does not parse.
    fn push_url(&self, out: &mut String, number: u64) -> bool {
        if self.offset(number).is_none() {
            return false;
        }
        let Some(prefix) = &self.plain_prefix else {
            return match self.segment(number) {
                Some(s) => {
                    out.push_str(s.resource.url.as_str());
                    true
                }
                None => false,
            };
        };
        let mut buf = [0u8; 20];
        let digits = decimal(number, &mut buf);
        out.reserve(prefix.len() + self.split.tail_len(digits.len()));
        out.push_str(prefix);
        self.split.push_tail(out, digits);
        true
    }

    /// The number of the segment that covers presentation time `t` (the first one
    /// for earlier times).
    pub fn number_at(&self, t: f64) -> u64 {
        let k = ((t - self.first_start_s) / self.duration_s + 1e-9).floor();
        // A far time saturates (`as` does, and so must the sum) instead of overflowing.
        self.start_number
            .saturating_add(if k > 0.0 { k as u64 } else { 0 })
    }
}

thread_local! {
    /// Where [`NumberTemplate::segment_ref`] assembles a URL before sharing it.
    static URL_SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The text of `base.join(path)` up to the first `$Number$` of `template`, without
/// the URL parser, when every expansion of `template` is a plain relative path: only
/// ASCII letters, digits, `-`, `_`, `.`, `~` and `/`, not starting with `/`, without
/// empty, `.` or `..` segments. Such a path is appended to the base's directory
/// unchanged (nothing to encode or resolve). `None` otherwise.
///
/// Whether an expansion is plain does not depend on the number: a number is
/// non-empty digits, and `/` comes only from the literals, so the path's segments
/// that hold a number are never empty, `.` or `..`, and the others are the same for
/// every number. The check runs once, on the expansion of 0.
fn join_plain_path(base: &Url, template: &SplitTemplate) -> Option<String> {
    if base.cannot_be_a_base() {
        return None;
    }
    let mut path = String::new();
    template.expand_into(&mut path, 0);
    let plain = !path.is_empty()
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/'))
        && path.split('/').all(|seg| !matches!(seg, "" | "." | ".."));
    if !plain {
        return None;
    }
    let dir = &base[..url::Position::BeforePath];
    let base_path = base.path();
    let dir_path = &base_path[..=base_path.rfind('/')?];
    Some([dir, dir_path, &template.head].concat())
}

/// A DASH template split at one identifier (`$<name>$` or `$<name>%0<width>d$`, ISO
/// 23009-1 5.3.9.4.4): the literal text before the first occurrence, then each
/// occurrence's width with the literal text after it. `$$` is already `$` in the
/// literals; other identifiers stay as written.
#[derive(Debug, Clone, PartialEq)]
struct SplitTemplate {
    head: String,
    /// `(minimum width, literal after)` per occurrence; the width pads with zeros.
    parts: Vec<(usize, String)>,
}

impl SplitTemplate {
    fn new(template: &str, name: &str) -> Self {
        let mut head = String::new();
        let mut parts: Vec<(usize, String)> = Vec::new();
        let mut rest = template;
        // The literal being written: `head` until the first occurrence, then the
        // last occurrence's.
        fn lit<'a>(head: &'a mut String, parts: &'a mut [(usize, String)]) -> &'a mut String {
            parts.last_mut().map_or(head, |(_, l)| l)
        }
        while let Some(start) = rest.find('$') {
            lit(&mut head, &mut parts).push_str(&rest[..start]);
            let after = &rest[start + 1..];
            let Some(end) = after.find('$') else {
                lit(&mut head, &mut parts).push_str(&rest[start..]);
                rest = "";
                break;
            };
            let ident = &after[..end];
            if ident.is_empty() {
                lit(&mut head, &mut parts).push('$');
            } else if ident == name {
                parts.push((1, String::new()));
            } else if let Some(fmt) = ident.strip_prefix(name).and_then(|f| f.strip_prefix('%')) {
                let width: usize = fmt
                    .trim_start_matches('0')
                    .trim_end_matches('d')
                    .parse()
                    .unwrap_or(1);
                parts.push((width, String::new()));
            } else {
                let l = lit(&mut head, &mut parts);
                l.push('$');
                l.push_str(ident);
                l.push('$');
            }
            rest = &after[end + 1..];
        }
        lit(&mut head, &mut parts).push_str(rest);
        Self { head, parts }
    }

    /// Appends the template with `value` substituted.
    fn expand_into(&self, out: &mut String, value: u64) {
        let mut buf = [0u8; 20];
        out.push_str(&self.head);
        self.push_tail(out, decimal(value, &mut buf));
    }

    /// Appends what follows the head, for a value whose decimal digits are `digits`:
    /// each occurrence's digits (zero-padded to its width) and its literal.
    fn push_tail(&self, out: &mut String, digits: &[u8]) {
        for (width, literal) in &self.parts {
            for _ in digits.len()..*width {
                out.push('0');
            }
            out.extend(digits.iter().map(|&d| char::from(d)));
            out.push_str(literal);
        }
    }

    /// Length of what [`SplitTemplate::push_tail`] appends for `digits` digits.
    fn tail_len(&self, digits: usize) -> usize {
        self.parts
            .iter()
            .map(|(w, l)| digits.max(*w) + l.len())
            .sum()
    }
}

/// The decimal digits of `value` (ASCII), written at the end of `buf`.
fn decimal(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buf[i..]
}

/// Substitutes `$Number$` and `$Number%0Nd$` in a DASH template.
pub fn expand_number(template: &str, number: u64) -> String {
    expand_identifier(template, "Number", number)
}

/// Substitutes `$<name>$` and `$<name>%0<width>d$` (ISO 23009-1 5.3.9.4.4) with
/// `value`; `$$` becomes `$`.
pub fn expand_identifier(template: &str, name: &str, value: u64) -> String {
    let mut out = String::with_capacity(template.len() + 8);
    SplitTemplate::new(template, name).expand_into(&mut out, value);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_number_with_and_without_width() {
        assert_eq!(expand_number("seg-$Number$.m4s", 7), "seg-7.m4s");
        assert_eq!(expand_number("seg-$Number%05d$.m4s", 7), "seg-00007.m4s");
        assert_eq!(expand_number("a$$b-$Number$", 3), "a$b-3");
        assert_eq!(expand_number("x-$Time$", 3), "x-$Time$");
    }

    #[test]
    fn template_maps_time_to_number() {
        let tpl = NumberTemplate::new(
            "s-$Number$.m4s".into(),
            Url::parse("http://h/v/").unwrap(),
            1,
            2.0,
            0.0,
            Some(3),
        );
        assert_eq!(tpl.number_at(0.0), 1);
        assert_eq!(tpl.number_at(3.9), 2);
        assert_eq!(tpl.number_at(4.0), 3);
        let s = tpl.segment(3).unwrap();
        assert_eq!(s.start_s, 4.0);
        assert_eq!(s.resource.url.as_str(), "http://h/v/s-3.m4s");
        assert!(tpl.segment(4).is_none());
        assert!(tpl.segment(0).is_none());
        assert_eq!(tpl.url_text(3).as_deref(), Some("http://h/v/s-3.m4s"));
        let padded = NumberTemplate::new(
            "$Number%03d$/$Number$-$$.m4s".into(),
            Url::parse("http://h/v/m.mpd").unwrap(),
            1,
            2.0,
            0.0,
            None,
        );
        assert_eq!(
            padded.url_text(7).as_deref(),
            Some("http://h/v/007/7-$.m4s"),
            "parser path: `$` is not plain"
        );
        let plain = NumberTemplate::new(
            "$Number%03d$/$Number$.m4s".into(),
            Url::parse("http://h/v/m.mpd").unwrap(),
            1,
            2.0,
            0.0,
            None,
        );
        assert_eq!(plain.url_text(7).as_deref(), Some("http://h/v/007/7.m4s"));
        assert_eq!(
            plain.url_text(12345).as_deref(),
            Some("http://h/v/12345/12345.m4s")
        );
        assert_eq!(tpl.number_at(2.3e270), u64::MAX, "saturates, no overflow");
        assert!(tpl.segment(tpl.number_at(f64::MAX)).is_none());
    }

    #[test]
    fn url_text_is_the_joined_url() {
        let bases = [
            "http://h/v/m.mpd",
            "https://user:pw@h:8443/a/b/m.mpd?token=x#frag",
            "http://h/",
            "http://h",
            "file:///srv/media/m.mpd",
            "http://h/%7Edir/m.mpd",
            "data:text/plain,cannot-be-a-base",
        ];
        let media = [
            "s-$Number$.m4s",
            "v1/$Number%05d$.m4s",
            "../up/$Number$.m4s",
            "./here/$Number$.m4s",
            "/abs/$Number$.m4s",
            "a//b/$Number$.m4s",
            "with space/$Number$.m4s",
            "q-$Number$.m4s?x=1",
            "//cdn/$Number$.m4s",
            "http://other/$Number$.m4s",
            "caf\u{e9}/$Number$.m4s",
            "back\\slash/$Number$",
            "$Number$/$Number%03d$.m4s",
            "a$$b/$Number$.m4s",
            ".$Number$/x.m4s",
            "..$Number$.m4s",
            "$Number$",
            "x/$Number$/",
            "static.m4s",
            "x-$Time$-$Number$.m4s",
        ];
        for b in bases {
            for m in media {
                let tpl = NumberTemplate::new(m.into(), Url::parse(b).unwrap(), 0, 2.0, 0.0, None);
                for n in [0, 1, 9, 10, 12345, u64::MAX] {
                    let joined = tpl.segment(n).map(|s| s.resource.url.to_string());
                    assert_eq!(tpl.url_text(n), joined, "{b} + {m} #{n}");
                }
            }
        }
    }
}
