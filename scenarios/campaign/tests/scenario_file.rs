//! Each kind of scenario-file error gives the message docs/scenario-file.md states:
//! `file:line:column: key `K`: what is wrong and what is valid`.

use campaign::scenario;
use platform::DriverKind;
use std::path::Path;

const GOOD: &str = r#"
name = "t"
runs = 2

[migration]
driver = "emulated"

[[application]]
name = "dash"
service = "dash"
[application.player]
max_buffer_s = 20

[[scenario]]
name = "S1"
[scenario.client]
rate_mbit = 100
loss_pct = 1
"#;

fn error(src: &str) -> String {
    match scenario::parse(Path::new("x.toml"), src) {
        Ok(_) => panic!("accepted:\n{src}"),
        Err(e) => e.to_string(),
    }
}

fn assert_msg(src: &str, expected: &[&str]) {
    let msg = error(src);
    for part in expected {
        assert!(msg.contains(part), "message {msg:?} lacks {part:?}");
    }
}

#[test]
fn a_good_file_parses_with_its_defaults() {
    let c = scenario::parse(Path::new("x.toml"), GOOD).unwrap();
    assert_eq!(c.name.get_ref(), "t");
    assert_eq!(c.runs, 2);
    assert_eq!(c.migration.driver, DriverKind::Emulated);
    assert_eq!(c.warmup_s.get(), 10.0);
    assert_eq!(c.migration.time_limit_s.get(), 300.0);
    assert_eq!(
        c.applications[0].player.as_ref().unwrap().path,
        "/dash/manifest.mpd"
    );
    assert_eq!(c.plan(None, None).unwrap().len(), 2);
    assert_eq!(c.plan(Some(3), Some("dash/S1")).unwrap().len(), 3);
    let e = c.plan(None, Some("nope")).unwrap_err();
    assert!(e.contains("applications are dash, scenarios are S1"), "{e}");
}

#[test]
fn the_shipped_campaigns_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let c = scenario::load(&dir.join("emulated-smoke.toml")).unwrap();
    assert_eq!(c.applications.len(), 3);
    assert_eq!(c.scenarios.len(), 1);
    assert_eq!(c.runs, 2);
}

#[test]
fn syntax_error() {
    assert_msg(
        "name = \"t\nruns = 2\n",
        &["x.toml:1:10: key `name`: invalid basic string"],
    );
}

#[test]
fn unknown_key() {
    let src = GOOD.replace("driver = \"emulated\"", "driver = \"emulated\"\ndrivr = 1");
    assert_msg(
        &src,
        &[
            "x.toml:7:1: key `migration.drivr`: unknown field `drivr`, expected one of `driver`, `mode`",
        ],
    );
}

#[test]
fn invalid_value() {
    let src = GOOD.replace("driver = \"emulated\"", "driver = \"vm\"");
    assert_msg(
        &src,
        &[
            "x.toml:6:10: key `migration.driver`: unknown variant `vm`, expected one of `emulated`, `exec`, `lab`",
        ],
    );
}

#[test]
fn wrong_type() {
    let src = GOOD.replace("runs = 2", "runs = \"two\"");
    assert_msg(
        &src,
        &["x.toml:3:8: key `runs`: invalid type: string \"two\", expected u32"],
    );
}

#[test]
fn out_of_range() {
    let src = GOOD.replace("loss_pct = 1", "loss_pct = 150");
    assert_msg(
        &src,
        &[
            "x.toml:18:12: key `scenario.client.loss_pct`: 150 is out of range: expected a percentage from 0 to 100",
        ],
    );
    let src = GOOD.replace("max_buffer_s = 20", "max_buffer_s = 0");
    assert_msg(
        &src,
        &["key `application.player.max_buffer_s`: 0 is out of range: expected seconds above 0"],
    );
}

#[test]
fn missing_key() {
    let src = GOOD.replace("service = \"dash\"\n", "");
    assert_msg(&src, &["x.toml:", "missing field `service`"]);
}

#[test]
fn no_application_or_scenario() {
    assert_msg(
        "name = \"t\"\n",
        &["x.toml:1:1: key `application`: the campaign has no [[application]]"],
    );
    let src = &GOOD[..GOOD.find("[[scenario]]").unwrap()];
    assert_msg(src, &["key `scenario`: the campaign has no [[scenario]]"]);
}

#[test]
fn duplicate_and_bad_names() {
    let src = format!("{GOOD}\n[[scenario]]\nname = \"S1\"\n");
    assert_msg(
        &src,
        &["x.toml:21:8: key `scenario.name`: `S1` is used twice: names must be unique"],
    );
    let src = GOOD.replace("name = \"dash\"", "name = \"a/b\"");
    assert_msg(
        &src,
        &["x.toml:9:8: key `application.name`: `a/b` cannot be a folder name"],
    );
}

#[test]
fn probe_must_fit_the_service() {
    let src = GOOD.replace("service = \"dash\"", "service = \"game\"");
    assert_msg(
        &src,
        &[
            "x.toml:10:11: key `application.service`: application `dash`: the player probe needs service \"dash\", but service is \"game\"",
        ],
    );
    let src = GOOD.replace("[application.player]\nmax_buffer_s = 20\n", "");
    assert_msg(
        &src,
        &["key `application`: application `dash` has no probe: add one of [application.player]"],
    );
}

#[test]
fn exec_driver_needs_its_commands() {
    let src = GOOD.replace("driver = \"emulated\"", "driver = \"exec\"");
    assert_msg(
        &src,
        &[
            "key `migration.exec`: driver \"exec\" needs a [migration.exec] table with at least `start`",
        ],
    );
    let src = GOOD.replace(
        "driver = \"emulated\"",
        "driver = \"exec\"\n[migration.exec]\nstart = \"true\"\nhttp = \"nowhere\"",
    );
    assert_msg(
        &src,
        &["key `migration.exec.http`: \"nowhere\" is not an address: expected IP:PORT"],
    );
    let src = GOOD.replace(
        "driver = \"emulated\"",
        "driver = \"exec\"\n[migration.exec]\nstart = []",
    );
    assert_msg(&src, &["key `migration.exec.start`: the command is empty"]);
}

#[test]
fn unreadable_file() {
    let e = scenario::load(Path::new("/nonexistent/x.toml"))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("cannot read scenario file /nonexistent/x.toml:"),
        "{e}"
    );
}

#[test]
fn live_service_stream_probe_and_emulated_overrides() {
    let live = GOOD.replace(
        "service = \"dash\"\n[application.player]\nmax_buffer_s = 20",
        "service = \"live\"\nsource = \"relay\"\n[application.stream]\ncache_s = 2\nreconnect = \"always\"\n[application.emulated]\ndirty_rate_mb_s = 150",
    );
    let c = scenario::parse(Path::new("x.toml"), &live).unwrap();
    let app = &c.applications[0];
    assert_eq!(app.live_source(), Some(platform::LiveSource::Relay));
    let s = app.stream.as_ref().unwrap();
    assert_eq!((s.path.as_str(), s.cache_s.get()), ("/live.ts", 2.0));
    assert_eq!(s.stall_threshold_ms.get(), 100.0);
    let e = c.migration.emulated.with(app.emulated.as_ref());
    assert_eq!(e.dirty_rate_mb_s.get(), 150.0);
    assert_eq!(e.working_set_mb, c.migration.emulated.working_set_mb);
    // `source` defaults to the encoder, and only a live service has one.
    let enc = live.replace("source = \"relay\"\n", "");
    let c = scenario::parse(Path::new("x.toml"), &enc).unwrap();
    assert_eq!(
        c.applications[0].live_source(),
        Some(platform::LiveSource::Encoder)
    );
    assert_msg(
        &GOOD.replace(
            "service = \"dash\"\n",
            "service = \"dash\"\nsource = \"relay\"\n",
        ),
        &[
            "x.toml:",
            "key `application.source`",
            "`source` is for service \"live\" only",
        ],
    );
    assert_msg(
        &GOOD.replace(
            "[application.player]\nmax_buffer_s = 20",
            "[application.stream]",
        ),
        &[
            "key `application.service`",
            "the stream probe needs service \"live\"",
        ],
    );
    assert_msg(
        &live.replace(
            "source = \"relay\"\n",
            "service_args = [\"--upstream\", \"http://x/\"]\n",
        ),
        &[
            "key `application.service_args`",
            "`--upstream` is set by the runner",
        ],
    );
    assert_msg(
        &live.replace("cache_s = 2", "cache_s = -1"),
        &["key `application.stream.cache_s`", "out of range"],
    );
    assert_msg(
        &live.replace("reconnect = \"always\"", "reconnect = \"sometimes\""),
        &[
            "key `application.stream.reconnect`",
            "unknown variant `sometimes`, expected `never` or `always`",
        ],
    );
}

#[test]
fn libvirt_and_openstack_tables_are_checked() {
    let lv = |table: &str| {
        GOOD.replace(
            "driver = \"emulated\"",
            &format!("driver = \"libvirt\"\n[migration.libvirt]\n{table}"),
        )
    };
    let ok = "source_uri = \"qemu+ssh://h1/system\"\ndestination_uri = \"qemu+ssh://h2/system\"\ndomain = \"vm1\"\nhttp = \"10.0.0.5:8080\"\n";
    let c = scenario::parse(Path::new("x.toml"), &lv(ok)).unwrap();
    assert_eq!(c.migration.libvirt.unwrap().domain.get_ref(), "vm1");
    assert_msg(
        &GOOD.replace("driver = \"emulated\"", "driver = \"libvirt\""),
        &["key `migration.libvirt`: driver \"libvirt\" needs a [migration.libvirt] table"],
    );
    assert_msg(
        &lv(&ok.replace("qemu+ssh://h2/system", "h2")),
        &["key `migration.libvirt.destination_uri`: \"h2\" is not a URI"],
    );
    assert_msg(
        &lv(&ok.replace("qemu+ssh://h2/system", "qemu+ssh://h1/system")),
        &["the destination is the source"],
    );
    assert_msg(
        &lv(&ok.replace("http = \"10.0.0.5:8080\"\n", "")),
        &["the libvirt driver needs `http` or `probe_target`"],
    );
    assert_msg(
        &lv(&format!("{ok}dommain = \"x\"\n")),
        &["unknown field `dommain`"],
    );
    let os = |table: &str, extra: &str| {
        GOOD.replace(
            "driver = \"emulated\"",
            &format!("driver = \"openstack\"{extra}\n[migration.openstack]\n{table}"),
        )
    };
    let ok = "server = \"web-1\"\nhttp = \"10.0.0.5:8080\"\n";
    scenario::parse(Path::new("x.toml"), &os(ok, "")).unwrap();
    assert_msg(
        &os(&format!("{ok}block_migration = \"yes\"\n"), ""),
        &["key `migration.openstack.block_migration`: `yes`: the only value is \"auto\""],
    );
    assert_msg(
        &os(ok, "\nbandwidth_mbit = 100"),
        &["key `migration.bandwidth_mbit`: Nova's API has no per-migration bandwidth limit"],
    );
    assert_msg(
        &os(ok, "\ncopy = \"postcopy\""),
        &["key `migration.copy`: Nova switches to post-copy itself"],
    );
}

#[test]
fn runs_zero_and_huge_counts_are_refused_before_planning() {
    assert_msg(
        &GOOD.replace("runs = 2", "runs = 0"),
        &["x.toml:3:8", "key `runs`", "expected 1 to 100000"],
    );
    assert_msg(
        &GOOD.replace("runs = 2", "runs = 1000000000"),
        &["x.toml:3:8", "key `runs`", "expected 1 to 100000"],
    );
    let c = scenario::parse(Path::new("x.toml"), GOOD).unwrap();
    // `--runs` goes through the plan: refused with the product, nothing allocated.
    let e = c.plan(Some(1_000_000_000), None).unwrap_err();
    assert!(
        e.contains("--runs = 1000000000") && e.contains("100000"),
        "{e}"
    );
    let e = c.plan(Some(0), None).unwrap_err();
    assert!(e.contains("--runs = 0: nothing to run"), "{e}");
    assert_eq!(c.plan(Some(3), None).unwrap().len(), 3);
}

#[test]
fn probe_paths_cannot_name_another_host() {
    for bad in [
        "@127.0.0.2:9/x",
        "http://127.0.0.2:9/x",
        "//127.0.0.2:9/x",
        "manifest.mpd",
        "/a b",
        "/\\\\127.0.0.2/x",
    ] {
        let src = GOOD.replace(
            "max_buffer_s = 20",
            &format!("max_buffer_s = 20\npath = {bad:?}"),
        );
        assert_msg(
            &src,
            &["key `application.player.path`", "not a path on the service"],
        );
    }
    let ok = GOOD.replace(
        "max_buffer_s = 20",
        "max_buffer_s = 20\npath = \"/dash/manifest.mpd?x=@y\"",
    );
    assert!(scenario::parse(Path::new("x.toml"), &ok).is_ok());
}

#[test]
fn a_huge_name_is_not_echoed_whole() {
    let name = "x/".repeat(500_000);
    let msg = error(&GOOD.replace("name = \"dash\"", &format!("name = \"{name}\"")));
    assert!(msg.contains("cannot be a folder name"), "{}", &msg[..200]);
    assert!(msg.len() < 2048, "message of {} bytes", msg.len());
    let msg = error(&GOOD.replace("service = \"dash\"", &format!("service = \"{name}\"")));
    assert!(msg.len() < 2048, "message of {} bytes", msg.len());
}

#[test]
fn an_application_may_size_its_own_vm() {
    let own = GOOD.replace(
        "service = \"dash\"\n",
        "service = \"dash\"\nflavor = \"large\"\n",
    );
    let c = scenario::parse(Path::new("x.toml"), &own).unwrap();
    assert_eq!(c.applications[0].flavor, Some(platform::Flavor::Large));
    let c = scenario::parse(Path::new("x.toml"), GOOD).unwrap();
    assert_eq!(c.applications[0].flavor, None);
    let e = error(&GOOD.replace(
        "service = \"dash\"\n",
        "service = \"dash\"\nflavor = \"huge\"\n",
    ));
    assert!(e.contains("huge"), "{e}");
}
