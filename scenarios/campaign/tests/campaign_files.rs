//! Every ready campaign in `scenarios/` parses (`campaign::scenario::load`); the demo
//! also parses with its driver switched to `emulated`, as `qoeprobe demo` does when
//! the lab cannot run. Under the emulated pre-copy model the campaigns of Table 2
//! give the study's shape: the encoder-inside stream never converges (cancelled at
//! the time limit) and every other application's migration completes. The network
//! sweep's per-flavor/mode files differ from `paper-network.toml` only there.

use campaign::scenario::{Campaign, load, parse};
use platform::emulated::EmulatedDriver;
use platform::emulated::model::{PlannedEnd, plan};
use platform::{DriverContext, DriverKind};
use record::clock::MonotonicClock;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// `scenarios/`, where the ready campaigns are (this crate is `scenarios/campaign`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn campaign_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in [root(), root().join("paper-network")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml")
                && p.file_name() != Some("Cargo.toml".as_ref())
            {
                files.push(p);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn every_campaign_file_parses() {
    let files = campaign_files();
    for name in ["paper-table2.toml", "paper-network.toml", "demo.toml"] {
        assert!(
            files.iter().any(|f| f.ends_with(name)),
            "no scenarios/{name}"
        );
    }
    assert_eq!(
        files
            .iter()
            .filter(|f| f.parent().unwrap().ends_with("paper-network"))
            .count(),
        7,
        "the network sweep has 4 flavors x 2 modes"
    );
    for f in &files {
        if let Err(e) = load(f) {
            panic!("{e}");
        }
    }
}

fn with_driver(file: &str, driver: &str) -> Campaign {
    let path = root().join(file);
    let src = std::fs::read_to_string(&path).unwrap();
    assert!(
        src.contains("driver = \"lab\""),
        "{file} is not on the lab driver"
    );
    let src = src.replacen("driver = \"lab\"", &format!("driver = \"{driver}\""), 1);
    parse(&path, &src).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_demo_parses_with_the_emulated_driver() {
    let c = with_driver("demo.toml", "emulated");
    assert_eq!(c.migration.driver, DriverKind::Emulated);
    assert_eq!(c.applications.len(), 6);
    assert_eq!(c.scenarios.len(), 2);
}

/// The planned end of each application x scenario under the emulated model.
fn ends(c: &Campaign) -> Vec<(String, String, bool)> {
    let mut out = Vec::new();
    for app in &c.applications {
        for scen in &c.scenarios {
            let ctx = DriverContext {
                clock: MonotonicClock::start(),
                sink: Arc::new(|_| {}),
                seed: 1,
                run_dir: PathBuf::from("/nonexistent"),
                driver: c.migration.driver_config(app).unwrap(),
                service: app.service(),
                flavor: c.migration.flavor,
                client: scen.client.condition(),
                migration: scen.migration.condition(),
            };
            let request = c.migration.request();
            let input = EmulatedDriver::new(ctx).unwrap().model_input(&request);
            let cancelled = matches!(plan(&input, 1).end, PlannedEnd::Cancelled { .. });
            out.push((
                app.name.get_ref().clone(),
                scen.name.get_ref().clone(),
                cancelled,
            ));
        }
    }
    out
}

#[test]
fn only_the_encoder_inside_never_converges() {
    for file in ["demo.toml", "paper-table2.toml"] {
        let c = with_driver(file, "emulated");
        for (app, scen, cancelled) in ends(&c) {
            assert_eq!(
                cancelled,
                app == "stream-encoder-inside",
                "{file}: {app}/{scen}: cancelled = {cancelled}"
            );
        }
    }
}

#[test]
fn the_network_sweep_files_differ_only_in_mode_and_flavor() {
    let base = load(&root().join("paper-network.toml")).unwrap();
    let names: Vec<String> = base
        .scenarios
        .iter()
        .map(|s| s.name.get_ref().clone())
        .collect();
    assert_eq!(names.len(), 9);
    for f in campaign_files() {
        if !f.parent().unwrap().ends_with("paper-network") {
            continue;
        }
        let c = load(&f).unwrap();
        let stem = f.file_stem().unwrap().to_str().unwrap();
        assert_eq!(c.name.get_ref(), &format!("paper-network-{stem}"));
        let (flavor, mode) = stem.split_once('-').unwrap();
        assert_eq!(c.migration.flavor.name(), flavor);
        assert_eq!(c.migration.mode.as_str(), mode);
        assert_eq!(c.runs, base.runs);
        assert_eq!(c.migration.time_limit_s, base.migration.time_limit_s);
        let these: Vec<String> = c
            .scenarios
            .iter()
            .map(|s| s.name.get_ref().clone())
            .collect();
        assert_eq!(these, names, "{}", f.display());
        for (a, b) in c.scenarios.iter().zip(&base.scenarios) {
            assert_eq!(a.migration, b.migration);
            assert_eq!(a.client, b.client);
        }
    }
}
