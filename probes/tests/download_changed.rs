//! A file that changes between the first response and the resumed one, served by a
//! misbehaving HTTP server that ignores `If-Range` and answers the resume with a 206
//! of the new version: the download checker must not append it to the old bytes.

use probes::download::{self, DownloadConfig};
use record::clock::MonotonicClock;
use record::{DownloadOutcome, DownloadSummary};
use sha2::Digest;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const LEN: usize = 1000;
const CUT: usize = 400;

/// How the server identifies a version.
#[derive(Clone, Copy)]
enum Validator {
    ETag,
    LastModified,
}

fn validator_header(v: Validator, version: u8) -> String {
    match v {
        Validator::ETag => format!("ETag: \"v{version}\"\r\n"),
        Validator::LastModified => {
            format!("Last-Modified: Mon, 0{version} Jan 2024 00:00:00 GMT\r\n")
        }
    }
}

/// Reads a request head; returns its lines.
fn request(s: &mut BufReader<TcpStream>) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        if s.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
            return lines;
        }
        lines.push(l.trim_end().to_string());
    }
}

/// Serves: version 1 (all `a`), cut after CUT bytes; then, the file having changed
/// to version 2 (all `b`), a 206 of the rest of version 2 whatever If-Range says;
/// then whole version 2. Records the request heads.
fn misbehaving_server(v: Validator) -> (String, Arc<Mutex<Vec<Vec<String>>>>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/f", l.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for conn in l.incoming() {
            let Ok(conn) = conn else { return };
            let mut r = BufReader::new(conn.try_clone().unwrap());
            let head = request(&mut r);
            let ranged = head.iter().find_map(|h| {
                h.to_ascii_lowercase()
                    .strip_prefix("range: bytes=")
                    .map(|s| s.to_string())
            });
            let n = {
                let mut s = log.lock().unwrap();
                s.push(head);
                s.len()
            };
            let mut w = conn;
            let _ = match (n, ranged) {
                (1, _) => {
                    let _ = write!(
                        w,
                        "HTTP/1.1 200 OK\r\nContent-Length: {LEN}\r\n{}\r\n",
                        validator_header(v, 1)
                    );
                    w.write_all(&[b'a'; CUT])
                }
                (_, Some(r)) => {
                    let start: usize = r.trim_end_matches('-').parse().unwrap_or(0);
                    let _ = write!(
                        w,
                        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{LEN}\r\n{}\r\n",
                        LEN - start,
                        LEN - 1,
                        validator_header(v, 2)
                    );
                    w.write_all(&vec![b'b'; LEN - start])
                }
                (_, None) => {
                    let _ = write!(
                        w,
                        "HTTP/1.1 200 OK\r\nContent-Length: {LEN}\r\n{}\r\n",
                        validator_header(v, 2)
                    );
                    w.write_all(&[b'b'; LEN])
                }
            };
            let _ = w.flush();
        }
    });
    (url, seen)
}

async fn fetch(url: String) -> DownloadSummary {
    let mut c = DownloadConfig::new(url);
    c.backoff_base = Duration::from_millis(20);
    let clock = MonotonicClock::start();
    let events = download::run(c, &clock, |_| {}, std::future::pending())
        .await
        .expect("runs");
    download::summarize(&events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_206_of_a_changed_file_is_never_appended_to_the_old_bytes() {
    let whole_b: String = sha2::Sha256::digest([b'b'; LEN])
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect();
    for v in [Validator::ETag, Validator::LastModified] {
        let (url, seen) = misbehaving_server(v);
        let s = fetch(url).await;
        let heads = seen.lock().unwrap().clone();
        assert_eq!(s.outcome, DownloadOutcome::Completed, "{s:#?}");
        assert_eq!(
            s.sha256.as_deref(),
            Some(whole_b.as_str()),
            "the bytes are version 2 only, not 400 of version 1 + 600 of version 2: {s:#?}"
        );
        assert!(s.restarted_from_zero, "{s:#?}");
        let if_range = heads[1]
            .iter()
            .find(|h| h.to_ascii_lowercase().starts_with("if-range:"))
            .cloned();
        let want = match v {
            Validator::ETag => "\"v1\"",
            Validator::LastModified => "Mon, 01 Jan 2024 00:00:00 GMT",
        };
        assert!(
            if_range.as_deref().is_some_and(|h| h.ends_with(want)),
            "the resume names the first version: {if_range:?}"
        );
        assert!(
            !heads[2]
                .iter()
                .any(|h| h.to_ascii_lowercase().starts_with("range:")),
            "the restart is a plain GET: {:?}",
            heads[2]
        );
    }
}
