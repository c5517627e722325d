//! The command line: parse flags, turn them into validated settings, run,
//! write outputs. `main.rs` only calls [`main`] and exits with its status.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::calibrate;
use crate::config::Config;
use crate::config::{self, EXAMPLE, EXAMPLE_ORIGIN};
use crate::engine::{self, Settings};
use crate::error::{Error, one_line, usage_line};
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
pub(crate) struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate a config (every scenario it declares, with common random numbers) and print cost
    /// percentiles per financial year against the budget, and the differences between scenarios.
    Run(RunArgs),
    /// Merge the partial results of shards (`run --shard K/N --partial FILE`) into the outputs one
    /// run of all the runs gives, byte for byte; prints the table unless --quiet.
    Merge(MergeArgs),
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
    /// Estimate entries, exits, moves and the stock by age from SSDA903 returns and write a
    /// runnable config (with 95% intervals and counts in its comments).
    Calibrate(CalibrateArgs),
    /// Calibrate on the data before a date, simulate forward and score the forecast against what
    /// the data show after it (coverage of P5–P95 and P25–P75, error, pinball loss).
    Backtest(BacktestArgs),
    /// Print a shell completion script for SHELL on stdout, e.g.
    /// `carecast completions bash > ~/.local/share/bash-completion/completions/carecast`.
    Completions {
        /// The shell: bash, elvish, fish, powershell or zsh.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout, e.g. `carecast man > carecast.1; man ./carecast.1`;
    /// with a subcommand, its own page, e.g. `carecast man run > carecast-run.1`
    Man {
        /// The subcommand whose page to print (run, merge, validate, sensitivity, report,
        /// calibrate, backtest, completions or man); none for the main page.
        subcommand: Option<String>,
    },
}

/// Where the SSDA903 returns are and how to read them.
#[derive(Debug, Args)]
struct DataArgs {
    /// Folder with one sub-folder per collection year (e.g. 2024 for 2023-24), each holding the
    /// header and episodes tables as CSV.
    #[arg(long, value_name = "DIR")]
    ssda903: PathBuf,
    /// The calibration date: the last day of a month as councils date their data (2023-03-31,
    /// 31/03/2023: in care at the end of that day, the horizon starts on 1 April), the first day
    /// of a month (2023-04-01) or a month (2023-04). `backtest` takes several (--at repeated).
    #[arg(long, value_name = "DATE", required = true)]
    at: Vec<String>,
    /// Months of data before the date to estimate from.
    #[arg(long, value_name = "MONTHS", default_value_t = 24)]
    window: usize,
    /// A config whose prices, capacities, budget, strategy and scenarios are kept, and whose
    /// [calibration.mapping] maps placement codes to its placements.
    #[arg(long, value_name = "CONFIG")]
    base: Option<PathBuf>,
    /// Write rates as distributions from their events and exposure, drawn once per run.
    #[arg(long)]
    uncertain: bool,
    /// Project the trend of entries fitted on every year of the returns as it is, without
    /// shrinking it towards no trend [default: shrunk, see docs/calibration.md].
    #[arg(long, conflicts_with = "no_trend")]
    trend: bool,
    /// Project no trend of entries.
    #[arg(long)]
    no_trend: bool,
    /// Keep short breaks (legal status V3, V4) as periods of care.
    #[arg(long)]
    include_respite: bool,
    /// File name of the header table in each year folder [default: the CSV whose name has "header"].
    #[arg(long, value_name = "NAME")]
    header_file: Option<String>,
    /// File name of the episodes table [default: the CSV whose name has "episode"].
    #[arg(long, value_name = "NAME")]
    episodes_file: Option<String>,
}

#[derive(Debug, Args)]
struct CalibrateArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Financial years the written config simulates [default: the base's, else 3].
    #[arg(long, value_name = "N")]
    years: Option<usize>,
    /// Write the config to FILE (the summary then goes to stdout); without it the config goes
    /// to stdout and the summary to stderr.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct BacktestArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Months to forecast and compare.
    #[arg(long, value_name = "MONTHS", default_value_t = 24)]
    horizon: usize,
    /// Simulated futures.
    #[arg(long, value_name = "N", default_value_t = 2000)]
    runs: u64,
    /// Seed of the random streams of the simulated futures; the same data, origin, seed and
    /// runs give the same scores.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Worker threads, 1 to 1024 [default: one per core]. The scores do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// Write the calibrated config, with the observed counts as [history], to FILE
    /// (`carecast run FILE --html …` then draws them on the fan charts).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Write every observed count against its forecast as CSV to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Backtest at origins every N months (6m) or years (1y) from the first --at, while the
    /// data go on after them.
    #[arg(long, value_name = "STEP")]
    every: Option<String>,
    /// Write the backtest's scores as a self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
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
struct MergeArgs {
    /// Partial files written by `carecast run --shard K/N --partial FILE`, in any order: one regular
    /// file for each shard K from 0 to N − 1 of the same N, config, seed, runs and version.
    #[arg(required = true, value_name = "PARTIAL")]
    partials: Vec<PathBuf>,
    /// Write the full results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Write the full results as tidy CSV to FILE.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    #[command(flatten)]
    reports: ReportFiles,
    /// Print nothing on the terminal; only write the files asked for.
    #[arg(long, short)]
    quiet: bool,
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
    /// Worker threads, 1 to 1024 [default: one per core]. Results do not depend on it.
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
}

/// The most worker threads a command may ask for: far more than any
/// machine's cores, and few enough that starting them takes no time.
const MAX_THREADS: usize = 1024;

/// `--threads` must be 1 to [`MAX_THREADS`].
fn check_threads(threads: Option<usize>) -> Result<(), Error> {
    match threads {
        Some(t) if !(1..=MAX_THREADS).contains(&t) => Err(Error::Usage(format!(
            "--threads must be 1 to {MAX_THREADS}, got {t}"
        ))),
        _ => Ok(()),
    }
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
        check_threads(self.threads)?;
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
    /// Simulated futures per setting (free, and each input at P10 and at P90), at least 10.
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
    /// Write the full results as JSON (its keys are described in docs/outputs.md) to FILE.
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
    /// The most runs --precision may take [default: 1,000,000].
    #[arg(long, value_name = "N", requires = "precision")]
    max_runs: Option<u64>,
    /// Run only shard K of N (K from 0 to N − 1): runs ⌊K·R/N⌋ to ⌊(K+1)·R/N⌋ − 1 of the R runs,
    /// with the random streams a single run gives them; write them with --partial for
    /// `carecast merge`.
    #[arg(long, value_name = "K/N", requires = "partial", conflicts_with_all = ["precision", "central", "json", "csv", "html", "xlsx", "markdown"])]
    shard: Option<String>,
    /// Write this shard's partial results (with the config, its hash, the seed and the run range)
    /// to FILE.
    #[arg(long, value_name = "FILE", requires = "shard")]
    partial: Option<PathBuf>,
    /// Measure each initiative's cost avoided (the same runs without it) however many
    /// initiatives a scenario has; without it, only when every scenario has 12 or fewer.
    #[arg(long, conflicts_with = "no_attribution")]
    attribution: bool,
    /// Measure no initiative's cost avoided, however few there are: a scenario is then simulated
    /// once per run instead of once plus once per initiative (for runs kept for the tails).
    #[arg(long)]
    no_attribution: bool,
    /// Print nothing on the terminal (no table, no progress bar); only write the files asked for.
    #[arg(long, short)]
    quiet: bool,
}

impl RunArgs {
    fn attribution_mode(&self) -> engine::Attribution {
        if self.attribution {
            engine::Attribution::All
        } else if self.no_attribution {
            engine::Attribution::Off
        } else {
            engine::Attribution::Auto
        }
    }
}

/// Runs the command line and returns the process exit status.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Help and the version go to stdout as clap writes them (help that
        // cannot be written, `--help >/dev/full`, is a failure); a usage
        // error is one line on stderr.
        Err(e) if !e.use_stderr() => {
            return match e.print().and_then(|_| std::io::stdout().flush()) {
                Err(failed) if failed.kind() != std::io::ErrorKind::BrokenPipe => {
                    stderr_line!("error: cannot write to standard output: {failed}");
                    1
                }
                _ => e.exit_code(),
            };
        }
        Err(e) => {
            stderr_line!("{}", usage_line(&e));
            return e.exit_code();
        }
    };
    let result = match cli.command {
        Command::Run(args) => run(args),
        Command::Merge(args) => merge(args),
        Command::Validate { config } => validate(config),
        Command::Report(args) => report(args),
        Command::Sensitivity(args) => sensitivity(args),
        Command::Calibrate(args) => calibrate(args),
        Command::Backtest(args) => backtest(args),
        Command::Completions { shell } => completions(shell),
        Command::Man { subcommand } => man(subcommand.as_deref()),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            stderr_line!("error: {}", one_line(&e.to_string()));
            e.exit_code()
        }
    }
}

/// The completion script for `shell`, generated from the command's definition.
fn completions(shell: clap_complete::Shell) -> Result<(), Error> {
    let mut out = Vec::new();
    clap_complete::generate(
        shell,
        &mut <Cli as clap::CommandFactory>::command(),
        "carecast",
        &mut out,
    );
    print_stdout(&String::from_utf8_lossy(&out))
}

/// The man page, generated from the command's definition: the main page,
/// which lists the subcommands as `carecast-run(1)` and so on, or one of
/// those subcommands' own pages.
fn man(subcommand: Option<&str>) -> Result<(), Error> {
    let mut cmd = <Cli as clap::CommandFactory>::command().disable_help_subcommand(true);
    // Built, each subcommand is named as its page is (`carecast-run`).
    cmd.build();
    let page = match subcommand {
        None => cmd,
        Some(name) => cmd
            .get_subcommands()
            .find(|c| c.get_name() == name)
            .cloned()
            .ok_or_else(|| {
                let names: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
                Error::Usage(format!(
                    "carecast man: there is no subcommand {name:?}; the pages are of {}",
                    names.join(", ")
                ))
            })?,
    };
    let mut out = Vec::new();
    clap_mangen::Man::new(page)
        .render(&mut out)
        .map_err(|e| Error::Runtime(format!("cannot render the man page: {e}")))?;
    print_stdout(&String::from_utf8_lossy(&out))
}

/// Whether a command asked to be quiet and to write no file would do
/// nothing a person could see; if so, says so on stderr, naming the
/// command's own output flags. `outputs` pairs each flag with whether it
/// was given.
fn nothing_to_do(quiet: bool, outputs: &[(&str, bool)]) -> bool {
    let nothing = quiet && !outputs.iter().any(|&(_, given)| given);
    if nothing {
        let flags: Vec<&str> = outputs.iter().map(|&(flag, _)| flag).collect();
        let listed = match flags.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => flags.join(""),
        };
        stderr_line!(
            "warning: --quiet with no output file: nothing would be written or shown, so nothing \
             was run (drop --quiet, or add {listed} FILE)"
        );
    }
    nothing
}

fn load(path: Option<&PathBuf>) -> Result<Config, Error> {
    Ok(match path {
        Some(p) => config::load_config(p)?,
        None => config::parse_config(EXAMPLE, EXAMPLE_ORIGIN)?,
    })
}

fn run(args: RunArgs) -> Result<(), Error> {
    let to_stdout = output::write::check_outputs(
        &[
            &args.json,
            &args.csv,
            &args.reports.html,
            &args.reports.xlsx,
            &args.reports.markdown,
            &args.partial,
        ],
        &[args.config.as_ref()],
    )?;
    let shard = args
        .shard
        .as_deref()
        .map(crate::partial::parse_shard)
        .transpose()?;
    let config = load(args.config.as_ref())?;
    if nothing_to_do(
        args.quiet,
        &[
            ("--json", args.json.is_some()),
            ("--csv", args.csv.is_some()),
            ("--html", args.reports.html.is_some()),
            ("--xlsx", args.reports.xlsx.is_some()),
            ("--markdown", args.reports.markdown.is_some()),
            ("--partial", args.partial.is_some()),
        ],
    ) {
        return Ok(());
    }
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
        None => precision::DEFAULT_MAX_RUNS.max(args.runs.unwrap_or(1)),
    };
    let settings = args.streams.settings(runs, model, args.central)?;
    let show_progress = !args.quiet && !settings.central && std::io::stderr().is_terminal();
    let scenarios = config.scenarios.len() as u64;
    // The runs of this command: a shard's range, or all of them.
    let range = match shard {
        Some((k, n)) => crate::partial::shard_range(k, n, runs),
        None => 0..runs,
    };
    let per_scenario = if settings.central {
        1
    } else {
        range.end - range.start
    };
    // One bar over every scenario's runs: the scenarios of a block of runs
    // are simulated together.
    let progress = Progress::new(
        per_scenario * scenarios,
        crate::progress::made_of(scenarios, "scenario", per_scenario),
        show_progress,
    );

    // Every scenario runs with the same seed: run i of each draws the same
    // random numbers for the same purposes (common random numbers).
    if let (Some((k, n)), Some(path)) = (shard, &args.partial) {
        let results = engine::with_threads(settings.threads, || {
            let plan = crate::results::Plan::with_attribution(&config, args.attribution_mode());
            engine::tally(&config, &plan, settings.seed, range.clone(), &|n| {
                progress.advance(n)
            })
        })??;
        progress.finish();
        let header = crate::partial::Header {
            carecast_version: env!("CARGO_PKG_VERSION").to_string(),
            seed: settings.seed,
            runs,
            shard: [k, n],
            from: range.start,
            to: range.end,
            config_sha256: crate::partial::sha256_hex(config.text.as_bytes()),
            config_origin: args
                .config
                .as_ref()
                .map_or(EXAMPLE_ORIGIN.to_string(), |p| p.display().to_string()),
            config: config.text.clone(),
            attribution: args.attribution,
            no_attribution: args.no_attribution,
        };
        let bytes = crate::partial::write(&header, &results)?;
        output::write_all_or_nothing(vec![(path.clone(), bytes)])?;
        if !args.quiet {
            if range.is_empty() {
                stderr_line!(
                    "shard {k}/{n}: no runs ({runs} runs split {n} ways leave this shard empty), \
                     written to {}",
                    path.display()
                );
            } else {
                stderr_line!(
                    "shard {k}/{n}: runs {} to {} of {runs} written to {}",
                    range.start,
                    range.end - 1,
                    path.display()
                );
            }
        }
        return Ok(());
    }
    let report = engine::with_threads(settings.threads, || -> Result<Report, Error> {
        let plan = crate::results::Plan::with_attribution(&config, args.attribution_mode());
        let Some(target) = &target else {
            let results = if settings.central {
                engine::tally_central(&config, &plan)
            } else {
                engine::tally(&config, &plan, settings.seed, 0..runs, &|n| {
                    progress.advance(n)
                })?
            };
            progress.finish();
            if settings.central && !args.quiet {
                approximate_note(&config, &results);
            }
            return Ok(Report::of_results(&config, &plan, &results, &settings));
        };
        let (plan, results, outcome) = precision::run(
            &config,
            plan,
            settings.seed,
            target,
            runs,
            max_runs,
            &|n, total| {
                progress.set_total(
                    total * scenarios,
                    crate::progress::made_of(scenarios, "scenario", total),
                );
                progress.advance(n);
            },
        )?;
        let settings = Settings {
            runs: outcome.runs,
            ..settings.clone()
        };
        let mut report = Report::of_results(&config, &plan, &results, &settings);
        report.precision = Some(outcome);
        Ok(report)
    })??;

    write_outputs(
        &report,
        args.json,
        args.csv,
        args.reports,
        args.quiet || to_stdout,
    )
}

/// Writes a report's JSON, CSV and reports whole or not at all, then its
/// table to the terminal unless `no_table`.
fn write_outputs(
    report: &Report,
    json: Option<PathBuf>,
    csv: Option<PathBuf>,
    reports: ReportFiles,
    no_table: bool,
) -> Result<(), Error> {
    let mut files = Vec::new();
    if let Some(path) = json {
        files.push((path, output::json::render(report)?));
    }
    if let Some(path) = csv {
        files.push((path, output::csv::render(report)));
    }
    files.extend(render_reports(report, reports, None)?);
    output::write_all_or_nothing(files)?;
    if !no_table {
        print_stdout(&output::table::render(report))?;
    }
    Ok(())
}

fn merge(args: MergeArgs) -> Result<(), Error> {
    let inputs: Vec<Option<&PathBuf>> = args.partials.iter().map(Some).collect();
    let to_stdout = output::write::check_outputs(
        &[
            &args.json,
            &args.csv,
            &args.reports.html,
            &args.reports.xlsx,
            &args.reports.markdown,
        ],
        &inputs,
    )?;
    // The parts are read and checked first, so that a missing, mismatched
    // or damaged part is an error even when nothing is to be written.
    let merged = crate::partial::merge(&args.partials)?;
    if nothing_to_do(
        args.quiet,
        &[
            ("--json", args.json.is_some()),
            ("--csv", args.csv.is_some()),
            ("--html", args.reports.html.is_some()),
            ("--xlsx", args.reports.xlsx.is_some()),
            ("--markdown", args.reports.markdown.is_some()),
        ],
    ) {
        return Ok(());
    }
    let settings = Settings {
        runs: merged.runs,
        seed: merged.seed,
        threads: None,
        central: false,
    };
    let report = Report::of_results(&merged.config, &merged.plan, &merged.results, &settings);
    write_outputs(
        &report,
        args.json,
        args.csv,
        args.reports,
        args.quiet || to_stdout,
    )
}

fn sensitivity(args: SensitivityArgs) -> Result<(), Error> {
    let to_stdout = output::write::check_outputs(
        &[&args.json, &args.csv, &args.html],
        &[args.config.as_ref()],
    )?;
    let config = load(args.config.as_ref())?;
    if nothing_to_do(
        args.quiet,
        &[
            ("--json", args.json.is_some()),
            ("--csv", args.csv.is_some()),
            ("--html", args.html.is_some()),
        ],
    ) {
        return Ok(());
    }
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
        crate::progress::made_of(settings_count, "setting", args.runs),
        !args.quiet && std::io::stderr().is_terminal(),
    );
    let result = engine::with_threads(settings.threads, || {
        crate::sensitivity::analyse(model, &scenario.id, &settings, &|n| progress.advance(n))
    })??;
    progress.finish();

    // Inputs are named by the labels of the ids in their paths.
    let labels: output::sensitivity::Labels = model
        .placements
        .iter()
        .map(|p| (p.id.clone(), p.label.clone()))
        .chain(
            model
                .cost_lines
                .iter()
                .map(|l| (l.id.clone(), l.label.clone())),
        )
        .chain(
            model
                .strategy
                .interventions
                .iter()
                .map(|iv| (iv.id.clone(), iv.label.clone())),
        )
        .chain(
            model
                .strategy
                .savings
                .iter()
                .map(|sv| (sv.id.clone(), sv.label.clone())),
        )
        .chain(
            model
                .strategy
                .shocks
                .iter()
                .map(|sh| (sh.id.clone(), sh.label.clone())),
        )
        .collect();
    let mut files = Vec::new();
    if let Some(path) = args.json {
        files.push((path, output::sensitivity::json(&result)?));
    }
    if let Some(path) = args.csv {
        files.push((path, output::sensitivity::csv(&result)));
    }
    if let Some(path) = args.html {
        files.push((
            path,
            output::sensitivity::html_with(&result, &labels).into_bytes(),
        ));
    }
    output::write_all_or_nothing(files)?;
    if !args.quiet && !to_stdout {
        print_stdout(&output::sensitivity::table_with(&result, &labels))?;
    }
    Ok(())
}

fn report(args: ReportArgs) -> Result<(), Error> {
    let to_stdout = output::write::check_outputs(
        &[&args.files.html, &args.files.xlsx, &args.files.markdown],
        &[Some(&args.results), args.sensitivity.as_ref()],
    )?;
    let report = Report::read(&args.results)?;
    if nothing_to_do(
        args.quiet,
        &[
            ("--html", args.files.html.is_some()),
            ("--xlsx", args.files.xlsx.is_some()),
            ("--markdown", args.files.markdown.is_some()),
        ],
    ) {
        return Ok(());
    }
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
                "--sensitivity {}: the sensitivity analysis is of {:?} but the results {} are of {:?}",
                args.sensitivity
                    .as_deref()
                    .unwrap_or(std::path::Path::new(""))
                    .display(),
                s.name,
                args.results.display(),
                report.name
            )));
        }
        let shown = args
            .sensitivity
            .as_deref()
            .unwrap_or(std::path::Path::new(""))
            .display();
        let Some(sc) = report.scenarios.iter().find(|sc| sc.id == s.scenario) else {
            let ids: Vec<&str> = report.scenarios.iter().map(|sc| sc.id.as_str()).collect();
            return Err(Error::Usage(format!(
                "--sensitivity {shown}: the sensitivity analysis is of scenario {:?}, which the \
                 results {} do not have (they have {})",
                s.scenario,
                args.results.display(),
                ids.join(", ")
            )));
        };
        let years = |fys: Vec<&str>| fys.join(", ");
        let theirs = years(s.base.years.iter().map(|y| y.fy.as_str()).collect());
        let ours = years(sc.years.iter().map(|y| y.fy.as_str()).collect());
        if theirs != ours {
            return Err(Error::Usage(format!(
                "--sensitivity {shown}: the sensitivity analysis covers the years {theirs} but \
                 scenario {:?} of the results {} covers {ours}",
                s.scenario,
                args.results.display()
            )));
        }
    }
    output::write_all_or_nothing(render_reports(&report, args.files, sensitivity.as_ref())?)?;
    if !args.quiet && !to_stdout {
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

/// Reads the returns and the base, and checks the flags shared by
/// `calibrate` and `backtest`.
fn prepare(
    args: &DataArgs,
    years: Option<usize>,
    same_start: bool,
) -> Result<
    (
        calibrate::Prepared,
        Option<calibrate::BaseConfig>,
        calibrate::Request,
    ),
    Error,
> {
    let at = calibrate::parse_at(&args.at[0])?;
    // The flags first, before the base or the returns are read.
    if !(1..=120).contains(&args.window) {
        return Err(Error::Usage(format!(
            "--window must be 1 to 120 months, got {}",
            args.window
        )));
    }
    let check_years = |years: usize| {
        if (1..=50).contains(&years) {
            Ok(years)
        } else {
            Err(Error::Usage(format!(
                "--years must be 1 to 50, got {years}"
            )))
        }
    };
    if let Some(years) = years {
        check_years(years)?;
    }
    let base = args.base.as_deref().map(calibrate::load_base).transpose()?;
    // `calibrate` writes the base's amounts by year into a horizon starting
    // at `at`: they must be the same years (a backtest's origins differ
    // from the base's start by design).
    if same_start && let Some(b) = &base {
        calibrate::check_base_start(b, at)?;
    }
    let years = check_years(years.unwrap_or(base.as_ref().map_or(3, |b| b.years)))?;
    let options = calibrate::ssda903::ReadOptions {
        files: calibrate::ssda903::FileNames {
            header: args.header_file.clone(),
            episodes: args.episodes_file.clone(),
        },
        include_respite: args.include_respite,
    };
    let data = calibrate::ssda903::read_dir(&args.ssda903, &options)?;
    report_problems(&data.problems);
    for w in data.warnings.iter().take(100) {
        stderr_line!("warning: {}", one_line(w));
    }
    if data.warnings.len() > 100 {
        stderr_line!("warning: … and {} more", data.warnings.len() - 100);
    }
    let prep = calibrate::prepare(data, base.as_ref())?;
    let request = calibrate::Request {
        at,
        window: args.window,
        years,
        uncertain: args.uncertain,
        trend: match (args.trend, args.no_trend) {
            (true, _) => calibrate::write::TrendUse::Raw,
            (_, true) => calibrate::write::TrendUse::Off,
            _ => calibrate::write::TrendUse::Shrunk,
        },
    };
    Ok((prep, base, request))
}

/// Prints the rows skipped, at most a hundred, on stderr.
fn report_problems(problems: &[calibrate::ssda903::Problem]) {
    const SHOWN: usize = 100;
    for p in problems.iter().take(SHOWN) {
        stderr_line!(
            "skipped: {}:{}: {}",
            p.file.display(),
            p.row,
            one_line(&p.reason)
        );
    }
    if problems.len() > SHOWN {
        stderr_line!("skipped: … and {} more rows", problems.len() - SHOWN);
    }
}

fn calibrate(mut args: CalibrateArgs) -> Result<(), Error> {
    if args.data.at.len() > 1 {
        return Err(Error::Usage(
            "calibrate takes one --at; `carecast backtest` takes several".into(),
        ));
    }
    output::write::check_outputs(
        &[&args.out],
        &[Some(&args.data.ssda903), args.data.base.as_ref()],
    )?;
    // `--out -` is standard output, where the config goes without --out.
    if args.out.as_deref().is_some_and(output::write::is_stdout) {
        args.out = None;
    }
    let (prep, base, request) = prepare(&args.data, args.years, true)?;
    let (estimates, text) =
        calibrate::calibrate_prepared(&prep, base.as_ref(), &request, Vec::new(), None)?;
    let summary = calibrate::summary(&prep, &estimates);
    match args.out {
        Some(path) => {
            output::write_all_or_nothing(vec![(path.clone(), text.into_bytes())])?;
            print_stdout(&format!("{summary}Config written to {}\n", path.display()))
        }
        None => {
            crate::error::write_stderr(&summary);
            print_stdout(&text)
        }
    }
}

fn backtest(args: BacktestArgs) -> Result<(), Error> {
    if args.runs == 0 || args.runs > crate::config::validate::MAX_RUNS {
        return Err(Error::Usage(format!(
            "--runs must be between 1 and {}, got {}",
            crate::config::validate::MAX_RUNS,
            args.runs
        )));
    }
    if !(1..=240).contains(&args.horizon) {
        return Err(Error::Usage(format!(
            "--horizon must be 1 to 240 months, got {}",
            args.horizon
        )));
    }
    check_threads(args.threads)?;
    let to_stdout = output::write::check_outputs(
        &[&args.out, &args.csv, &args.html],
        &[Some(&args.data.ssda903), args.data.base.as_ref()],
    )?;
    // Every flag is checked before any data are read.
    let mut origins = crate::backtest::parse_origins(&args.data.at)?;
    let step = match &args.every {
        Some(_) if origins.len() > 1 => {
            return Err(Error::Usage(
                "--every steps from one --at; give one, or several --at without --every".into(),
            ));
        }
        Some(every) => Some(crate::backtest::parse_every(every)?),
        None => None,
    };
    let (prep, base, request) = prepare(&args.data, None, false)?;
    if let Some(step) = step {
        let last = prep.data.last_day().unwrap_or(request.at);
        origins = crate::backtest::origins_every(request.at, step, last);
        if origins.is_empty() {
            return Err(Error::Usage(format!(
                "{}: the returns end on {last}, before the first month after --at",
                prep.data.folder.display()
            )));
        }
    }
    let settings = Settings {
        runs: args.runs,
        seed: args.seed,
        threads: args.threads,
        central: false,
    };
    let rolling = crate::backtest::rolling(
        &prep,
        base.as_ref(),
        &request,
        &origins,
        args.horizon,
        &settings,
    )?;
    let mut files = Vec::new();
    if let Some(path) = args.out {
        // The config of the last origin, with its history.
        if let Some((_, last)) = rolling.origins.last() {
            files.push((path, last.config_text.clone().into_bytes()));
        }
    }
    if let Some(path) = args.csv {
        // The same columns whatever the number of origins.
        let text = crate::backtest::rolling_csv(&rolling);
        files.push((path, text.into_bytes()));
    }
    if let Some(path) = args.html {
        files.push((
            path,
            output::backtest_html::page(&rolling, args.runs, args.seed).into_bytes(),
        ));
    }
    output::write_all_or_nothing(files)?;
    let mut text = String::new();
    for (at, b) in &rolling.origins {
        text.push_str(&format!(
            "Backtest at {at}: calibrated on the {} months before, {} months compared ({} runs, seed {}{})\n",
            calibrate::window_months(&prep.data, *at, request.window)?,
            b.months,
            args.runs,
            args.seed,
            if request.uncertain {
                ", rates uncertain"
            } else {
                ", rates fixed at their estimates"
            },
        ));
    }
    if rolling.origins.len() == 1 {
        let b = &rolling.origins[0].1;
        text.push_str(&output::table::score_table(b.all.iter().chain(&b.series)));
        if let Some(crps) = b.all.as_ref().and_then(|s| s.crps) {
            text.push_str(&format!("CRPS over all points: {crps:.2} children\n"));
        }
    } else {
        text.push_str(&crate::backtest::rolling_table(&rolling));
    }
    if to_stdout {
        return Ok(());
    }
    print_stdout(&text)
}

fn validate(path: PathBuf) -> Result<(), Error> {
    let config = config::load_config(&path)?;
    let model = &config.scenarios[0].model;
    // The inputs `carecast sensitivity` would hold: each scenario's own, as
    // scenarios may disable programmes or fix inputs.
    let uncertain = |m: &crate::model::Model| m.inputs().len();
    let years: Vec<&str> = model
        .calendar
        .years
        .iter()
        .map(|y| y.label.as_str())
        .collect();
    let text = format!(
        "{}: valid — {:?}\n{} placement type(s), {}, {} cost line(s), {}years {}\n",
        path.display(),
        model.name,
        model.placements.len(),
        if model.ages.tracked {
            format!("{} age band(s)", model.ages.bands.len())
        } else {
            "1 age band (all ages, none declared)".to_string()
        },
        model.cost_lines.len(),
        if config.scenarios.len() > 1 {
            String::new()
        } else {
            format!("{} uncertain input(s), ", uncertain(model))
        },
        years.join(", ")
    ) + &if config.scenarios.len() > 1 {
        format!(
            "scenarios (uncertain inputs): {}\n",
            config
                .scenarios
                .iter()
                .map(|s| format!("{}({})", s.id, uncertain(&s.model)))
                .collect::<Vec<_>>()
                .join(", ")
        )
    } else {
        String::new()
    } + &cohorts_text(model);
    // Within the terminal's 100 columns, like every table carecast prints.
    let text = crate::output::table::wrap(text.trim_end(), 100) + &stays_text(model);
    print_stdout(&text)
}

/// Each cohort: its children at the start, its mean entrants a year and its
/// exit factor (inputs at their means).
fn cohorts_text(model: &crate::model::Model) -> String {
    let mut text = String::new();
    for c in &model.cohorts {
        let initial: f64 = c
            .initial
            .iter()
            .flat_map(|(_, groups)| groups.iter().map(|(_, n)| n))
            .sum::<f64>()
            // (An empty sum of floats is −0.)
            + 0.0;
        let entrants = c
            .entries
            .as_ref()
            .map_or(0.0, |e| model.param(e.per_year).dist.mean());
        text += &format!(
            "cohort {} ({}): {initial} at the start, {entrants:.1} entrants a year, exit factor {:.2} (means)\n",
            c.id,
            c.label,
            model.param(c.exit_factor).dist.mean()
        );
    }
    text
}

/// Says which central paths are approximations: where a capacity or a
/// programme's limit binds, the mean of random runs differs from them.
fn approximate_note(config: &Config, results: &crate::results::Results) {
    let bound: Vec<&str> = config
        .scenarios
        .iter()
        .zip(&results.scenarios)
        .filter(|(_, r)| r.approximate)
        .map(|(s, _)| s.id.as_str())
        .collect();
    if !bound.is_empty() {
        stderr_line!(
            "note: in {} a capacity or programme limit comes within reach, so the central path approximates the model's expected path (random runs follow the model exactly)",
            bound.join(", ")
        );
    }
}

/// Each placement's implied mean and median stay by age band.
fn stays_text(model: &crate::model::Model) -> String {
    let stays = crate::model::hazard::implied_stays(model);
    let months = |m: f64| {
        if m.is_finite() {
            format!("{m:.1}")
        } else {
            "∞".to_string()
        }
    };
    let mut text = String::from(
        "implied stay in months, mean / median, from exit rates alone\n(inputs at their means; moves and 18th birthdays not counted):\n",
    );
    for (p, placement) in model.placements.iter().enumerate() {
        let parts: Vec<String> = model
            .ages
            .bands
            .iter()
            .zip(&stays[p])
            .map(|(band, &(mean, median))| {
                if model.ages.tracked {
                    format!("{} {} / {}", band.id, months(mean), months(median))
                } else {
                    format!("{} / {}", months(mean), months(median))
                }
            })
            .collect();
        text += &format!("  {}: {}\n", placement.id, parts.join(", "));
    }
    if stays.iter().flatten().any(|(mean, _)| mean.is_infinite()) {
        text += "  (∞: some stays never end, their exit rate being 0 from some time in care on)\n";
    }
    text
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
