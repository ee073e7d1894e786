//! `[matrix]`: lists that multiply into cells, named from their values, with each
//! cell's flavor, mode, copy and link conditions; positioned errors for an empty
//! list, a repeated value, an axis a scenario sets too, and too many cells.

use campaign::scenario::{self, Campaign, MAX_CELLS};
use platform::Flavor;
use record::{Copy, Mode};
use std::path::Path;

const HEAD: &str = r#"
name = "m"
runs = 2

[migration]
driver = "emulated"

[[application]]
name = "game"
service = "game"
[application.game]
cmdrate = 66
"#;

fn parse(tail: &str) -> Result<Campaign, String> {
    scenario::parse(Path::new("x.toml"), &format!("{HEAD}{tail}")).map_err(|e| e.to_string())
}

fn names(c: &Campaign) -> Vec<&str> {
    c.scenarios
        .iter()
        .map(|s| s.name.get_ref().as_str())
        .collect()
}

#[test]
fn axes_multiply_into_named_cells() {
    let c = parse(
        r#"
[matrix]
flavor = ["tiny", "small"]
mode = ["live", "block"]
[matrix.migration]
rate_mbit = [1000, 10]
loss_pct = [0, 0.5]
"#,
    )
    .unwrap();
    assert_eq!(c.scenarios.len(), 16);
    assert_eq!(
        &names(&c)[..5],
        &[
            "tiny-live-r1000-drop0",
            "tiny-live-r1000-drop0.5",
            "tiny-live-r10-drop0",
            "tiny-live-r10-drop0.5",
            "tiny-block-r1000-drop0",
        ]
    );
    assert_eq!(names(&c)[15], "small-block-r10-drop0.5");
    let s = c.scenario("small-block-r10-drop0.5").unwrap();
    assert_eq!(s.flavor, Some(Flavor::Small));
    assert_eq!(s.mode, Some(Mode::Block));
    assert_eq!(s.copy, None);
    let cond = s.migration.condition();
    assert_eq!((cond.rate_mbit, cond.loss_pct), (Some(10.0), Some(0.5)));
    assert!(s.client.is_unshaped());
    // Each cell's runs migrate with its own settings; the rest is the campaign's.
    let m = s.migration_settings(&c.migration);
    assert_eq!(
        (m.flavor, m.mode, m.copy),
        (Flavor::Small, Mode::Block, Copy::Precopy)
    );
    assert_eq!(c.plan(None, None).unwrap().len(), 32);
    assert_eq!(
        c.plan(None, Some("game/tiny-live-r10-drop0"))
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn client_axes_and_copy_name_their_parts() {
    let c = parse(
        r#"
[matrix]
copy = ["precopy", "postcopy"]
[matrix.client]
rate_mbit = [100]
delay_ms = [50]
loss_pct = [1]
"#,
    )
    .unwrap();
    assert_eq!(
        names(&c),
        [
            "precopy-cr100-cdelay50-cdrop1",
            "postcopy-cr100-cdelay50-cdrop1"
        ]
    );
    let s = &c.scenarios[1];
    assert_eq!(s.copy, Some(Copy::Postcopy));
    let cond = s.client.condition();
    assert_eq!(
        (cond.rate_mbit, cond.delay_ms, cond.loss_pct),
        (Some(100.0), Some(50.0), Some(1.0))
    );
}

#[test]
fn the_files_scenarios_are_multiplied_too() {
    let c = parse(
        r#"
[[scenario]]
name = "S1"
[scenario.client]
rate_mbit = 1000

[[scenario]]
name = "S2"
[scenario.client]
rate_mbit = 100
delay_ms = 100

[matrix]
mode = ["live", "block"]
"#,
    )
    .unwrap();
    assert_eq!(names(&c), ["S1-live", "S1-block", "S2-live", "S2-block"]);
    assert_eq!(c.scenarios[3].client.condition().delay_ms, Some(100.0));
}

#[test]
fn a_scenario_may_set_flavor_mode_and_copy_itself() {
    let c = parse(
        r#"
[[scenario]]
name = "big"
flavor = "large"
mode = "block"
"#,
    )
    .unwrap();
    let m = c.scenarios[0].migration_settings(&c.migration);
    assert_eq!((m.flavor, m.mode), (Flavor::Large, Mode::Block));
}

fn err(tail: &str) -> String {
    match parse(tail) {
        Ok(c) => panic!("accepted: {:?}", names(&c)),
        Err(e) => e,
    }
}

#[test]
fn an_empty_list_is_refused_where_it_is() {
    let e = err("\n[matrix]\nflavor = []\n");
    assert!(
        e.contains("x.toml:15:10: key `matrix.flavor`: the list is empty"),
        "{e}"
    );
}

#[test]
fn a_value_listed_twice_is_refused_where_it_is() {
    let e = err("\n[matrix.migration]\nrate_mbit = [10, 100, 10]\n");
    assert!(
        e.contains("x.toml:15:23: key `matrix.migration.rate_mbit`: `r10` is listed twice"),
        "{e}"
    );
}

#[test]
fn a_bad_value_names_its_key_and_what_is_valid() {
    let e = err("\n[matrix]\nmode = [\"live\", \"copy\"]\n");
    assert!(e.contains("x.toml:15:17"), "{e}");
    assert!(
        e.contains("unknown variant `copy`, expected `live` or `block`"),
        "{e}"
    );
    let e = err("\n[matrix.migration]\nloss_pct = [0, 150]\n");
    // A value out of range is placed at its list.
    assert!(
        e.contains("x.toml:15:12: key `matrix.migration.loss_pct`"),
        "{e}"
    );
    assert!(e.contains("expected a percentage from 0 to 100"), "{e}");
    let e = err("\n[matrix]\nflavour = [\"tiny\"]\n");
    assert!(
        e.contains("key `matrix.flavour`: unknown field `flavour`"),
        "{e}"
    );
}

#[test]
fn an_axis_the_scenario_sets_too_is_refused() {
    let e = err(
        "\n[[scenario]]\nname = \"S\"\n[scenario.migration]\nrate_mbit = 10\n\n[matrix.migration]\nrate_mbit = [10, 100]\n",
    );
    assert!(
        e.contains("x.toml:20:13: key `matrix.migration.rate_mbit`: scenario `S` sets this too"),
        "{e}"
    );
}

#[test]
fn a_matrix_without_lists_is_refused() {
    let e = err("\n[matrix]\n");
    assert!(e.contains("key `matrix`: [matrix] has no list"), "{e}");
}

#[test]
fn too_many_cells_are_refused_before_expansion() {
    // 11 x 10 x 10 = 1100 cells (> 1000); the count comes from the lengths, so even
    // an absurd matrix is refused at once.
    let list = |n: usize| {
        (1..=n)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let e = err(&format!(
        "\n[matrix.migration]\nrate_mbit = [{}]\ndelay_ms = [{}]\nloss_pct = [{}]\n",
        list(11),
        list(10),
        list(10)
    ));
    assert!(
        e.contains(&format!(
            "the matrix makes 1100 cells (11 migration.rate_mbit x 10 migration.delay_ms x 10 migration.loss_pct); at most {MAX_CELLS} are allowed"
        )),
        "{e}"
    );
    // Exactly the bound is fine.
    let c = parse(&format!(
        "\n[matrix.migration]\nrate_mbit = [{}]\ndelay_ms = [{}]\nloss_pct = [{}]\n",
        list(10),
        list(10),
        list(10)
    ))
    .unwrap();
    assert_eq!(c.scenarios.len() as u64, MAX_CELLS);
}

#[test]
fn a_generated_name_past_64_characters_is_refused() {
    let e = err(
        "\n[[scenario]]\nname = \"a-rather-long-scenario-name-that-fills-most-of-the-folder\"\n\n[matrix]\nflavor = [\"medium\"]\nmode = [\"block\"]\n",
    );
    assert!(e.contains("cannot be a folder name"), "{e}");
    assert!(e.contains("x.toml:15:8"), "{e}");
}

#[test]
fn campaign_json_keeps_the_cells_settings() {
    let c = parse("\n[matrix]\nmode = [\"block\"]\n").unwrap();
    let v = serde_json::to_value(&c).unwrap();
    assert_eq!(v["scenarios"][0]["name"], "block");
    assert_eq!(v["scenarios"][0]["mode"], "block");
    assert_eq!(v["matrix"]["mode"][0], "block");
}
