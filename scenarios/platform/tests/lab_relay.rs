//! Lab: the study's "external content" topology. The encoder runs outside the VM in
//! the lab's encoder namespace on the switch; the guest only relays it (`serve live
//! --source relay --upstream ...`); the relayed stream reaches the client before and
//! after a live migration, and the encoder is never migrated.
//! Needs root and QEMU: fails with the reason when they are missing.

mod lab_common;

use lab_common::*;
use platform::MigrationDriver;
use platform::lab::Service;
use platform::lab::network::{ENCODER_IP, GUEST_IP};
use record::MigrationOutcome;
use record::{Copy, Mode};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// MPEG-TS packets are 188 bytes, each starting with 0x47.
const TS: usize = 188;

/// Reads `want` bytes of the body of `GET /live.ts` from `addr`, inside namespace `ns`.
async fn read_stream(ns: &str, addr: SocketAddr, want: usize) -> Result<Vec<u8>, String> {
    platform::net::netns::run_in(ns, move || async move {
        let fetch = async {
            let mut s = tokio::net::TcpStream::connect(addr)
                .await
                .map_err(|e| format!("connect {addr}: {e}"))?;
            // HTTP/1.0: the body comes unchunked, so packets stay 188-byte aligned.
            let req = format!("GET /live.ts HTTP/1.0\r\nHost: {addr}\r\n\r\n");
            s.write_all(req.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let mut buf = Vec::new();
            let mut chunk = vec![0u8; 64 * 1024];
            while buf.len() < want + 4096 {
                let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
                if n == 0 {
                    return Err(format!("{addr} closed after {} bytes", buf.len()));
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            let head = buf
                .windows(4)
                .position(|w| w == b"\r\n\r\n")
                .ok_or("no end of the HTTP header")?;
            let status = String::from_utf8_lossy(&buf[..head]).to_string();
            if !status.starts_with("HTTP/1.0 200") && !status.starts_with("HTTP/1.1 200") {
                return Err(format!("{addr}: {status}"));
            }
            Ok(buf[head + 4..].to_vec())
        };
        tokio::time::timeout(Duration::from_secs(30), fetch)
            .await
            .map_err(|_| format!("no {want} bytes from {addr} within 30 s"))?
    })
    .await
    .map_err(|e| e.to_string())?
}

/// The body holds MPEG-TS: from the first sync byte on, every 188th byte is 0x47.
fn assert_ts(body: &[u8], what: &str) {
    let start = body.iter().position(|b| *b == 0x47).expect("a sync byte");
    let packets = (body.len() - start) / TS;
    assert!(packets >= 100, "{what}: only {packets} packets");
    let synced = (0..packets)
        .filter(|i| body[start + i * TS] == 0x47)
        .count();
    assert_eq!(synced, packets, "{what}: not MPEG-TS");
}

/// The TCP peers of established connections to `port` inside namespace `ns`.
fn peers_of(ns: &str, port: u16) -> String {
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", ns, "ss", "-Htn", "state", "established"])
        .arg(format!("( sport = :{port} )"))
        .output()
        .expect("ss");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guest_relays_an_encoder_outside_the_vm_across_a_migration() {
    let _g = lab_lock().await;
    let (mut d, _clock) = driver(vec![Service::Live], |c| c.relay = true);
    let ep = d.prepare().await.expect("prepare");
    let s = d.session().expect("session");
    let id = s.id().to_string();
    let client = s.client_ns();
    let encoder = s.encoder_addr().expect("an encoder node for a relay");
    assert_eq!(encoder.ip(), ENCODER_IP);
    let guest = ep.http.expect("the live service's address");
    assert_eq!(guest.ip(), GUEST_IP);
    let encoder_ns = format!("qp-lab{id}-encoder");

    // The client reaches both over the switch; the guest's stream is the relay's.
    assert_ts(
        &read_stream(&client, encoder, 256 * 1024).await.unwrap(),
        "encoder",
    );
    assert_ts(
        &read_stream(&client, guest, 256 * 1024).await.unwrap(),
        "guest before the migration",
    );
    let peers = peers_of(&encoder_ns, encoder.port());
    assert!(
        peers.contains(&GUEST_IP.to_string()),
        "the guest does not read the encoder: {peers:?}"
    );

    let (sink, _events) = sink();
    let report = d
        .migrate(&request(Mode::Live, Copy::Precopy, 120), sink)
        .await
        .expect("migrate");
    assert_eq!(
        report.outcome,
        MigrationOutcome::Completed,
        "{:?}",
        report.detail
    );
    // The encoder stayed where it was (same address, still serving) and the migrated
    // guest relays it again.
    let s = d.session().unwrap();
    assert_eq!(s.encoder_addr(), Some(encoder));
    assert_ts(
        &read_stream(&client, guest, 256 * 1024).await.unwrap(),
        "guest after the migration",
    );
    let peers = peers_of(&encoder_ns, encoder.port());
    assert!(
        peers.contains(&GUEST_IP.to_string()),
        "after the migration the guest does not read the encoder: {peers:?}"
    );
    d.teardown().await.unwrap();
    assert_no_leftovers(&id);
    let left = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    assert!(
        !String::from_utf8_lossy(&left.stdout).contains(&encoder_ns),
        "the encoder namespace is left"
    );
}
