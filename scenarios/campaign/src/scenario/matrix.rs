//! `[matrix]`: lists of values that multiply into network scenarios (cells). Each
//! axis is a list (flavor, mode, copy, and each key of the migration and client
//! links); every combination becomes one `[[scenario]]` whose name is made from its
//! values (`tiny-live-r1000-drop5`), after the file's own scenarios, which the
//! matrix multiplies as well. docs/scenario-file.md documents the keys and the names.

use super::axes::{Axis, MAX_CELLS, Matrix};
use super::error::ScenarioError;
use super::types::{Link, NetScenario};
use platform::Flavor;
use probes::values::{Mbit, Millis, Percent};
use record::{Copy, Mode};
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

/// One value of one axis, ready to apply to a scenario.
#[derive(Clone, Copy)]
enum Value {
    Flavor(Flavor),
    Mode(Mode),
    Copy(Copy),
    Rate(bool, Mbit),
    Delay(bool, Millis),
    Loss(bool, Percent),
}

impl Value {
    /// The value's part of a cell name (`c` before a client link's parts).
    fn label(self) -> String {
        let c = |client: bool| if client { "c" } else { "" };
        match self {
            Value::Flavor(f) => f.name().into(),
            Value::Mode(m) => m.as_str().into(),
            Value::Copy(k) => k.as_str().into(),
            Value::Rate(cl, v) => format!("{}r{}", c(cl), v.get()),
            Value::Delay(cl, v) => format!("{}delay{}", c(cl), v.get()),
            Value::Loss(cl, v) => format!("{}drop{}", c(cl), v.get()),
        }
    }

    fn apply(self, s: &mut NetScenario) {
        match self {
            Value::Flavor(f) => s.flavor = Some(f),
            Value::Mode(m) => s.mode = Some(m),
            Value::Copy(k) => s.copy = Some(k),
            Value::Rate(cl, v) => s.link_mut(cl).rate_mbit = Some(v),
            Value::Delay(cl, v) => s.link_mut(cl).delay_ms = Some(v),
            Value::Loss(cl, v) => s.link_mut(cl).loss_pct = Some(v),
        }
    }

    /// Whether a file's own scenario already sets what this axis varies.
    fn set_in(self, s: &NetScenario) -> bool {
        let link = |client: bool| if client { &s.client } else { &s.migration };
        match self {
            Value::Flavor(_) => s.flavor.is_some(),
            Value::Mode(_) => s.mode.is_some(),
            Value::Copy(_) => s.copy.is_some(),
            Value::Rate(cl, _) => link(cl).rate_mbit.is_some(),
            Value::Delay(cl, _) => link(cl).delay_ms.is_some(),
            Value::Loss(cl, _) => link(cl).loss_pct.is_some(),
        }
    }
}

impl NetScenario {
    fn link_mut(&mut self, client: bool) -> &mut Link {
        if client {
            &mut self.client
        } else {
            &mut self.migration
        }
    }
}

/// One axis ready to expand: its dotted key, its span, its values with their spans.
type Expansion = (String, Range<usize>, Vec<(Range<usize>, Value)>);

/// The axes in the order their parts appear in a cell name.
fn axes(m: &Matrix) -> Vec<Expansion> {
    fn axis<T: std::marker::Copy>(
        out: &mut Vec<Expansion>,
        key: &str,
        a: &Axis<T>,
        f: impl Fn(T) -> Value,
    ) {
        if let Some(a) = a {
            let values = a
                .get_ref()
                .iter()
                .map(|v| (v.span(), f(*v.get_ref())))
                .collect();
            out.push((format!("matrix.{key}"), a.span(), values));
        }
    }
    let mut out = Vec::new();
    axis(&mut out, "flavor", &m.flavor, Value::Flavor);
    axis(&mut out, "mode", &m.mode, Value::Mode);
    axis(&mut out, "copy", &m.copy, Value::Copy);
    for (name, client, l) in [
        ("migration", false, &m.migration),
        ("client", true, &m.client),
    ] {
        axis(&mut out, &format!("{name}.rate_mbit"), &l.rate_mbit, |v| {
            Value::Rate(client, v)
        });
        axis(&mut out, &format!("{name}.delay_ms"), &l.delay_ms, |v| {
            Value::Delay(client, v)
        });
        axis(&mut out, &format!("{name}.loss_pct"), &l.loss_pct, |v| {
            Value::Loss(client, v)
        });
    }
    out
}

/// The file's scenarios multiplied by every axis of `matrix`: for each scenario (or
/// one unnamed scenario when the file has none), one cell per combination, named
/// `<scenario>-<part>-<part>...` with one part per axis. Errors: an empty list, a
/// value listed twice, an axis the scenario sets itself, more than [`MAX_CELLS`].
pub(super) fn expand(
    matrix: &Spanned<Matrix>,
    scenarios: &[NetScenario],
    path: &Path,
    src: &str,
) -> Result<Vec<NetScenario>, ScenarioError> {
    let err = |span: Range<usize>, key: &str, msg: String| {
        ScenarioError::at(path, src, Some(span), Some(key.to_string()), msg)
    };
    let axes = axes(matrix.get_ref());
    if axes.is_empty() {
        return Err(err(
            matrix.span(),
            "matrix",
            "[matrix] has no list: give at least one of `flavor`, `mode`, `copy`, [matrix.migration] or [matrix.client] `rate_mbit`, `delay_ms`, `loss_pct`, or remove [matrix]".into(),
        ));
    }
    let mut count: u64 = scenarios.len().max(1) as u64;
    let mut sizes = Vec::new();
    for (key, span, values) in &axes {
        if values.is_empty() {
            return Err(err(
                span.clone(),
                key,
                "the list is empty: give at least one value, or remove the key".into(),
            ));
        }
        for (i, (vspan, v)) in values.iter().enumerate() {
            if values[..i].iter().any(|(_, w)| w.label() == v.label()) {
                return Err(err(
                    vspan.clone(),
                    key,
                    format!("`{}` is listed twice: each value makes one cell", v.label()),
                ));
            }
        }
        for s in scenarios {
            if values[0].1.set_in(s) {
                return Err(err(
                    span.clone(),
                    key,
                    format!(
                        "scenario `{}` sets this too: set it in the scenario or list it in [matrix], not both",
                        s.name.get_ref()
                    ),
                ));
            }
        }
        count = count.saturating_mul(values.len() as u64);
        sizes.push(format!(
            "{} {}",
            values.len(),
            key.trim_start_matches("matrix.")
        ));
    }
    if count > MAX_CELLS {
        return Err(err(
            matrix.span(),
            "matrix",
            format!(
                "the matrix makes {count} cells ({}{}); at most {MAX_CELLS} are allowed: shorten a list or split the file",
                if scenarios.is_empty() {
                    String::new()
                } else {
                    format!("{} scenarios x ", scenarios.len())
                },
                sizes.join(" x ")
            ),
        ));
    }
    let bases: Vec<NetScenario> = if scenarios.is_empty() {
        vec![NetScenario {
            name: Spanned::new(matrix.span(), String::new()),
            client: Link::default(),
            migration: Link::default(),
            flavor: None,
            mode: None,
            copy: None,
        }]
    } else {
        scenarios.to_vec()
    };
    let mut cells = bases;
    for (_, _, values) in &axes {
        let mut next = Vec::with_capacity(cells.len() * values.len());
        for cell in &cells {
            for (_, v) in values {
                let mut c = cell.clone();
                v.apply(&mut c);
                let name = if c.name.get_ref().is_empty() {
                    v.label()
                } else {
                    format!("{}-{}", c.name.get_ref(), v.label())
                };
                c.name = Spanned::new(c.name.span(), name);
                next.push(c);
            }
        }
        cells = next;
    }
    Ok(cells)
}
