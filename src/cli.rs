//! The command line: parse flags, turn them into validated settings, run,
//! write outputs. `main.rs` only calls [`main`] and exits with its status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::config::Config;
use crate::config::{self, EXAMPLE, EXAMPLE_ORIGIN};
use crate::engine::{self, Settings};
use crate::error::Error;
use crate::output;
use crate::precision;
use crate::progress::Progress;
use crate::report::Report;

#[derive(Debug, Parser)]
#[command(
    name = "carecast",
    version,
    about = "Monte Carlo simulation of demand and cost for a council's children's services",
    long_about = "carecast simulates thousands of possible futures of children in care — entries, exits, \
                  placement moves and prices — and reports the cost of each financial year against the \
                  budget: percentiles, the probability of an overspend and its expected size.\n\n\
                  Exit status: 0 success; 2 usage or config error; 1 any other failure."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a config (every scenario it declares, with common random numbers) and print cost
    /// percentiles per financial year against the budget, and the differences between scenarios.
    Run(RunArgs),
    /// Check a config without running it; prints what it describes.
    Validate {
        /// The config file (TOML).
        config: PathBuf,
    },
    /// Hold each uncertain input at its P10 and its P90 (everything else random, common random
    /// numbers) and rank the inputs by how much they move the cost and the probability of an
    /// overspend: the tornado.
    Sensitivity(SensitivityArgs),
    /// Render reports (HTML, Excel, Markdown) from results saved with `run --json`,
    /// without re-running the simulation; prints the table unless --quiet.
    Report(ReportArgs),
}

/// The reports people read, for `run` and `report` alike.
#[derive(Debug, Args)]
struct ReportFiles {
    /// Write a self-contained HTML report with charts (opens offline, prints on A4) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Write an Excel workbook (.xlsx) of the results to FILE.
    #[arg(long, value_name = "FILE")]
    xlsx: Option<PathBuf>,
    /// Write the headline tables as Markdown (for committee papers) to FILE.
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ReportArgs {
    /// Results written by `carecast run --json`.
    results: PathBuf,
    /// Add the tornado of a sensitivity analysis (written by `carecast sensitivity --json`)
    /// to the HTML report.
    #[arg(long, value_name = "FILE")]
    sensitivity: Option<PathBuf>,
    #[command(flatten)]
    files: ReportFiles,
    /// Print nothing on the terminal; only write the files asked for.
    #[arg(long, short)]
    quiet: bool,
}

/// Where random numbers come from and who draws them.
#[derive(Debug, Args)]
struct Streams {
    /// Seed of the random streams; the same config, seed and runs give byte-identical
    /// outputs [default: the config's simulation.seed, else 42].
    #[arg(long, value_name = "S")]
    seed: Option<u64>,
    /// Worker threads [default: one per core]. Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
}

impl Streams {
    /// The engine's settings for `runs` runs of `model`: the seed given, or
    /// the config's.
    fn settings(
        &self,
        runs: u64,
        model: &crate::model::Model,
        central: bool,
    ) -> Result<Settings, Error> {
        if self.threads == Some(0) {
            return Err(Error::Usage("--threads must be at least 1".into()));
        }
        Ok(Settings {
            runs,
            seed: self.seed.unwrap_or(model.default_seed),
            threads: self.threads,
            central,
        })
    }
}

#[derive(Debug, Args)]
struct SensitivityArgs {
    /// The config file (TOML). Without it, the built-in example is analysed.
    config: Option<PathBuf>,
    /// The scenario to analyse [default: the config's first].
    #[arg(long, value_name = "ID")]
    scenario: Option<String>,
    /// Simulated futures per setting (free, and each input at P10 and at P90).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    runs: u64,
    #[command(flatten)]
    streams: Streams,
    /// Write the ranked drivers as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the drivers as tidy CSV (input,fy,metric,held,value) to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write an HTML page with tornado charts to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Print nothing on the terminal; only write the files asked for.
    #[arg(long, short)]
    quiet: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The config file (TOML). Without it, the built-in example (configs/example.toml) is run.
    config: Option<PathBuf>,
    /// Number of simulated futures [default: the config's simulation.runs, else 10000]; with
    /// --precision, the first batch [default 1000].
    #[arg(long, value_name = "N")]
    runs: Option<u64>,
    #[command(flatten)]
    streams: Streams,
    /// Write the full results as JSON (SPEC §3.2) to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the full results as tidy CSV (scenario,fy,month,metric,component,stat,value) to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    #[command(flatten)]
    reports: ReportFiles,
    /// Run one deterministic projection with every input at its expected value and every
    /// random count at its expectation (fractional children allowed): the spreadsheet's view.
    #[arg(long)]
    central: bool,
    /// Keep adding batches of runs until the 95% intervals of the P50 and P90 cost and of
    /// P(overspend), in every year of every scenario, lie within ± TARGET: `0.5%` (of that
    /// year's budget, and 0.5 points of probability), `£50k` (any money form), `1pt` (points of
    /// probability), or a combination such as `£50k,1pt`. --runs is then the first batch
    /// [default 1000]; the result equals a plain run of the runs it took.
    #[arg(long, value_name = "TARGET", conflicts_with = "central")]
    precision: Option<String>,
    /// The most runs --precision may take [default: 1,000,000, or fewer if the results of every
    /// scenario would need more than 2 GB of memory].
    #[arg(long, value_name = "N", requires = "precision")]
    max_runs: Option<u64>,
    /// Print nothing on the terminal (no table, no progress bar); only write the files asked for.
    #[arg(long, short)]
    quiet: bool,
}

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Validate { config } => validate(config),
        Command::Report(args) => report(args),
        Command::Sensitivity(args) => sensitivity(args),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

fn load(path: Option<&PathBuf>) -> Result<Config, Error> {
    Ok(match path {
        Some(p) => config::load_config(p)?,
        None => config::parse_config(EXAMPLE, EXAMPLE_ORIGIN)?,
    })
}

fn run(args: RunArgs) -> Result<(), Error> {
    let config = load(args.config.as_ref())?;
    let model = &config.scenarios[0].model;
    let max = crate::config::validate::MAX_RUNS;
    let target = args
        .precision
        .as_deref()
        .map(precision::Target::parse)
        .transpose()
        .map_err(Error::Usage)?;
    // With --precision, --runs is the first batch.
    let runs = match &target {
        Some(_) => args.runs.unwrap_or(precision::FIRST_BATCH),
        None => args.runs.unwrap_or(model.default_runs),
    };
    if runs == 0 || runs > max {
        return Err(Error::Usage(format!(
            "--runs must be between 1 and {max}, got {runs}"
        )));
    }
    let max_runs = match args.max_runs {
        Some(m) if m == 0 || m > max => {
            return Err(Error::Usage(format!(
                "--max-runs must be between 1 and {max}, got {m}"
            )));
        }
        Some(m) if args.runs.is_some_and(|r| r > m) => {
            return Err(Error::Usage(format!(
                "--runs (the first batch of --precision) is {runs}, more than --max-runs {m}"
            )));
        }
        Some(m) => m,
        None => precision::default_max_runs(&config).max(args.runs.unwrap_or(1)),
    };
    let settings = args.streams.settings(runs, model, args.central)?;
    let show_progress = !args.quiet && !settings.central && std::io::stderr().is_terminal();
    let scenarios = config.scenarios.len() as u64;
    let per_scenario = if settings.central { 1 } else { runs };
    let progress = Progress::new(per_scenario * scenarios, show_progress);

    // Every scenario runs with the same seed: run i of each draws the same
    // random numbers for the same purposes (common random numbers).
    let report = engine::with_threads(settings.threads, || -> Result<Report, Error> {
        let Some(target) = &target else {
            let results = engine::run_config(&config, &settings, &|n| progress.advance(n))?;
            progress.finish();
            return Ok(Report::for_config(&config, &results, &settings));
        };
        let (results, outcome) = precision::run(
            &config,
            settings.seed,
            target,
            runs,
            max_runs,
            &|n, total| {
                progress.set_total(total * scenarios);
                progress.advance(n);
            },
        )?;
        progress.finish();
        let settings = Settings {
            runs: outcome.runs,
            ..settings.clone()
        };
        let mut report = Report::for_config(&config, &results, &settings);
        report.precision = Some(outcome);
        Ok(report)
    })??;

    let mut files = Vec::new();
    if let Some(path) = args.json {
        files.push((path, output::json::render(&report)?));
    }
    if let Some(path) = args.csv {
        files.push((path, output::csv::render(&report)));
    }
    files.extend(render_reports(&report, args.reports, None)?);
    output::write_all_or_nothing(files)?;

    if !args.quiet {
        print_stdout(&output::table::render(&report))?;
    }
    Ok(())
}

fn sensitivity(args: SensitivityArgs) -> Result<(), Error> {
    let config = load(args.config.as_ref())?;
    let scenario = match &args.scenario {
        None => &config.scenarios[0],
        Some(id) => config
            .scenarios
            .iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "--scenario {id}: the config has no such scenario (it has {})",
                    config
                        .scenarios
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?,
    };
    let model = &scenario.model;
    let max = crate::config::validate::MAX_RUNS;
    if args.runs < 10 || args.runs > max {
        return Err(Error::Usage(format!(
            "--runs must be between 10 and {max}, got {}",
            args.runs
        )));
    }
    let settings = args.streams.settings(args.runs, model, false)?;
    let settings_count = 1 + 2 * model.inputs().len() as u64;
    let progress = Progress::new(
        args.runs * settings_count,
        !args.quiet && std::io::stderr().is_terminal(),
    );
    let result = engine::with_threads(settings.threads, || {
        crate::sensitivity::analyse(model, &scenario.id, &settings, &|n| progress.advance(n))
    })??;
    progress.finish();

    let mut files = Vec::new();
    if let Some(path) = args.json {
        files.push((path, output::sensitivity::json(&result)?));
    }
    if let Some(path) = args.csv {
        files.push((path, output::sensitivity::csv(&result)));
    }
    if let Some(path) = args.html {
        files.push((path, output::sensitivity::html(&result).into_bytes()));
    }
    output::write_all_or_nothing(files)?;
    if !args.quiet {
        print_stdout(&output::sensitivity::table(&result))?;
    }
    Ok(())
}

fn report(args: ReportArgs) -> Result<(), Error> {
    let report = Report::read(&args.results)?;
    let sensitivity: Option<crate::sensitivity::Sensitivity> = match &args.sensitivity {
        Some(path) => Some(crate::report::read_json(
            path,
            "a sensitivity analysis (the JSON written by `carecast sensitivity --json`)",
        )?),
        None => None,
    };
    if let Some(s) = &sensitivity {
        if args.files.html.is_none() {
            return Err(Error::Usage(
                "--sensitivity adds the tornado to the HTML report: give --html FILE too".into(),
            ));
        }
        if s.name != report.name {
            return Err(Error::Usage(format!(
                "the sensitivity analysis is of {:?} but the results are of {:?}",
                s.name, report.name
            )));
        }
    }
    output::write_all_or_nothing(render_reports(&report, args.files, sensitivity.as_ref())?)?;
    if !args.quiet {
        print_stdout(&output::table::render(&report))?;
    }
    Ok(())
}

/// Renders the reports asked for, in memory, ready to be written together.
fn render_reports(
    report: &Report,
    files: ReportFiles,
    sensitivity: Option<&crate::sensitivity::Sensitivity>,
) -> Result<Vec<(PathBuf, Vec<u8>)>, Error> {
    let mut out = Vec::new();
    if let Some(path) = files.html {
        out.push((
            path,
            output::html::render_with(report, sensitivity).into_bytes(),
        ));
    }
    if let Some(path) = files.xlsx {
        let bytes = output::xlsx::render(report).map_err(|e| {
            Error::Runtime(format!("cannot build the workbook {}: {e}", path.display()))
        })?;
        out.push((path, bytes));
    }
    if let Some(path) = files.markdown {
        out.push((path, output::markdown::render(report).into_bytes()));
    }
    Ok(out)
}

fn validate(path: PathBuf) -> Result<(), Error> {
    let config = config::load_config(&path)?;
    let model = &config.scenarios[0].model;
    let uncertain = model.params.iter().filter(|p| !p.dist.is_fixed()).count();
    let years: Vec<&str> = model
        .calendar
        .years
        .iter()
        .map(|y| y.label.as_str())
        .collect();
    let text = format!(
        "{}: valid — {:?}: {} placement type(s), {} age band(s), {} cost line(s), {} uncertain input(s), years {}\n",
        path.display(),
        model.name,
        model.placements.len(),
        if model.ages.tracked {
            model.ages.bands.len()
        } else {
            0
        },
        model.cost_lines.len(),
        uncertain,
        years.join(", ")
    ) + &if config.scenarios.len() > 1 {
        format!(
            "scenarios: {}\n",
            config
                .scenarios
                .iter()
                .map(|s| s.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    };
    print_stdout(&text)
}

/// Prints to stdout; a closed pipe (`carecast run | head`) is not an error.
fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(Error::Runtime(format!(
            "cannot write to standard output: {e}"
        ))),
    }
}
