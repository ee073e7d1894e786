//! The expected duration: a migration's throughput from the link's rate and loss
//! (the lower of rate x (1-d) and Mathis et al.'s MSS / RTT x 1.22 / sqrt(d)), the
//! payload from the flavor (memory, plus the disk in block mode), the fixed parts of
//! a run, and the time limit as a cap.

use campaign::estimate::{Estimate, estimate, migration_mbit};
use campaign::scenario::{Campaign, parse};
use std::path::Path;
use std::time::Duration;

fn campaign(driver: &str, extra: &str) -> Campaign {
    let src = format!(
        r#"
name = "e"
runs = 2
warmup_s = 5
cooldown_s = 5
[migration]
driver = "{driver}"
time_limit_s = 600
{extra}
[[application]]
name = "game"
service = "game"
[application.game]
cmdrate = 66
[matrix]
flavor = ["tiny", "small"]
mode = ["live", "block"]
[matrix.migration]
rate_mbit = [100, 10]
loss_pct = [0, 5]
"#
    );
    parse(Path::new("e.toml"), &src).unwrap_or_else(|e| panic!("{e}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn loss_slows_the_link_to_the_lower_of_ideal_and_tcp() {
    let c = campaign("lab", "");
    let m = |name: &str| {
        let s = c.scenario(name).unwrap();
        migration_mbit(&s.migration_settings(&c.migration), s)
    };
    assert!(close(m("tiny-live-r100-drop0"), 100.0));
    // 10 Mbit/s x 0.95 is below TCP's limit at 5 % (about 63 Mbit/s at 1 ms).
    assert!(close(m("tiny-live-r10-drop5"), 9.5));
    // 100 Mbit/s at 5 %: TCP's 1448 B x 8 / 1 ms x 1.22 / sqrt(0.05) = 63.2 Mbit/s.
    let mathis = 1448.0 * 8.0 / 0.001 * 1.22 / 0.05f64.sqrt() / 1e6;
    assert!(
        close(m("tiny-live-r100-drop5"), mathis),
        "{}",
        m("tiny-live-r100-drop5")
    );
}

#[test]
fn runs_add_up_from_flavor_sizes_and_fixed_parts() {
    let c = campaign("lab", "");
    let plan = c.plan(None, Some("game/small-block-r10-drop0")).unwrap();
    let e = estimate(&c, &plan);
    assert_eq!(e.runs, 2);
    // lab.small: 256 MiB memory + 64 MiB written disk at 10 Mbit/s, plus 5 + 5 s
    // warm-up and cool-down and 5 s of lab set-up.
    let transfer = (256.0 + 64.0) * 8.0 * 1.048_576 / 10.0;
    let run = Duration::from_secs_f64(transfer + 15.0);
    assert!(
        (e.longest.as_secs_f64() - run.as_secs_f64()).abs() < 1e-3,
        "{e:?}"
    );
    // The second run migrates the first run's VM back: 2 s of settling instead of
    // the 5 s set-up (`reuse_vm`, on by default).
    let second = run.as_secs_f64() - 5.0 + 2.0;
    assert!((e.total.as_secs_f64() - run.as_secs_f64() - second).abs() < 1e-3);
    assert_eq!(e.capped, 0);
    // A VM per run: both runs boot.
    let c = campaign("lab", "reuse_vm = false\n");
    let e = estimate(&c, &plan);
    assert!((e.total.as_secs_f64() - 2.0 * run.as_secs_f64()).abs() < 1e-3);
}

#[test]
fn the_time_limit_caps_a_run() {
    // The emulated driver's memory is the m1 flavor's: 2048 MiB at 10 Mbit/s is
    // 1718 s, past the 600 s limit.
    let c = campaign("emulated", "");
    let plan = c.plan(None, Some("game/small-live-r10-drop0")).unwrap();
    let e = estimate(&c, &plan);
    assert_eq!(e.capped, 2);
    assert_eq!(e.longest, Duration::from_secs(610));
    // memory_mb replaces the flavor's (and a guest dirtying 1 MiB/s, below the
    // link's 1.19 MiB/s, converges: the default 16 MiB/s over 64 MiB never would).
    let c = campaign(
        "emulated",
        "[migration.emulated]\nmemory_mb = 100\ndirty_rate_mb_s = 1\n",
    );
    let e = estimate(&c, &plan);
    assert_eq!(e.capped, 0);
    assert!((e.longest.as_secs_f64() - (100.0 * 8.388_608 / 10.0 + 10.0)).abs() < 1e-3);
}

#[test]
fn durations_read_as_people_say_them() {
    assert_eq!(Estimate::human(Duration::from_secs(40)), "40 s");
    assert_eq!(Estimate::human(Duration::from_secs(61)), "2 min");
    assert_eq!(
        Estimate::human(Duration::from_secs(2 * 3600 + 5 * 60)),
        "2 h 05 min"
    );
}

#[test]
fn a_guest_known_to_outrun_the_link_lasts_the_time_limit() {
    let src = |extra: &str| {
        format!(
            r#"
name = "enc"
runs = 2
warmup_s = 5
cooldown_s = 5
[migration]
driver = "lab"
time_limit_s = 300
{extra}
[[application]]
name = "encoder"
service = "live"
source = "encoder"
flavor = "large"
[application.stream]
cache_s = 0
[[application]]
name = "relay"
service = "live"
source = "relay"
flavor = "large"
[application.stream]
cache_s = 0
[[scenario]]
name = "S1"
[scenario.migration]
rate_mbit = 1000
"#
        )
    };
    let c = parse(Path::new("enc.toml"), &src("")).unwrap();
    // The encoder inside the VM dirties 154 MiB/s (docs/dirtyrate.md) over 240 MiB,
    // more than 1000 Mbit/s (119 MiB/s) copies and than 300 ms of it (36 MiB): every
    // run lasts the time limit; the relay's guest is not known to, and is not capped.
    let enc = estimate(&c, &c.plan(None, Some("encoder")).unwrap());
    assert_eq!(enc.capped, 2);
    assert_eq!(enc.longest, Duration::from_secs(310 + 5));
    let relay = estimate(&c, &c.plan(None, Some("relay")).unwrap());
    assert_eq!(relay.capped, 0);
    // lab.large (1024 MiB, the application's flavor) at 1000 Mbit/s: 8.6 s.
    let transfer = 1024.0 * 8.0 * 1.048_576 / 1000.0;
    assert!(
        (relay.longest.as_secs_f64() - (transfer + 15.0)).abs() < 1e-3,
        "{relay:?}"
    );
    // Auto-converge throttles the guest until it fits: not capped.
    let c = parse(Path::new("enc.toml"), &src("auto_converge = true")).unwrap();
    assert_eq!(
        estimate(&c, &c.plan(None, Some("encoder")).unwrap()).capped,
        0
    );
}
