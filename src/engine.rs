//! Runs the model many times in parallel, reproducibly.
//!
//! Run `i` always draws from the streams keyed by `(seed, i, purpose)`, so
//! its results do not depend on how many threads there are or which thread
//! ran it. [`tally`] simulates runs in blocks of [`BLOCK`] (every scenario of
//! a block together, so that differences between scenarios are taken run by
//! run) and folds each run's rows into mergeable results
//! ([`crate::results`]) whose value depends only on which runs were added:
//! memory does not grow with the runs, and a single run, any number of
//! threads and any split into shards give the same bits.
//!
//! [`run`] keeps every run's row instead (memory grows with the runs): the
//! tests of the model read runs one by one through it.

use rayon::prelude::*;

use crate::error::Error;
use crate::model::Model;
use crate::model::draws::Random;
use crate::model::inputs::Pin;
use crate::model::layout::{Layout, YearField};
use crate::model::simulate::{Shared, Workspace, simulate};
use crate::results::{Plan, Results};

/// Runs handed to a worker at a time: large enough to amortise scheduling,
/// small enough to keep both cores busy and the progress bar moving.
const CHUNK: usize = 64;

/// Runs simulated together by a worker: a block's rows, for every
/// scenario, are the only per-run memory.
pub const BLOCK: u64 = 64;

/// Simulates runs `runs` (a range of run indices) of every scenario of
/// `config` and tallies them as `plan` says, on the current rayon pool.
/// `progress` hears of runs finished (counted once per scenario).
pub fn tally(
    config: &crate::config::Config,
    plan: &Plan,
    seed: u64,
    runs: std::ops::Range<u64>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Results, Error> {
    if runs.is_empty() {
        return Ok(plan.empty());
    }
    let models: Vec<&Model> = config.scenarios.iter().map(|s| &s.model).collect();
    let first = runs.start / BLOCK;
    let last = (runs.end - 1) / BLOCK;
    // Several jobs a thread balance the load; one thread needs one job (each
    // job's summaries are merged at the end, which costs time but changes
    // nothing: a merge is exact).
    let threads = rayon::current_num_threads().max(1) as u64;
    let jobs = if threads == 1 { 1 } else { threads * 4 };
    let per_job = ((last - first + 1).div_ceil(jobs)).max(1) as usize;
    let blocks = usize::try_from(first).map_err(|_| Error::Usage("too many runs".into()))?
        ..usize::try_from(last + 1).map_err(|_| Error::Usage("too many runs".into()))?;
    let results = blocks
        .into_par_iter()
        .with_min_len(per_job)
        .fold(
            || Worker::new(&models, plan, seed),
            |mut worker, block| {
                let block = block as u64;
                let from = (block * BLOCK).max(runs.start);
                let to = ((block + 1) * BLOCK).min(runs.end);
                worker.block(&models, plan, from..to);
                progress((to - from) * models.len() as u64);
                worker
            },
        )
        .map(|w| w.results)
        // (Without an empty start: one job's results need no merge.)
        .reduce_with(|mut a, b| {
            a.absorb(b);
            a
        });
    let mut results = results.unwrap_or_else(|| plan.empty());
    results.normalize();
    Ok(results)
}

/// The central projection of every scenario, as results of one run.
pub fn tally_central(config: &crate::config::Config, plan: &Plan) -> Results {
    let mut results = plan.empty();
    let rows: Vec<(Vec<f64>, bool, Vec<f64>)> = config
        .scenarios
        .par_iter()
        .zip(&plan.scenarios)
        .map(|(s, p)| {
            let c = crate::model::central::project(&s.model, &p.layout);
            let shadow = p
                .initiatives
                .iter()
                .flat_map(|ip| {
                    let w = crate::model::central::project(&ip.model, &ip.layout);
                    (0..ip.layout.years)
                        .map(|fy| w.row[ip.layout.year(fy, YearField::Cost)])
                        .collect::<Vec<_>>()
                })
                .collect();
            (c.row, c.approximate, shadow)
        })
        .collect();
    let refs: Vec<&[f64]> = rows.iter().map(|(r, _, _)| r.as_slice()).collect();
    let shadows: Vec<&[f64]> = rows.iter().map(|(_, _, s)| s.as_slice()).collect();
    plan.add(&mut results, &refs, &shadows);
    for (res, (_, approximate, _)) in results.scenarios.iter_mut().zip(&rows) {
        res.approximate = *approximate;
    }
    results.normalize();
    results
}

/// A worker's scratch state and its share of the results.
struct Worker {
    workspaces: Vec<Workspace>,
    draws: Vec<Random>,
    rows: Vec<Vec<f64>>,
    /// For each scenario, each measured initiative's scratch state, draws
    /// and one row of the scenario without it.
    without: Vec<Vec<(Workspace, Random, Vec<f64>)>>,
    /// For each scenario, the block's net costs without each initiative
    /// (run by run, `shadow_width` each).
    shadows: Vec<Vec<f64>>,
    results: Results,
    /// The entrants and initial stock of the run last simulated.
    shared: Shared,
}

impl Worker {
    fn new(models: &[&Model], plan: &Plan, seed: u64) -> Worker {
        let mut worker = Worker {
            workspaces: models.iter().map(|m| Workspace::new(m)).collect(),
            draws: models.iter().map(|_| Random::new(seed, 0)).collect(),
            rows: plan
                .scenarios
                .iter()
                .map(|s| vec![0.0; s.layout.width() * BLOCK as usize])
                .collect(),
            without: plan
                .scenarios
                .iter()
                .map(|s| {
                    s.initiatives
                        .iter()
                        .map(|ip| {
                            (
                                Workspace::new(&ip.model),
                                Random::new(seed, 0),
                                vec![0.0; ip.layout.width()],
                            )
                        })
                        .collect()
                })
                .collect(),
            shadows: plan
                .scenarios
                .iter()
                .map(|s| vec![0.0; s.shadow_width() * BLOCK as usize])
                .collect(),
            results: plan.empty(),
            // Sharing pays only where a run is simulated more than once.
            shared: Shared::new(
                plan.scenarios
                    .iter()
                    .map(|s| 1 + s.initiatives.iter().filter(|i| !i.priced_only).count())
                    .sum::<usize>()
                    > 1,
            ),
        };
        if let Some((first, rest)) = worker.workspaces.split_first_mut() {
            let without = worker.without.iter_mut().flatten().map(|(w, _, _)| w);
            for w in rest.iter_mut().chain(without) {
                w.share_ageing(first);
            }
        }
        worker
    }

    fn block(&mut self, models: &[&Model], plan: &Plan, runs: std::ops::Range<u64>) {
        // Run by run, so that every simulation of a run (each scenario, and
        // each scenario without each initiative) follows the first and can
        // copy the entrants and initial stock it shares with it.
        for (i, run) in runs.clone().enumerate() {
            for (s, model) in models.iter().enumerate() {
                let sp = &plan.scenarios[s];
                let (width, sw) = (sp.layout.width(), sp.shadow_width());
                self.draws[s].restart(run);
                simulate(
                    model,
                    &sp.layout,
                    &mut self.draws[s],
                    &mut self.workspaces[s],
                    &mut self.shared,
                    &mut self.rows[s][i * width..(i + 1) * width],
                );
                for (k, (ip, (workspace, draws, row))) in
                    sp.initiatives.iter().zip(&mut self.without[s]).enumerate()
                {
                    draws.restart(run);
                    if ip.priced_only {
                        // An initiative that changes no child: this run's
                        // placement-days priced without it.
                        workspace.price(
                            &ip.model,
                            &ip.layout,
                            draws,
                            &self.workspaces[s],
                            &mut self.shared,
                            row,
                        );
                    } else {
                        // Otherwise the run is simulated again without it:
                        // only its net cost by year is kept.
                        simulate(
                            &ip.model,
                            &ip.layout,
                            draws,
                            workspace,
                            &mut self.shared,
                            row,
                        );
                    }
                    keep_cost(&mut self.shadows[s][i * sw..], k, &ip.layout, row);
                }
            }
        }
        let refs: Vec<&[f64]> = self.rows.iter().map(|r| r.as_slice()).collect();
        let shadows: Vec<&[f64]> = self.shadows.iter().map(|r| r.as_slice()).collect();
        let n = (runs.end - runs.start) as usize;
        plan.add_block(&mut self.results, &refs, &shadows, n);
    }
}

/// Keeps the net cost by year of a run without initiative `k` (`row`, laid
/// out by `layout`) in that run's shadow (`k × years + fy`).
fn keep_cost(shadow: &mut [f64], k: usize, layout: &Layout, row: &[f64]) {
    let years = layout.years;
    for fy in 0..years {
        shadow[k * years + fy] = row[layout.year(fy, YearField::Cost)];
    }
}

/// How to run a model.
#[derive(Clone, Debug)]
pub struct Settings {
    pub runs: u64,
    pub seed: u64,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    /// One expected-value projection instead of random runs.
    pub central: bool,
}

/// The per-run results of one scenario: `runs` rows of `layout.width()` values.
#[derive(Clone, Debug)]
pub struct ScenarioRuns {
    pub id: String,
    pub layout: Layout,
    pub data: Vec<f64>,
    /// For the central projection: true when a capacity or programme limit
    /// bound, so that the path approximates the model's expectation.
    pub approximate: bool,
    /// The same runs without each initiative (see [`attribute`]), when
    /// cost avoided is measured.
    pub shadows: Vec<Shadow>,
}

/// The runs of a scenario without one initiative: for each run, in run
/// order, the net cost charged to the council's budget in each financial
/// year (`runs × years` values).
#[derive(Clone, Debug)]
pub struct Shadow {
    /// The initiative's index in the scenario model's initiatives.
    pub initiative: usize,
    pub cost: Vec<f64>,
}

impl ScenarioRuns {
    /// Column `col` across all runs, in run order.
    pub fn column(&self, col: usize) -> Vec<f64> {
        let w = self.layout.width();
        self.data.iter().skip(col).step_by(w).copied().collect()
    }

    pub fn runs(&self) -> usize {
        self.data.len() / self.layout.width().max(1)
    }
}

/// Simulates `model` under `settings` on the current rayon pool (see
/// [`with_threads`]), calling `progress` with the number of
/// runs just finished (from any thread).
pub fn run(
    model: &Model,
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ScenarioRuns, Error> {
    run_pinned(model, settings, None, progress)
}

/// [`run`] with one input held at a value in every run (see
/// [`crate::model::inputs`]); every other draw is that of the free run.
pub fn run_pinned(
    model: &Model,
    settings: &Settings,
    pin: Option<Pin>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<ScenarioRuns, Error> {
    let layout = Layout::new(model);
    if settings.central {
        let central = crate::model::central::project(model, &layout);
        progress(1);
        return Ok(ScenarioRuns {
            id: "base".into(),
            layout,
            data: central.row,
            approximate: central.approximate,
            shadows: Vec::new(),
        });
    }
    let mut results = ScenarioRuns {
        id: "base".into(),
        layout,
        data: Vec::new(),
        approximate: false,
        shadows: Vec::new(),
    };
    append(
        model,
        settings.seed,
        pin,
        &mut results,
        settings.runs,
        progress,
    )?;
    Ok(results)
}

/// Appends runs to `results` until it holds `to` runs: runs
/// `[results.runs(), to)` are simulated, the earlier ones are kept as they
/// are. Since run i depends only on `(seed, i)`, the rows are exactly those a
/// single `run` of `to` runs would give, whatever the batches and threads.
pub fn extend(
    model: &Model,
    seed: u64,
    results: &mut ScenarioRuns,
    to: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), Error> {
    append(model, seed, None, results, to, progress)
}

/// [`extend`], with `pin` holding one input in every new run.
fn append(
    model: &Model,
    seed: u64,
    pin: Option<Pin>,
    results: &mut ScenarioRuns,
    to: u64,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), Error> {
    let layout = &results.layout;
    let width = layout.width();
    let from = results.runs();
    let to =
        usize::try_from(to).map_err(|_| Error::Usage("too many runs for this machine".into()))?;
    if to <= from {
        return Ok(());
    }
    let cells = to
        .checked_mul(width)
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| Error::Usage(format!("{to} runs would not fit in memory")))?;
    let data = &mut results.data;
    data.try_reserve_exact(cells - data.len()).map_err(|_| {
        Error::Runtime(format!(
            "not enough memory for {to} runs ({} MB of results)",
            cells * 8 / 1_000_000
        ))
    })?;
    data.resize(cells, 0.0);
    let new_runs = to - from;

    // Scratch state and draw tables belong to a worker; they never change a result.
    let init = || {
        let mut draws = Random::new(seed, 0);
        draws.set_pin(pin);
        // Runs here are simulated once each: nothing to share.
        (Workspace::new(model), draws, Shared::new(false))
    };
    // Few, large jobs: each starts a worker's scratch and tables afresh.
    let jobs = rayon::current_num_threads().max(1) * 4;
    let per_job = new_runs.div_ceil(CHUNK).div_ceil(jobs).max(1);
    data[from * width..]
        .par_chunks_mut(width * CHUNK)
        .with_min_len(per_job)
        .enumerate()
        .for_each_init(init, |(workspace, draws, shared), (chunk, rows)| {
            for (i, row) in rows.chunks_mut(width).enumerate() {
                draws.restart((from + chunk * CHUNK + i) as u64);
                simulate(model, layout, draws, workspace, shared, row);
            }
            progress((rows.len() / width) as u64);
        });
    Ok(())
}

/// Runs `f` on a pool of `threads` workers (one per core when `None`); every
/// parallel step inside it, simulation and statistics, uses that pool.
pub fn with_threads<R: Send>(
    threads: Option<usize>,
    f: impl FnOnce() -> R + Send,
) -> Result<R, Error> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| Error::Runtime(format!("cannot start worker threads: {e}")))?;
    Ok(pool.install(f))
}

/// Simulates every scenario of a config with the same seed, so that run i
/// of each draws the same random numbers for the same purposes (common
/// random numbers). `progress` hears of runs finished across all scenarios.
pub fn run_config(
    config: &crate::config::Config,
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Vec<ScenarioRuns>, Error> {
    config
        .scenarios
        .iter()
        .map(|scenario| {
            let mut runs = run(&scenario.model, settings, progress)?;
            runs.id = scenario.id.clone();
            Ok(runs)
        })
        .collect()
}

/// Initiatives measured by default: a config with at most this many in a
/// scenario has each one's cost avoided computed without `--attribution`.
pub const DEFAULT_ATTRIBUTION: usize = 12;

/// Whether initiatives' cost avoided is measured (each initiative costs a
/// second simulation of its scenario).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Attribution {
    /// When no scenario has more than [`DEFAULT_ATTRIBUTION`] initiatives.
    #[default]
    Auto,
    /// Always (`--attribution`).
    All,
    /// Never (`--no-attribution`).
    Off,
}

impl Attribution {
    /// Whether cost avoided is measured for `config` in this mode.
    pub fn measures(self, config: &crate::config::Config) -> bool {
        match self {
            Attribution::Auto => attribution_by_default(config),
            Attribution::All => true,
            Attribution::Off => false,
        }
    }
}

/// Whether cost avoided is measured for `config`: always with `force`,
/// otherwise when no scenario has more than [`DEFAULT_ATTRIBUTION`]
/// initiatives.
pub fn attribution_by_default(config: &crate::config::Config) -> bool {
    config
        .scenarios
        .iter()
        .all(|s| s.model.finance.initiatives.len() <= DEFAULT_ATTRIBUTION)
}

/// Measures each initiative's cost avoided: runs every scenario again
/// without each of its initiatives, on the same seed and run indices
/// (common random numbers), and keeps each run's net cost by year.
pub fn attribute(
    config: &crate::config::Config,
    settings: &Settings,
    results: &mut [ScenarioRuns],
) -> Result<(), Error> {
    for (scenario, runs) in config.scenarios.iter().zip(results.iter_mut()) {
        let model = &scenario.model;
        let n = if settings.central { 1 } else { settings.runs };
        let settings = Settings {
            runs: n,
            ..settings.clone()
        };
        let mut shadows = Vec::new();
        for k in 0..model.finance.initiatives.len() {
            let without = model.without_initiative(k);
            let r = run(&without, &settings, &|_| {})?;
            let l = &r.layout;
            let mut cost = Vec::with_capacity(r.runs() * l.years);
            for i in 0..r.runs() {
                let row = &r.data[i * l.width()..(i + 1) * l.width()];
                cost.extend((0..l.years).map(|fy| row[l.year(fy, YearField::Cost)]));
            }
            shadows.push(Shadow {
                initiative: k,
                cost,
            });
        }
        runs.shadows = shadows;
    }
    Ok(())
}
