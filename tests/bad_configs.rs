//! Bad configs and bad command lines: every one must be refused with exit
//! status 2, a one-line `error: ` message that names the config file and the
//! field at fault, no panic, and no output file (nor temporary file) left
//! behind — by `carecast run` and by `carecast validate` alike.
//!
//! Each case starts from a small valid config (checked by the positive
//! controls at the end) and breaks exactly one thing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

/// A minimal valid config without age bands: two placement types.
const BASE: &str = r#"name = "bad config test"

[horizon]
start = "2024-04"
years = 2

[[placement]]
id = "fostering"
weekly_cost = 450
initial = 40

[[placement]]
id = "ifa"
weekly_cost = 800
initial = 20

[entries]
per_year = 30
mix = { fostering = 0.6, ifa = 0.4 }

[exits]
mean_months = { fostering = 24, ifa = 30 }

[budget]
per_year = ["1.5m", "1.6m"]
"#;

/// A minimal valid config with two age bands.
const BANDED: &str = r#"name = "bad config test (age bands)"

[horizon]
start = "2024-04"
years = 2

[[age_band]]
id = "young"
from = 0
to = 10

[[age_band]]
id = "older"
from = 10
to = 18

[[placement]]
id = "fostering"
weekly_cost = 450
initial = { young = 30, older = 10 }

[entries]
per_year = 30
age_mix = { young = 0.5, older = 0.5 }
mix = { fostering = 1 }

[exits]
mean_months = { fostering = 24 }

[budget]
per_year = ["1.5m", "1.6m"]
"#;

const CONFIG_NAME: &str = "case.toml";
const JSON_NAME: &str = "out.json";
const CSV_NAME: &str = "out.csv";

/// `base` with each `(old, new)` applied; every `old` must occur exactly
/// once, so that a case cannot silently test the unbroken config.
fn edit(base: &str, edits: &[(&str, &str)]) -> String {
    let mut text = base.to_string();
    for (old, new) in edits {
        assert_eq!(
            text.matches(old).count(),
            1,
            "{old:?} must occur exactly once in the config being edited"
        );
        text = text.replacen(old, new, 1);
    }
    text
}

fn base_with(old: &str, new: &str) -> String {
    edit(BASE, &[(old, new)])
}

fn banded_with(old: &str, new: &str) -> String {
    edit(BANDED, &[(old, new)])
}

fn base_plus(extra: &str) -> String {
    format!("{BASE}\n{extra}")
}

/// One case: a temporary directory holding (or not) the config file.
struct Case {
    dir: TempDir,
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Case {
    fn new(contents: impl AsRef<[u8]>) -> Case {
        let case = Case::without_config();
        std::fs::write(case.config(), contents).expect("write the config");
        case
    }

    fn without_config() -> Case {
        Case {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join(CONFIG_NAME)
    }

    fn json(&self) -> PathBuf {
        self.dir.path().join(JSON_NAME)
    }

    fn csv(&self) -> PathBuf {
        self.dir.path().join(CSV_NAME)
    }

    fn carecast(args: impl IntoIterator<Item = impl AsRef<std::ffi::OsStr>>) -> Outcome {
        let output = Command::cargo_bin("carecast")
            .expect("the carecast binary")
            .args(args)
            .env_remove("RUST_BACKTRACE")
            .timeout(Duration::from_secs(120))
            .output()
            .expect("run carecast");
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// `carecast run CONFIG --runs 10 --json OUT.json --csv OUT.csv EXTRA...`
    fn run(&self, extra: &[&str]) -> Outcome {
        let mut args = vec![
            "run".into(),
            self.config().into_os_string(),
            "--runs".into(),
            "10".into(),
            "--json".into(),
            self.json().into_os_string(),
            "--csv".into(),
            self.csv().into_os_string(),
        ];
        args.extend(extra.iter().map(Into::into));
        Case::carecast(args)
    }

    /// `carecast validate CONFIG`
    fn validate(&self) -> Outcome {
        let config = self.config();
        Case::carecast([Path::new("validate"), config.as_path()])
    }

    /// The directory holds the config (if there was one) and nothing else:
    /// no output file and no staged temporary file.
    fn assert_nothing_written(&self, what: &str) {
        assert!(!self.json().exists(), "{what}: {JSON_NAME} was written");
        assert!(!self.csv().exists(), "{what}: {CSV_NAME} was written");
        let mut left: Vec<String> = std::fs::read_dir(self.dir.path())
            .expect("read the temp dir")
            .map(|e| {
                e.expect("dir entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name != CONFIG_NAME)
            .collect();
        left.sort();
        assert!(
            left.is_empty(),
            "{what}: files left behind besides the config: {left:?}"
        );
    }
}

/// Exit 2, `error: ` first, no panic, and every `needle` in stderr.
fn assert_refused(outcome: &Outcome, what: &str, needles: &[String]) {
    let Outcome {
        code,
        stdout,
        stderr,
    } = outcome;
    let context =
        format!("{what}\n--- exit status: {code:?}\n--- stdout:\n{stdout}\n--- stderr:\n{stderr}");
    assert!(
        !stderr.contains("panicked"),
        "{what}: carecast panicked\n{context}"
    );
    assert_eq!(*code, Some(2), "{what}: expected exit status 2\n{context}");
    assert!(
        stderr.starts_with("error: "),
        "{what}: stderr should start with \"error: \"\n{context}"
    );
    for needle in needles {
        assert!(
            stderr.contains(needle.as_str()),
            "{what}: stderr should contain {needle:?}\n{context}"
        );
    }
}

/// Runs and validates `case`; both must refuse it, saying `needles`.
fn assert_bad(case: &Case, needles: &[String]) {
    let file = case.config().display().to_string();
    let mut needles = needles.to_vec();
    needles.push(file);

    let run = case.run(&[]);
    assert_refused(&run, "carecast run", &needles);
    case.assert_nothing_written("carecast run");

    let validate = case.validate();
    assert_refused(&validate, "carecast validate", &needles);
    case.assert_nothing_written("carecast validate");
}

/// A config refused for one field: the message reads
/// `error: FILE[:LINE]: FIELD: MESSAGE`, and MESSAGE contains `fragment`.
fn assert_field_error(toml: &str, field: &str, fragment: &str) {
    let case = Case::new(toml);
    assert_bad(&case, &[format!(": {field}: "), fragment.to_string()]);
}

// ---------------------------------------------------------------------------
// The file as a whole.

#[test]
fn malformed_toml_gives_the_line() {
    // `[horizon` is line 3 of the config.
    let case = Case::new(base_with("[horizon]", "[horizon"));
    assert_bad(&case, &[format!("{CONFIG_NAME}:3: ")]);
}

#[test]
fn a_value_of_the_wrong_kind_is_named_in_a_config_s_words() {
    // serde's words were Rust's: "invalid type: string \"many\", expected u64".
    assert_field_error(
        &format!("{BASE}\n[simulation]\nruns = \"many\"\n"),
        "simulation.runs",
        "expected a whole number, found the text \"many\"",
    );
    assert_field_error(
        &base_with("start = \"2024-04\"", "start = 5"),
        "horizon.start",
        "expected text in quotes, found 5",
    );
    // A list of tables where one table belongs.
    assert_field_error(
        &format!("{BASE}\n[[simulation]]\nruns = 1\n"),
        "simulation[0]",
        "`[[simulation]]` makes a list of tables; this one is a single table, written `[simulation]`",
    );
    // A TOML date reached serde as a table with a private key, which the
    // message named.
    let case = Case::new(base_with("weekly_cost = 800", "weekly_cost = 1979-05-27"));
    assert_bad(
        &case,
        &[
            ": placement[1].weekly_cost: ".to_string(),
            "a TOML date or time is not allowed here".to_string(),
        ],
    );
}

#[test]
fn a_percentage_for_an_amount_of_money() {
    // "3%" reads as 0.03 and was taken as a price of 3p a week.
    assert_field_error(
        &base_with("weekly_cost = 800", "weekly_cost = \"3%\""),
        "placement[1].weekly_cost",
        "is a percentage, but this is an amount of money in pounds",
    );
    assert_field_error(
        &base_with(
            "per_year = [\"1.5m\", \"1.6m\"]",
            "per_year = [\"1.5m\", \"2%\"]",
        ),
        "budget.per_year[1]",
        "is a percentage",
    );
    assert_field_error(
        &base_with(
            "weekly_cost = 450",
            "weekly_cost = { dist = \"pert\", min = 400, mode = \"5%\", max = 500 }",
        ),
        "placement[0].weekly_cost.mode",
        "is a percentage",
    );
    // Every other field in pounds: a saving of "3%" was a saving of 3p.
    let money_fields = [
        (
            "[[saving]]\nid = \"s\"\nper_year = [\"100k\", \"3%\"]",
            "saving[0].per_year[1]",
        ),
        (
            "[[investment]]\nid = \"i\"\nper_year = [\"2%\", 0]",
            "investment[0].per_year[0]",
        ),
        (
            "[[intervention]]\nid = \"rates\"\nkind = \"unit_cost\"\nstart = \"2024-04\"\n\
             placement = \"ifa\"\nchange = \"-5%\"",
            "intervention[0].change",
        ),
        (
            "[[intervention]]\nid = \"team\"\nkind = \"prevent_entry\"\nstart = \"2024-04\"\n\
             per_year = 2\ncost_per_year = \"1%\"",
            "intervention[0].cost_per_year",
        ),
        (
            "[[budget.line]]\nid = \"placements\"\nper_year = [\"1m\", \"3%\"]",
            "budget.line[0].per_year[1]",
        ),
        (
            "[[fund]]\nid = \"grant\"\nkind = \"grant\"\namount = \"10%\"",
            "fund[0].amount",
        ),
        (
            "[[staff]]\nid = \"sw\"\nfte = 10\npermanent_cost = \"5%\"",
            "staff[0].permanent_cost",
        ),
        (
            "[[income]]\nid = \"grant\"\nkind = \"fixed\"\nper_year = \"4%\"",
            "income[0].per_year",
        ),
        (
            "[history]\ncost = { \"2023/24\" = \"3%\" }",
            "history.cost.2023/24",
        ),
    ];
    for (extra, field) in money_fields {
        assert_field_error(&base_plus(extra), field, "is a percentage");
    }
    // A discrete distribution's weights are shares, which may be written
    // as percentages in a field of pounds.
    let weights = base_plus(
        "[[staff]]\nid = \"sw\"\nfte = 10\npermanent_cost = { dist = \"discrete\", \
         values = [40000, 50000], weights = [\"30%\", \"70%\"] }",
    );
    let outcome = Case::new(weights).validate();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    // A scenario's own change of a price.
    let case = Case::new(format!(
        "{BASE}\n[[scenario]]\nid = \"dear\"\n[scenario.placement.ifa]\nweekly_cost = \"4%\"\n"
    ));
    assert_bad(
        &case,
        &[
            "scenario[0] (dear) → placement[1].weekly_cost".to_string(),
            "is a percentage".to_string(),
        ],
    );
}

#[test]
fn a_blank_scenario_id() {
    for id in [" ", "base "] {
        assert_field_error(
            &format!("{BASE}\n[[scenario]]\nid = \"{id}\"\n"),
            "scenario[0].id",
            "must not be blank or begin or end with a space",
        );
    }
}

#[test]
fn missing_config_file() {
    let case = Case::without_config();
    assert_bad(&case, &["cannot read the config".to_string()]);
}

#[test]
fn config_that_is_not_utf8() {
    let mut bytes = BASE.as_bytes().to_vec();
    let at = BASE.find("bad config test").expect("the name");
    bytes[at] = 0xFF;
    let case = Case::new(bytes);
    assert_bad(&case, &["UTF-8".to_string()]);
}

// ---------------------------------------------------------------------------
// Keys and types.

#[test]
fn unknown_top_level_key() {
    assert_field_error(
        &format!("colour = \"red\"\n{BASE}"),
        "colour",
        "unknown field `colour`",
    );
}

#[test]
fn unknown_key_in_placement() {
    assert_field_error(
        &base_with("weekly_cost = 800", "weekly_cost = 800\ncolour = \"red\""),
        "placement[1].colour",
        "unknown field `colour`",
    );
}

#[test]
fn missing_required_key() {
    assert_field_error(
        &base_with("start = \"2024-04\"\n", ""),
        "horizon",
        "`start`",
    );
}

#[test]
fn wrong_type_for_years() {
    assert_field_error(
        &base_with("years = 2", "years = \"two\""),
        "horizon.years",
        "\"two\"",
    );
}

#[test]
fn money_string_that_is_not_money_in_budget() {
    assert_field_error(
        &base_with("\"1.6m\"", "\"12x\""),
        "budget.per_year[1]",
        "\"12x\"",
    );
}

#[test]
fn money_string_that_is_not_money_in_weekly_cost() {
    assert_field_error(
        &base_with("weekly_cost = 450", "weekly_cost = \"12x\""),
        "placement[0].weekly_cost",
        "\"12x\"",
    );
}

// ---------------------------------------------------------------------------
// Horizon, simulation and budget.

#[test]
fn horizon_start_month_13() {
    assert_field_error(
        &base_with("\"2024-04\"", "\"2024-13\""),
        "horizon.start",
        "2024-13",
    );
}

#[test]
fn zero_years() {
    assert_field_error(
        &base_with("years = 2", "years = 0"),
        "horizon.years",
        "got 0",
    );
}

#[test]
fn financial_year_starting_in_month_13() {
    assert_field_error(
        &base_with("years = 2", "years = 2\nfy_start_month = 13"),
        "horizon.fy_start_month",
        "got 13",
    );
}

#[test]
fn zero_runs_in_config() {
    assert_field_error(
        &base_with("[horizon]", "[simulation]\nruns = 0\n\n[horizon]"),
        "simulation.runs",
        "got 0",
    );
}

#[test]
fn budget_with_wrong_number_of_years() {
    assert_field_error(
        &base_with("[\"1.5m\", \"1.6m\"]", "[\"1.5m\", \"1.6m\", \"1.7m\"]"),
        "budget.per_year",
        "has 3 amounts",
    );
}

#[test]
fn negative_budget() {
    assert_field_error(
        &base_with("\"1.5m\"", "\"-1.5m\""),
        "budget.per_year[0]",
        "0 or more",
    );
    // "-0" is zero, as a bare -0 is: not refused as negative.
    let outcome = Case::new(base_with("\"1.5m\"", "\"-0\"")).validate();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
}

// ---------------------------------------------------------------------------
// Placements, counts and capacity.

#[test]
fn negative_initial_count() {
    assert_field_error(
        &base_with("initial = 40", "initial = -3"),
        "placement[0].initial",
        "got -3",
    );
}

#[test]
fn fractional_initial_count() {
    assert_field_error(
        &base_with("initial = 40", "initial = 2.5"),
        "placement[0].initial",
        "whole number",
    );
}

#[test]
fn fractional_capacity() {
    assert_field_error(
        &base_with(
            "initial = 40",
            "initial = 40\ncapacity = 50.5\noverflow = \"ifa\"",
        ),
        "placement[0].capacity",
        "whole number",
    );
}

/// Regression: a label with a NUL and an escape
/// (`"Fostering\u0000\u001b[31mRED"`) passed and reached the HTML report's
/// SVG as raw bytes, which XML forbids. Text shown in reports holds no
/// control characters; a description may break lines.
#[test]
fn control_characters_in_text_are_refused() {
    let nul_esc = r#""Fostering\u0000\u001b[31mRED""#;
    for (toml, field, needle) in [
        (
            base_with("id = \"ifa\"", &format!("id = \"ifa\"\nlabel = {nul_esc}")),
            "placement[1].label",
            "U+0000",
        ),
        (
            base_with("name = \"bad config test\"", "name = \"bad\\tconfig\""),
            "name",
            "U+0009",
        ),
        (
            base_plus("[[cost_line]]\nid = \"legal\"\nlabel = \"Legal\\nfees\"\nper_year = 5\n"),
            "cost_line[0].label",
            "U+000A",
        ),
        (
            base_with(
                "name = \"bad config test\"",
                "name = \"x\"\ndescription = \"\"\"\nTwo\nlines\\u0007\"\"\"",
            ),
            "description",
            "U+0007",
        ),
        (
            base_plus("[[scenario]]\nid = \"s\"\nlabel = \"S\\u001b\"\n"),
            "scenario[0].label",
            "U+001B",
        ),
        (
            base_plus("[[scenario]]\nid = \"s\"\n[scenario.placement.ifa]\nlabel = \"S\\u0000\"\n"),
            "scenario[0] (s) → placement[1].label",
            "U+0000",
        ),
    ] {
        assert_field_error(&toml, field, needle);
    }
    // Line breaks are fine in a description.
    let described = base_with(
        "name = \"bad config test\"",
        "name = \"x\"\ndescription = \"\"\"\nTwo\nlines\"\"\"",
    );
    assert_eq!(Case::new(described).validate().code, Some(0));
}

/// Regression: `kinshipé` was refused with "may use only letters, digits
/// …", although é is a letter; the rule is ASCII letters.
#[test]
fn a_non_ascii_letter_in_an_id_is_refused_saying_ascii() {
    assert_field_error(
        &base_with("id = \"ifa\"", "id = \"kinshipé\""),
        "placement[1].id",
        "\"kinshipé\" may use only ASCII letters (a–z, A–Z), digits (0–9), '_', '-' and '+'",
    );
}

#[test]
fn duplicate_placement_id() {
    assert_field_error(
        &base_with("id = \"ifa\"", "id = \"fostering\""),
        "placement[1].id",
        "declared twice",
    );
}

#[test]
fn unknown_overflow_placement() {
    assert_field_error(
        &base_with(
            "initial = 40",
            "initial = 40\ncapacity = 50\noverflow = \"nonesuch\"",
        ),
        "placement[0].overflow",
        "\"nonesuch\"",
    );
}

#[test]
fn overflow_cycle() {
    let toml = edit(
        BASE,
        &[
            (
                "initial = 40",
                "initial = 40\ncapacity = 50\noverflow = \"ifa\"",
            ),
            (
                "initial = 20",
                "initial = 20\ncapacity = 30\noverflow = \"fostering\"",
            ),
        ],
    );
    assert_field_error(&toml, "placement[0].overflow", "cycle");
}

#[test]
fn capacity_without_overflow() {
    assert_field_error(
        &base_with("initial = 40", "initial = 40\ncapacity = 50"),
        "placement[0].overflow",
        "capacity",
    );
}

#[test]
fn overflow_without_capacity() {
    assert_field_error(
        &base_with("initial = 40", "initial = 40\noverflow = \"ifa\""),
        "placement[0].overflow",
        "capacity",
    );
}

// ---------------------------------------------------------------------------
// Distributions.

#[test]
fn normal_with_negative_sd() {
    assert_field_error(
        &base_with(
            "weekly_cost = 450",
            "weekly_cost = { dist = \"normal\", mean = 450, sd = -10 }",
        ),
        "placement[0].weekly_cost.sd",
        "-10",
    );
}

#[test]
fn unknown_distribution_name() {
    assert_field_error(
        &base_with(
            "weekly_cost = 450",
            "weekly_cost = { dist = \"gaussian\", mean = 450, sd = 10 }",
        ),
        "placement[0].weekly_cost.dist",
        "\"gaussian\"",
    );
}

#[test]
fn unknown_distribution_parameter() {
    assert_field_error(
        &base_with(
            "weekly_cost = 450",
            "weekly_cost = { dist = \"normal\", mean = 450, sdev = 10 }",
        ),
        "placement[0].weekly_cost.sdev",
        "unknown field `sdev`",
    );
}

#[test]
fn triangular_with_min_above_max() {
    assert_field_error(
        &base_with(
            "weekly_cost = 450",
            "weekly_cost = { dist = \"triangular\", min = 900, mode = 800, max = 700 }",
        ),
        "placement[0].weekly_cost.min",
        "greater than max",
    );
}

#[test]
fn pert_with_min_above_max() {
    assert_field_error(
        &base_with(
            "per_year = 30",
            "per_year = { dist = \"pert\", min = 40, mode = 30, max = 20 }",
        ),
        "entries.per_year.min",
        "greater than max",
    );
}

#[test]
fn nan_weekly_cost() {
    assert_field_error(
        &base_with("weekly_cost = 450", "weekly_cost = nan"),
        "placement[0].weekly_cost",
        "finite",
    );
}

// ---------------------------------------------------------------------------
// Entries.

#[test]
fn entry_mix_not_summing_to_one() {
    assert_field_error(
        &base_with(
            "mix = { fostering = 0.6, ifa = 0.4 }",
            "mix = { fostering = 0.6, ifa = 0.3 }",
        ),
        "entries.mix",
        "sum to 1",
    );
}

#[test]
fn unknown_placement_in_entries_mix() {
    assert_field_error(
        &base_with(
            "mix = { fostering = 0.6, ifa = 0.4 }",
            "mix = { fostering = 0.6, nonesuch = 0.4 }",
        ),
        "entries.mix.nonesuch",
        "\"nonesuch\"",
    );
}

#[test]
fn seasonality_with_11_factors() {
    assert_field_error(
        &base_with(
            "per_year = 30",
            "per_year = 30\nseasonality = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        ),
        "entries.seasonality",
        "got 11",
    );
}

#[test]
fn seasonality_not_averaging_one() {
    assert_field_error(
        &base_with(
            "per_year = 30",
            "per_year = 30\nseasonality = [2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]",
        ),
        "entries.seasonality",
        "sum to 12",
    );
}

#[test]
fn zero_dispersion() {
    assert_field_error(
        &base_with("per_year = 30", "per_year = 30\ndispersion = 0"),
        "entries.dispersion",
        "above 0",
    );
}

// ---------------------------------------------------------------------------
// Exits and transitions.

#[test]
fn unknown_placement_in_exits() {
    assert_field_error(
        &base_with(
            "{ fostering = 24, ifa = 30 }",
            "{ fostering = 24, ifa = 30, nonesuch = 12 }",
        ),
        "exits.mean_months.nonesuch",
        "\"nonesuch\"",
    );
}

#[test]
fn placement_without_exit_rate() {
    assert_field_error(
        &base_with("{ fostering = 24, ifa = 30 }", "{ fostering = 24 }"),
        "exits",
        "\"ifa\"",
    );
}

#[test]
fn mean_stay_below_one_month() {
    assert_field_error(
        &base_with(
            "{ fostering = 24, ifa = 30 }",
            "{ fostering = 0.5, ifa = 30 }",
        ),
        "exits.mean_months.fostering",
        "at least 1 month",
    );
}

#[test]
fn annual_probability_above_one() {
    assert_field_error(
        &base_with(
            "mean_months = { fostering = 24, ifa = 30 }",
            "mean_months = { fostering = 24 }\nannual_probability = { ifa = 1.5 }",
        ),
        "exits.annual_probability.ifa",
        "between 0 and 1",
    );
}

#[test]
fn beta_mean_outside_zero_one() {
    assert_field_error(
        &base_with(
            "mean_months = { fostering = 24, ifa = 30 }",
            "mean_months = { fostering = 24 }\nannual_probability = { ifa = { dist = \"beta\", mean = 1.2, sd = 0.1 } }",
        ),
        "exits.annual_probability.ifa.mean",
        "1.2",
    );
}

#[test]
fn unknown_placement_in_transition_to() {
    assert_field_error(
        &base_plus("[[transition]]\nfrom = \"fostering\"\nto = \"nonesuch\"\nannual_rate = 0.1\n"),
        "transition[0].to",
        "\"nonesuch\"",
    );
}

#[test]
fn unknown_placement_in_transition_from() {
    assert_field_error(
        &base_plus("[[transition]]\nfrom = \"nonesuch\"\nto = \"ifa\"\nannual_rate = 0.1\n"),
        "transition[0].from",
        "\"nonesuch\"",
    );
}

#[test]
fn transition_to_the_same_placement() {
    assert_field_error(
        &base_plus("[[transition]]\nfrom = \"ifa\"\nto = \"ifa\"\nannual_rate = 0.1\n"),
        "transition[0].to",
        "different placement",
    );
}

#[test]
fn transition_rate_above_one() {
    assert_field_error(
        &base_plus("[[transition]]\nfrom = \"ifa\"\nto = \"fostering\"\nannual_rate = 1.5\n"),
        "transition[0].annual_rate",
        "between 0 and 1",
    );
}

// ---------------------------------------------------------------------------
// Age bands.

#[test]
fn age_bands_with_a_gap() {
    assert_field_error(
        &banded_with("from = 10\nto = 18", "from = 12\nto = 18"),
        "age_band[1].from",
        "expected from = 10",
    );
}

#[test]
fn age_bands_not_ending_at_18() {
    assert_field_error(
        &banded_with("from = 10\nto = 18", "from = 10\nto = 16"),
        "age_band[1].to",
        "18",
    );
}

#[test]
fn initial_count_for_unknown_band() {
    assert_field_error(
        &banded_with("{ young = 30, older = 10 }", "{ young = 30, teens = 10 }"),
        "placement[0].initial.teens",
        "\"teens\"",
    );
}

#[test]
fn age_mix_missing_with_bands() {
    assert_field_error(
        &banded_with("age_mix = { young = 0.5, older = 0.5 }\n", ""),
        "entries.age_mix",
        "band",
    );
}

// ---------------------------------------------------------------------------
// Other cost lines and care leavers.

#[test]
fn cost_line_with_wrong_number_of_years() {
    assert_field_error(
        &base_plus("[[cost_line]]\nid = \"legal\"\nper_year = [\"1m\", \"1m\", \"1m\"]\n"),
        "cost_line[0].per_year",
        "has 3 amounts",
    );
}

#[test]
fn cost_line_named_like_a_placement() {
    assert_field_error(
        &base_plus("[[cost_line]]\nid = \"ifa\"\nper_year = \"1m\"\n"),
        "cost_line[0].id",
        "\"ifa\"",
    );
}

#[test]
fn care_leavers_without_age_bands() {
    assert_field_error(
        &base_plus("[care_leavers]\nweekly_cost = 250\nmonths = 36\n"),
        "care_leavers",
        "age_band",
    );
}

// ---------------------------------------------------------------------------
// Absurd magnitudes: valid syntax, but beyond any council. These must be
// refused as config errors, never crash the simulation.

#[test]
fn absurd_weekly_cost() {
    assert_field_error(
        &base_with("weekly_cost = 450", "weekly_cost = \"1000000bn\""),
        "placement[0].weekly_cost",
        "too large",
    );
}

#[test]
fn absurd_entries_per_year() {
    assert_field_error(
        &base_with("per_year = 30", "per_year = 1e15"),
        "entries.per_year",
        "too large",
    );
}

#[test]
fn absurd_budget_amount() {
    assert_field_error(
        &base_with("\"1.6m\"", "\"10000000000000000000000000000\""),
        "budget.per_year[1]",
        "10000000000000000000000000000",
    );
}

#[test]
fn absurd_cost_line_amount() {
    assert_field_error(
        &base_plus("[[cost_line]]\nid = \"legal\"\nper_year = \"10000000000000000000000000000\"\n"),
        "cost_line[0].per_year",
        "10000000000000000000000000000",
    );
}

#[test]
fn huge_distribution_parameter_is_explained() {
    let case = Case::new(base_with(
        "per_year = 30",
        "per_year = { dist = \"poisson\", mean = 1e300 }",
    ));
    assert_bad(&case, &[": entries.per_year.mean: ".to_string()]);
    let stderr = case.run(&[]).stderr;
    assert!(
        !stderr.contains("not a finite"),
        "1e300 is finite; the message should say it is too large:\n{stderr}"
    );
    assert!(
        stderr.len() < 400,
        "the message should not spell out 1e300 digit by digit:\n{stderr}"
    );
}

/// The limit a refusal states: the number after "at most ", as a config
/// would write it (`£10,000,000` → `10000000`).
fn stated_limit(stderr: &str) -> String {
    let (_, after) = stderr
        .split_once("at most ")
        .unwrap_or_else(|| panic!("the message should state a limit:\n{stderr}"));
    after
        .split(' ')
        .next()
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_digit())
        .collect()
}

/// Regression: a value was refused with a limit larger than the one that
/// applied (`initial = 50000000`: "at most 1000000"; then `1000000`: "at
/// most 100000"; a weekly cost of 1e300: "below 1e15"; then 1e14: "limit of
/// 1e7"). Each quantity states one limit, whatever stage refuses it, and a
/// value at that limit is not refused for a smaller one.
#[test]
fn a_refusal_states_the_limit_that_applies() {
    // Each config with VALUE where the value goes.
    let cases = [
        (
            "placement[0].initial",
            base_with("initial = 40", "initial = VALUE"),
            ["1e300", "50000000", "1000000"],
        ),
        (
            "entries.per_year",
            base_with("per_year = 30", "per_year = VALUE"),
            ["1e300", "1e12", "1000000"],
        ),
        (
            "placement[0].weekly_cost",
            base_with("weekly_cost = 450", "weekly_cost = VALUE"),
            ["1e300", "1e14", "100000000"],
        ),
        (
            "cost_line[0].per_year",
            base_plus("[[cost_line]]\nid = \"legal\"\nper_year = VALUE\n"),
            ["1e300", "\"£5000bn\"", "999999999999999"],
        ),
    ];
    let config = |toml: &str, v: &str| toml.replace("VALUE", v);
    for (field, toml, values) in cases {
        let limits: Vec<String> = values
            .iter()
            .map(|v| {
                let case = Case::new(config(&toml, v));
                let out = case.validate();
                assert_refused(&out, &format!("{field} = {v}"), &[format!(": {field}: ")]);
                stated_limit(&out.stderr)
            })
            .collect();
        assert!(
            limits.iter().all(|l| *l == limits[0]),
            "{field}: {values:?} are refused with different limits {limits:?}"
        );
        // Obeying the limit: accepted, or refused for the same limit (the
        // other placement's 20 children count towards the stock's).
        let out = Case::new(config(&toml, &limits[0])).validate();
        if out.code != Some(0) {
            assert_refused(&out, &format!("{field} at its limit"), &[]);
            assert_eq!(
                stated_limit(&out.stderr),
                limits[0],
                "{field} = {} obeys the limit stated:\n{}",
                limits[0],
                out.stderr
            );
        }
    }
}

/// Regression: `initial = 99999999999999999999` (beyond 64 bits) gave
/// "invalid type: integer … as i128, expected any valid TOML value".
#[test]
fn an_integer_beyond_64_bits_names_the_field_and_what_it_accepts() {
    let big = "99999999999999999999";
    for (toml, field, expected) in [
        (
            base_with("initial = 40", &format!("initial = {big}")),
            "placement[0].initial",
            "at most 100,000 children",
        ),
        (
            banded_with("young = 30,", &format!("young = {big},")),
            "placement[0].initial.young",
            "at most 100,000 children",
        ),
        (
            base_with("weekly_cost = 450", &format!("weekly_cost = -{big}")),
            "placement[0].weekly_cost",
            "at most £10,000,000 a week",
        ),
        (
            base_with("years = 2", &format!("years = {big}")),
            "horizon.years",
            "a whole number from 1 to 50",
        ),
        (
            base_with("years = 2", "years = 1e400"),
            "horizon.years",
            "a whole number from 1 to 50",
        ),
    ] {
        let case = Case::new(toml);
        let out = case.validate();
        assert_refused(
            &out,
            field,
            &[
                format!(": {field}: "),
                "is too large".into(),
                expected.into(),
            ],
        );
        assert!(!out.stderr.contains("i128"), "{}", out.stderr);
    }
}

/// Regression: `seed = 9223372036854775808` (2⁶³, beyond a TOML integer)
/// was accepted by a config without scenarios and refused by one with
/// them as "FILE:20: u64 value was too large", with no field; a seed beyond
/// 64 bits was refused with the range 0 to 2⁶⁴ − 1, which holds the seed that
/// failed. Every seed above 2⁶³ − 1 is refused naming the field and the range
/// a config can hold; 2⁶³ − 1 itself is accepted.
#[test]
fn a_seed_beyond_a_toml_integer_names_the_field_and_the_range_that_works() {
    let seed = |value: &str| format!("[simulation]\nseed = {value}\n");
    let scenario = "[[scenario]]\nid = \"s\"\n";
    for value in [
        "9223372036854775808",
        "18446744073709551615",
        "99999999999999999999",
    ] {
        for toml in [
            base_plus(&seed(value)),
            base_plus(&format!("{}{scenario}", seed(value))),
        ] {
            let case = Case::new(toml);
            assert_bad(
                &case,
                &[
                    ": simulation.seed: ".into(),
                    format!("{value} is too large"),
                    "a whole number from 0 to 9223372036854775807".into(),
                    "--seed on the command line takes up to 18446744073709551615".into(),
                ],
            );
        }
    }
    for toml in [
        base_plus(&seed("9223372036854775807")),
        base_plus(&format!("{}{scenario}", seed("9223372036854775807"))),
    ] {
        let out = Case::new(toml).validate();
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    // The command line takes the full 64 bits.
    let case = Case::new(BASE);
    let out = case.run(&["--seed", "18446744073709551615"]);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
}

/// Regression: `seed = -1` or `runs = 2.5` was refused in serde's words,
/// "invalid value: integer `-1`, expected u64", which names a Rust type
/// rather than what the field takes. A negative or fractional value of a
/// whole-number field now states the range it accepts, in a config with
/// scenarios as well as without.
#[test]
fn a_negative_or_fractional_whole_number_states_the_range_the_field_takes() {
    let scenario = "[[scenario]]\nid = \"s\"\n";
    let cases = [
        (
            "[simulation]\nseed = -1\n",
            "simulation.seed: -1",
            "from 0 to 9223372036854775807",
        ),
        (
            "[simulation]\nseed = 0.5\n",
            "simulation.seed: 0.5",
            "from 0 to 9223372036854775807",
        ),
        (
            "[simulation]\nruns = -5\n",
            "simulation.runs: -5",
            "from 1 to 100,000,000",
        ),
        (
            "[simulation]\nruns = 2.5\n",
            "simulation.runs: 2.5",
            "from 1 to 100,000,000",
        ),
    ];
    for (extra, field, range) in cases {
        for toml in [base_plus(extra), base_plus(&format!("{extra}{scenario}"))] {
            let case = Case::new(toml);
            assert_bad(
                &case,
                &[
                    format!("{field} is not allowed"),
                    format!("expected a whole number {range}"),
                ],
            );
            let out = case.validate();
            assert!(!out.stderr.contains("u64"), "{}", out.stderr);
        }
    }
}

// ---------------------------------------------------------------------------
// The command line.

#[test]
fn unknown_cli_flag() {
    let case = Case::new(BASE);
    let outcome = case.run(&["--bogus"]);
    assert_refused(&outcome, "carecast run --bogus", &["--bogus".to_string()]);
    case.assert_nothing_written("carecast run --bogus");
}

#[test]
fn zero_runs_on_the_command_line() {
    let case = Case::new(BASE);
    let outcome = case.run(&["--runs", "0"]);
    assert_refused(&outcome, "carecast run --runs 0", &["--runs".to_string()]);
    case.assert_nothing_written("carecast run --runs 0");
}

#[test]
fn zero_threads_on_the_command_line() {
    let case = Case::new(BASE);
    let outcome = case.run(&["--threads", "0"]);
    assert_refused(
        &outcome,
        "carecast run --threads 0",
        &["--threads".to_string()],
    );
    case.assert_nothing_written("carecast run --threads 0");
}

#[test]
fn more_threads_than_carecast_starts() {
    // Starting 100,000 threads would take minutes: refused before any work.
    let case = Case::new(BASE);
    let outcome = case.run(&["--threads", "100000"]);
    assert_refused(
        &outcome,
        "carecast run --threads 100000",
        &[
            "--threads".to_string(),
            "1024".to_string(),
            "100000".to_string(),
        ],
    );
    case.assert_nothing_written("carecast run --threads 100000");
}

#[test]
fn non_numeric_runs_on_the_command_line() {
    let case = Case::new(BASE);
    let outcome = case.run(&["--runs", "ten"]);
    assert_refused(&outcome, "carecast run --runs ten", &["--runs".to_string()]);
    case.assert_nothing_written("carecast run --runs ten");
}

// ---------------------------------------------------------------------------
// Positive controls: the configs every case above starts from are valid.

fn assert_runs(toml: &str) {
    let case = Case::new(toml);
    let run = case.run(&[]);
    assert_eq!(
        run.code,
        Some(0),
        "the unbroken config should run\n--- stderr:\n{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for file in [case.json(), case.csv()] {
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(
            len > 0,
            "{} should be written and not empty",
            file.display()
        );
    }
    let validate = case.validate();
    assert_eq!(
        validate.code,
        Some(0),
        "the unbroken config should validate\n--- stderr:\n{}",
        validate.stderr
    );
    assert!(validate.stdout.contains("valid"), "{}", validate.stdout);
}

#[test]
fn valid_minimal_config_runs_and_writes_both_files() {
    assert_runs(BASE);
}

#[test]
fn valid_banded_config_runs_and_writes_both_files() {
    assert_runs(BANDED);
}

// ---------------------------------------------------------------------------
// The strategy: interventions, shocks, savings, investments and scenarios.

const PROGRAMME: &str = r#"
[[intervention]]
id = "edge"
kind = "prevent_entry"
start = "2024-04"
per_year = 10
"#;

#[test]
fn unknown_intervention_kind() {
    assert_field_error(
        &base_plus(&PROGRAMME.replace("prevent_entry", "prevent")),
        "intervention[0].kind",
        "unknown kind",
    );
}

#[test]
fn intervention_field_of_another_kind() {
    let toml = base_plus(&format!("{PROGRAMME}from = \"ifa\"\n"));
    assert_field_error(
        &toml,
        "intervention[0].from",
        "an intervention of kind `prevent_entry` does not take `from`",
    );
}

#[test]
fn intervention_effect_given_twice() {
    let toml = base_plus(&format!(
        "{PROGRAMME}families = 25\nsuccess_rate = 0.5\nchildren_per_family = 1.4\n"
    ));
    assert_field_error(&toml, "intervention[0]", "not both");
}

#[test]
fn intervention_success_rate_outside_0_1() {
    let toml = base_plus(
        "[[intervention]]\nid = \"edge\"\nkind = \"prevent_entry\"\nstart = \"2024-04\"\nfamilies = 25\nsuccess_rate = 1.5\nchildren_per_family = 1.4\n",
    );
    assert_field_error(&toml, "intervention[0].success_rate", "between 0 and 1");
}

#[test]
fn intervention_delivery_probability_outside_0_1() {
    let toml = base_plus(&format!("{PROGRAMME}delivery_probability = 1.5\n"));
    assert_field_error(
        &toml,
        "intervention[0].delivery_probability",
        "between 0 and 1",
    );
}

#[test]
fn intervention_unknown_funding() {
    let toml = base_plus(&format!("{PROGRAMME}funding = \"lottery\"\n"));
    assert_field_error(
        &toml,
        "intervention[0].funding",
        "expected one of budget, grant",
    );
}

#[test]
fn intervention_end_before_start() {
    let toml = base_plus(&format!("{PROGRAMME}end = \"2024-01\"\n"));
    assert_field_error(&toml, "intervention[0].end", "after the start");
}

#[test]
fn intervention_start_month_13() {
    assert_field_error(
        &base_plus(&PROGRAMME.replace("2024-04", "2024-13")),
        "intervention[0].start",
        "month 13",
    );
}

#[test]
fn step_down_to_unknown_placement() {
    let toml = base_plus(
        "[[intervention]]\nid = \"sd\"\nkind = \"step_down\"\nstart = \"2024-04\"\nper_year = 5\nfrom = \"ifa\"\nto = \"nonesuch\"\n",
    );
    assert_field_error(&toml, "intervention[0].to", "\"nonesuch\"");
}

#[test]
fn capacity_programme_on_a_placement_without_capacity() {
    let toml = base_plus(
        "[[intervention]]\nid = \"rec\"\nkind = \"capacity\"\nstart = \"2024-04\"\nper_year = 5\nplacement = \"ifa\"\n",
    );
    assert_field_error(&toml, "intervention[0].placement", "no `capacity`");
}

/// A `unit_cost` programme on `ifa` (£800 a week): `change`, from `start`
/// to `end`.
fn price_change(id: &str, change: &str, start: &str, end: &str) -> String {
    format!(
        "[[intervention]]\nid = \"{id}\"\nkind = \"unit_cost\"\nplacement = \"ifa\"\n\
         start = \"{start}\"\nend = \"{end}\"\nchange = {change}\n"
    )
}

/// Regression: a `unit_cost` change larger than the price was accepted and
/// the price silently clamped to £0 (the example's `ifa_framework` with
/// `change = -100000` gave `components.ifa` = 0 from 2025/26).
#[test]
fn a_price_change_that_takes_the_price_below_zero_is_refused() {
    let example =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("configs/example.toml"))
            .expect("read the example");
    let toml = edit(
        &example,
        &[(
            "change = { dist = \"uniform\", min = -60, max = -20 }",
            "change = -100000",
        )],
    );
    let case = Case::new(toml);
    assert_refused(
        &case.validate(),
        "the example with change = -100000",
        &[
            ": intervention[5].change: ".into(),
            "a change of \u{2212}£100,000 a week".into(),
            "\"ifa\"".into(),
            "£780 to £950".into(),
            "below zero".into(),
        ],
    );
    // An uncertain change is checked at the low end of its range.
    assert_field_error(
        &base_plus(&price_change(
            "rates",
            "{ dist = \"uniform\", min = -900, max = -100 }",
            "2024-04",
            "2026-04",
        )),
        "intervention[0].change",
        "\u{2212}£900 to \u{2212}£100",
    );
}

/// Two programmes on one price add up: £500 off twice takes £800 below zero
/// while both are in force, and not when one follows the other.
#[test]
fn price_changes_are_checked_together() {
    let both = base_plus(&format!(
        "{}{}",
        price_change("first", "-500", "2024-04", "2026-04"),
        price_change("second", "-500", "2025-04", "2026-04")
    ));
    assert_field_error(&both, "intervention[1].change", "intervention[0] (first)");
    let one_then_the_other = base_plus(&format!(
        "{}{}",
        price_change("first", "-500", "2024-04", "2025-04"),
        price_change("second", "-500", "2025-04", "2026-04")
    ));
    assert_eq!(Case::new(one_then_the_other).validate().code, Some(0));
    // Down to exactly £0 is allowed.
    let to_zero = base_plus(&price_change("all", "-800", "2024-04", "2026-04"));
    assert_eq!(Case::new(to_zero).validate().code, Some(0));
}

#[test]
fn intervention_id_clashing_with_a_placement() {
    assert_field_error(
        &base_plus(&PROGRAMME.replace("id = \"edge\"", "id = \"ifa\"")),
        "intervention[0].id",
        "already",
    );
}

#[test]
fn shock_without_timing() {
    let toml = base_plus("[[shock]]\nid = \"inq\"\nchildren = 10\nmix = { fostering = 1 }\n");
    assert_field_error(&toml, "shock[0]", "probability_per_year");
}

#[test]
fn shock_mix_not_summing_to_1() {
    let toml = base_plus(
        "[[shock]]\nid = \"inq\"\nprobability_per_year = 0.1\nchildren = 10\nmix = { fostering = 0.5 }\n",
    );
    assert_field_error(&toml, "shock[0].mix", "sum to 1");
}

#[test]
fn saving_with_the_wrong_number_of_years() {
    let toml = base_plus("[[saving]]\nid = \"s\"\nper_year = [\"100k\"]\n");
    assert_field_error(&toml, "saving[0].per_year", "financial years");
}

#[test]
fn saving_delivery_outside_0_1() {
    let toml =
        base_plus("[[saving]]\nid = \"s\"\nper_year = [\"100k\", \"100k\"]\ndelivery = 1.2\n");
    assert_field_error(&toml, "saving[0].delivery", "between 0 and 1");
}

#[test]
fn scenario_disabling_an_unknown_programme() {
    let toml = base_plus(&format!(
        "{PROGRAMME}\n[[scenario]]\nid = \"a\"\ndisable = [\"nope\"]\n"
    ));
    assert_field_error(&toml, "scenario[0].disable[0]", "\"nope\"");
}

#[test]
fn scenario_changing_the_horizon() {
    let toml = base_plus("[[scenario]]\nid = \"a\"\nhorizon = { years = 3 }\n");
    assert_field_error(&toml, "scenario[0].horizon", "cannot be changed");
}

#[test]
fn scenario_making_an_invalid_config() {
    let toml = base_plus(&format!(
        "{PROGRAMME}\n[[scenario]]\nid = \"big\"\nintervention.edge = {{ per_year = -5 }}\n"
    ));
    assert_field_error(
        &toml,
        "scenario[0] (big) → intervention[0].per_year",
        "0 or more",
    );
}

#[test]
fn comparison_of_an_unknown_scenario() {
    let toml = base_plus("compare = [[\"a\", \"b\"]]\n[[scenario]]\nid = \"a\"\n").replacen(
        "name = \"bad config test\"",
        "name = \"bad config test\"\ncompare = [[\"a\", \"b\"]]",
        1,
    );
    let toml = toml.replacen(
        "compare = [[\"a\", \"b\"]]\n[[scenario]]",
        "[[scenario]]",
        1,
    );
    assert_field_error(&toml, "compare[0][1]", "unknown scenario \"b\"");
}

// ---------------------------------------------------------------------------
// Funds, budget lines, income, staffing and shocks (issue 13).

#[test]
fn an_unknown_fund_is_named() {
    let toml =
        base_plus("[[cost_line]]\nid = \"legal\"\nper_year = \"100k\"\nfunding = \"lottery\"\n");
    assert_field_error(&toml, "cost_line[0].funding", "\"lottery\" is not a fund");
}

#[test]
fn an_unknown_budget_line_is_named() {
    let toml = base_plus("[[cost_line]]\nid = \"legal\"\nper_year = \"100k\"\nline = \"legal\"\n");
    assert_field_error(&toml, "cost_line[0].line", "not a budget line");
}

#[test]
fn budget_lines_may_not_exceed_the_envelope() {
    let toml = base_plus("[[budget.line]]\nid = \"placements\"\nper_year = [\"1.4m\", \"1.7m\"]\n");
    assert_field_error(&toml, "budget.line", "more than the budget");
}

#[test]
fn a_fund_kind_must_be_known() {
    let toml = base_plus("[[fund]]\nid = \"pot\"\nkind = \"piggy_bank\"\n");
    assert_field_error(&toml, "fund[0].kind", "unknown kind");
}

#[test]
fn capital_receipts_cannot_be_spent_after_their_deadline() {
    let toml = base_plus(
        "[[fund]]\nid = \"receipts\"\nkind = \"capital_receipts\"\nuntil = \"2025-03\"\n\
         [[investment]]\nid = \"change\"\nper_year = [\"100k\", \"50k\"]\nfunding = \"receipts\"\n",
    );
    assert_field_error(&toml, "investment[0].funding", "only until");
}

#[test]
fn an_income_needs_its_rate() {
    let toml = base_plus("[[income]]\nid = \"uasc\"\nkind = \"per_child_week\"\n");
    assert_field_error(
        &toml,
        "income[0]",
        "needs its rate: `weekly` (pounds a week) or `nightly`",
    );
}

#[test]
fn a_payment_by_results_success_rate_is_a_fraction() {
    let toml = base_plus(
        "[[income]]\nid = \"pbr\"\nkind = \"per_outcome\"\noutcomes_per_year = 100\n\
         success_rate = 1.5\npayment = 800\n",
    );
    assert_field_error(&toml, "income[0].success_rate", "between 0 and 1");
}

#[test]
fn staff_need_posts() {
    let toml = base_plus("[[staff]]\nid = \"sw\"\npermanent_cost = 45000\n");
    assert_field_error(&toml, "staff[0]", "`fte` or as `children_per_worker`");
}

#[test]
fn an_agency_share_is_a_fraction_per_year() {
    let toml = base_plus(
        "[[staff]]\nid = \"sw\"\nfte = 20\npermanent_cost = 45000\nagency_cost = 80000\n\
         agency_share = [0.2, 1.2]\n",
    );
    assert_field_error(&toml, "staff[0].agency_share[1]", "between 0 and 1");
}

#[test]
fn a_shock_takes_one_timing() {
    let toml = base_plus(
        "[[shock]]\nid = \"x\"\nprobability_per_year = 0.1\nprobability = 0.5\nchildren = 5\n\
         mix = { fostering = 1 }\n",
    );
    assert_field_error(&toml, "shock[0]", "exactly one of");
}

// ---------------------------------------------------------------------------
// Cohorts and the income tied to them.

/// A cohort of the banded config, arriving into fostering.
const COHORT: &str = "[[cohort]]\nid = \"uasc\"\nexit_factor = 0.5\n\
                      initial = { fostering = { older = 3 } }\n\
                      [cohort.entries]\nper_year = 12\nage_mix = { older = 1 }\n\
                      mix = { fostering = 1.0 }\n";

fn banded_cohort_plus(extra: &str) -> String {
    format!("{BANDED}\n{COHORT}\n{extra}")
}

#[test]
fn a_config_with_a_cohort_runs() {
    assert_runs(&banded_cohort_plus(
        "[[income]]\nid = \"grant\"\nkind = \"per_child_week\"\ncohort = \"uasc\"\n\
         nightly = { young = 143, older = 143 }\n",
    ));
}

#[test]
fn a_cohorts_entrants_are_checked_like_the_main_entries() {
    let toml = banded_cohort_plus("").replace("per_year = 12", "per_year = -12");
    assert_field_error(&toml, "cohort[0].entries.per_year", "-12");
    let toml = banded_cohort_plus("").replace("fostering = 1.0 }", "hotel = 1.0 }");
    assert_field_error(&toml, "cohort[0].entries.mix.hotel", "unknown placement");
    let toml =
        banded_cohort_plus("").replace("age_mix = { older = 1 }", "age_mix = { older = 0.5 }");
    assert_field_error(&toml, "cohort[0].entries.age_mix", "sum to 1");
    let toml = banded_cohort_plus("").replace("age_mix = { older = 1 }", "age_by_year = [1]");
    assert_field_error(&toml, "cohort[0].entries.age_by_year", "18 shares");
}

#[test]
fn a_cohorts_exit_factor_cannot_be_negative() {
    let toml = banded_cohort_plus("").replace("exit_factor = 0.5", "exit_factor = -1");
    assert_field_error(&toml, "cohort[0].exit_factor", "-1");
}

#[test]
fn a_cohorts_initial_stock_names_placements_and_bands() {
    let toml = banded_cohort_plus("").replace("initial = { fostering", "initial = { hotel");
    assert_field_error(&toml, "cohort[0].initial.hotel", "unknown placement");
    let toml = banded_cohort_plus("").replace("{ older = 3 }", "{ teen = 3 }");
    assert_field_error(&toml, "cohort[0].initial.fostering.teen", "teen");
    let toml = banded_cohort_plus("").replace("{ older = 3 }", "3");
    assert_field_error(&toml, "cohort[0].initial.fostering", "per age band");
}

#[test]
fn a_cohort_is_declared_once() {
    let toml = format!("{}\n{COHORT}", banded_cohort_plus(""));
    assert_field_error(&toml, "cohort[1].id", "declared twice");
}

#[test]
fn income_for_a_cohort_names_a_known_cohort() {
    let toml = banded_cohort_plus(
        "[[income]]\nid = \"grant\"\nkind = \"per_child_week\"\ncohort = \"uasc2\"\nweekly = 1000\n",
    );
    assert_field_error(&toml, "income[0].cohort", "unknown cohort \"uasc2\"");
}

#[test]
fn a_nightly_rate_by_band_is_for_a_cohort_and_its_bands() {
    let toml = banded_cohort_plus(
        "[[income]]\nid = \"grant\"\nkind = \"per_child_week\"\nnightly = { older = 143 }\n",
    );
    assert_field_error(&toml, "income[0].nightly", "give its `cohort`");
    let toml = banded_cohort_plus(
        "[[income]]\nid = \"grant\"\nkind = \"per_child_week\"\ncohort = \"uasc\"\n\
         nightly = { teen = 143 }\n",
    );
    assert_field_error(&toml, "income[0].nightly.teen", "teen");
    let toml = banded_cohort_plus(
        "[[income]]\nid = \"grant\"\nkind = \"per_child_week\"\ncohort = \"uasc\"\n\
         nightly = { older = -143 }\n",
    );
    assert_field_error(&toml, "income[0].nightly.older", "-143");
    let toml = banded_cohort_plus(
        "[[income]]\nid = \"grant\"\nkind = \"per_child_week\"\ncohort = \"uasc\"\n\
         nightly = 143\nweekly = 1000\n",
    );
    assert_field_error(&toml, "income[0].nightly", "not both");
}

#[test]
fn income_per_care_leaver_takes_no_nightly_rate() {
    let toml = banded_cohort_plus(
        "[care_leavers]\nweekly_cost = 250\nmonths = 36\n\
         [[income]]\nid = \"leavers\"\nkind = \"per_leaver_week\"\ncohort = \"uasc\"\nnightly = 40\n",
    );
    assert_field_error(&toml, "income[0].nightly", "does not take `nightly`");
}

#[test]
fn scenario_making_a_cohort_invalid() {
    let toml =
        banded_cohort_plus("[[scenario]]\nid = \"more\"\ncohort.uasc = { exit_factor = -2 }\n");
    assert_field_error(&toml, "scenario[0] (more) → cohort[0].exit_factor", "-2");
    let toml = banded_cohort_plus("[[scenario]]\nid = \"none\"\ndisable = [\"uasc\"]\n");
    assert_runs(&toml);
}

#[test]
fn a_cohorts_entrants_are_held_to_carecasts_limits() {
    let toml = banded_cohort_plus("").replace("per_year = 12", "per_year = 200000");
    assert_field_error(
        &toml,
        "cohort[0].entries.per_year",
        "carecast accepts at most 100,000 entrants a year",
    );
}

#[test]
fn stays_that_may_never_end_leave_an_unaged_stock_no_time_in_care() {
    // Without ages, the initial stock's time in care is drawn from the
    // steady state, density ∝ S(τ) on [0, ∞): with a last band whose exit
    // hazard is 0, S never falls to 0 and there is no such profile. Random
    // runs put every child at the last band's bound while the central
    // projection kept some in the first band.
    let never = "[exits.time_in_care]\nbands = [0, 6]\nfactor = [1, 0]\n";
    assert_field_error(
        &base_plus(never),
        "placement[0].initial",
        "no steady state to draw it from",
    );
    // Given the split, the stock needs no steady state.
    let split = edit(
        &base_plus(never),
        &[
            (
                "initial = 40\n",
                "initial = 40\ninitial_time_in_care = { shares = [0.5, 0.5] }\n",
            ),
            (
                "initial = 20\n",
                "initial = 20\ninitial_time_in_care = { shares = [0.5, 0.5] }\n",
            ),
        ],
    );
    let outcome = Case::new(&split).validate();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
    // A cohort that never leaves takes no split, so it needs ages.
    let cohort = base_plus(
        "[exits.time_in_care]\nbands = [0, 6]\nfactor = [1, 1]\n\n\
         [[cohort]]\nid = \"uasc\"\nexit_factor = 0\ninitial = { ifa = 5 }\n",
    );
    assert_field_error(&cohort, "cohort[0].initial.ifa", "no steady state");
}

#[test]
fn a_transition_that_can_never_happen_or_names_a_band_twice() {
    let banded = |transition: &str| {
        let text = edit(
            BANDED,
            &[
                (
                    "[[placement]]\nid = \"fostering\"",
                    "[[placement]]\nid = \"kinship\"\nweekly_cost = 300\n\n[[placement]]\nid = \"fostering\"",
                ),
                ("{ fostering = 24 }", "{ fostering = 24, kinship = 30 }"),
            ],
        );
        format!("{text}\n[[transition]]\nfrom = \"fostering\"\nto = \"kinship\"\n{transition}")
    };
    assert_field_error(
        &banded("annual_rate = 0.1\nbands = []\n"),
        "transition[0].bands",
        "an empty list of bands",
    );
    assert_field_error(
        &banded("annual_rate = {}\n"),
        "transition[0].annual_rate",
        "an empty table of rates",
    );
    assert_field_error(
        &banded("annual_rate = 0.1\nbands = [\"young\", \"young\"]\n"),
        "transition[0].bands[1]",
        "named twice",
    );
    let outcome = Case::new(banded("annual_rate = 0.1\nbands = [\"young\"]\n")).validate();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
}

#[test]
fn a_split_by_time_in_care_written_wrongly_says_how_to_write_it() {
    let with = |split: &str| {
        base_with(
            "initial = 40\n",
            &format!(
                "initial = 40\ninitial_time_in_care = {split}\n\n[exits.time_in_care]\nbands = [0, 6]\nfactor = [1, 0.5]\n"
            ),
        )
    };
    for (split, fragment) in [
        (
            "{ share = [0.5, 0.5] }",
            "unknown key `share`: give `{ shares = [...] }`",
        ),
        ("[0.5, 0.5]", "expected a table, found array"),
    ] {
        assert_field_error(&with(split), "placement[0].initial_time_in_care", fragment);
    }
}

#[test]
fn a_scenario_table_that_drops_entries_says_it_replaced_them() {
    // `exits.mean_months.ifa = 12` replaces the whole `mean_months` table,
    // leaving fostering without a mean stay: the error says why.
    let case = Case::new(base_plus(
        "[[scenario]]\nid = \"base\"\n\n[[scenario]]\nid = \"shorter\"\nexits.mean_months.ifa = 12\n",
    ));
    assert_bad(
        &case,
        &[
            "scenario[1] (shorter) → exits: ".to_string(),
            "no exit rate for placement \"fostering\"".to_string(),
            "this scenario's `exits` replaces each field it names whole".to_string(),
        ],
    );
}

#[test]
fn comparisons_labels_and_observed_counts_that_cannot_be_meant() {
    let scenarios = "[[scenario]]\nid = \"a\"\n\n[[scenario]]\nid = \"b\"\n";
    assert_field_error(
        &format!("compare = [[\"a\", \"a\"]]\n{BASE}\n{scenarios}"),
        "compare[0]",
        "with itself",
    );
    assert_field_error(
        &format!("compare = [[\"a\", \"b\"], [\"a\", \"b\"]]\n{BASE}\n{scenarios}"),
        "compare[1]",
        "a second time",
    );
    assert_field_error(
        &base_with("id = \"ifa\"\n", "id = \"ifa\"\nlabel = \"  \"\n"),
        "placement[1].label",
        "is empty",
    );
    assert_field_error(
        &base_plus("[history]\ntotal = { \"2024-01\" = 58.5 }\n"),
        "history.total.2024-01",
        "whole number, got 58.5",
    );
}

#[test]
fn a_list_of_tables_written_with_single_brackets_says_how_to_write_it() {
    // The second `[placement]` repeats the key: the message says that
    // several placements are written `[[placement]]`.
    let toml = "name = \"x\"\n[horizon]\nstart = \"2024-04\"\nyears = 1\n\
                [placement]\nid = \"a\"\nweekly_cost = 1\n[placement]\nid = \"b\"\nweekly_cost = 2\n";
    let case = Case::new(toml);
    assert_bad(
        &case,
        &[
            ":8: duplicate key `placement`".to_string(),
            "write each as `[[placement]]`".to_string(),
        ],
    );
}

#[test]
fn a_split_by_time_in_care_no_child_is_old_enough_for_is_refused() {
    // Children aged 0-4 cannot have been in care for 60 months or more.
    let toml = r#"name = "time in care beyond age"
[horizon]
start = "2024-04"
years = 1
[[age_band]]
id = "0-4"
from = 0
to = 5
[[age_band]]
id = "5-17"
from = 5
to = 18
[[placement]]
id = "fostering"
weekly_cost = 450
initial = { "0-4" = 10, "5-17" = 10 }
initial_time_in_care = { "0-4" = { counts = [5, 0, 5] }, "5-17" = { counts = [5, 5, 0] } }
[entries]
per_year = 10
mix = { fostering = 1 }
age_mix = { "0-4" = 0.5, "5-17" = 0.5 }
[exits]
mean_months = { fostering = 12 }
[exits.time_in_care]
bands = [0, 24, 60]
factor = [1, 1, 1]
"#;
    assert_field_error(
        toml,
        "placement[0].initial_time_in_care",
        "puts 5 of age band \"0-4\" in care for 60 months or more, but none of them is old enough",
    );
    // The same split within what the ages allow is accepted.
    let allowed = toml.replace("counts = [5, 0, 5] }", "counts = [5, 5, 0] }");
    let outcome = Case::new(allowed).validate();
    assert_eq!(outcome.code, Some(0), "{}", outcome.stderr);
}
