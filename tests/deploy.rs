//! The recipes in `deploy/` agree with themselves and with carecast: the
//! Kubernetes manifests are parsed as YAML and the Slurm recipe is run with a
//! stand-in `sbatch`, and the shell commands they would run are executed with
//! a stand-in `carecast` that prints its arguments. So a change to the number
//! of shards in one place only, a merge that misses a part or reads a glob,
//! or a shard without its thread limit fails here, in a second, without a
//! cluster. (tests/slurm/run.sh runs the Slurm recipe on a real cluster.)

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

/// The one document of a manifest.
fn manifest(name: &str) -> Yaml {
    let path = Path::new("deploy/k8s").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut docs = YamlLoader::load_from_str(&text).unwrap();
    assert_eq!(docs.len(), 1, "{}: one document", path.display());
    docs.remove(0)
}

/// The Job's only container.
fn container(job: &Yaml) -> &Yaml {
    let containers = job["spec"]["template"]["spec"]["containers"]
        .as_vec()
        .expect("containers");
    assert_eq!(containers.len(), 1);
    &containers[0]
}

/// A container's environment variable, which must be set once.
fn env(container: &Yaml, name: &str) -> String {
    let found: Vec<&Yaml> = container["env"]
        .as_vec()
        .expect("env")
        .iter()
        .filter(|e| e["name"].as_str() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "{name} set once");
    found[0]["value"]
        .as_str()
        .expect("a string value")
        .to_string()
}

/// The script a container runs with `sh -c`.
fn script(container: &Yaml) -> String {
    let command: Vec<&str> = container["command"]
        .as_vec()
        .expect("command")
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command, ["sh", "-c"]);
    let args = container["args"].as_vec().expect("args");
    assert_eq!(args.len(), 1);
    args[0].as_str().unwrap().to_string()
}

/// A folder with a `carecast` that prints its arguments, one a line, and
/// what a command run with it on the PATH passed to carecast.
struct FakeCarecast {
    dir: tempfile::TempDir,
}

impl FakeCarecast {
    fn new() -> FakeCarecast {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("carecast");
        std::fs::write(
            &path,
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n",
        )
        .unwrap();
        make_executable(&path);
        FakeCarecast { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("carecast")
    }

    /// Runs `command` with the fake first on the PATH; carecast's arguments.
    fn arguments(&self, mut command: Command) -> Vec<String> {
        let path = format!(
            "{}:{}",
            self.dir.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out = command.env("PATH", path).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The value after `flag` in `args`.
fn after<'a>(args: &'a [String], flag: &str) -> &'a str {
    let at = args
        .iter()
        .position(|a| a == flag)
        .unwrap_or_else(|| panic!("{flag} in {args:?}"));
    &args[at + 1]
}

/// The arguments that are partial files.
fn parts(args: &[String]) -> Vec<String> {
    args.iter()
        .filter(|a| a.ends_with(".bin"))
        .cloned()
        .collect()
}

#[test]
fn kubernetes_shards_and_merge_agree_on_n_and_the_merge_names_every_part() {
    let shards_job = manifest("carecast-indexed-job.yaml");
    let merge_job = manifest("carecast-merge-job.yaml");
    assert_eq!(
        shards_job["spec"]["completionMode"].as_str(),
        Some("Indexed")
    );
    let completions = shards_job["spec"]["completions"].as_i64().unwrap();
    let parallelism = shards_job["spec"]["parallelism"].as_i64().unwrap();
    assert!(completions >= 1 && parallelism <= completions);
    let shard = container(&shards_job);
    let merge = container(&merge_job);
    let n = env(shard, "SHARDS");
    assert_eq!(
        n,
        completions.to_string(),
        "SHARDS is the Job's completions"
    );
    assert_eq!(env(merge, "SHARDS"), n, "the merge's SHARDS is the shards'");
    let runs = env(shard, "RUNS");
    // Both Jobs see the same volume at /results.
    for job in [&shards_job, &merge_job] {
        let claims: Vec<&str> = job["spec"]["template"]["spec"]["volumes"]
            .as_vec()
            .unwrap()
            .iter()
            .filter_map(|v| v["persistentVolumeClaim"]["claimName"].as_str())
            .collect();
        assert_eq!(claims, ["carecast-results"]);
    }

    let fake = FakeCarecast::new();
    // Each pod: its index is K, N is SHARDS, as many threads as CPUs asked.
    let cpus = shard["resources"]["requests"]["cpu"].as_str().unwrap();
    let mut written = Vec::new();
    for k in 0..completions {
        let mut sh = Command::new("sh");
        sh.arg("-c")
            .arg(script(shard))
            .env("JOB_COMPLETION_INDEX", k.to_string())
            .env("SHARDS", &n)
            .env("RUNS", &runs);
        let args = fake.arguments(sh);
        assert_eq!(args[0], "run");
        assert_eq!(after(&args, "--runs"), runs);
        assert_eq!(after(&args, "--shard"), format!("{k}/{n}"));
        assert_eq!(
            after(&args, "--threads"),
            cpus,
            "--threads as the CPUs requested"
        );
        written.push(after(&args, "--partial").to_string());
    }
    // The merge: every part a pod writes, each once, and nothing else.
    let text = script(merge);
    assert!(!text.contains('*'), "no glob in the merge: {text}");
    let mut sh = Command::new("sh");
    sh.arg("-c").arg(&text).env("SHARDS", &n);
    let args = fake.arguments(sh);
    assert_eq!(args[0], "merge");
    assert_eq!(parts(&args), written);
    assert_eq!(
        written,
        (0..completions)
            .map(|k| format!("/results/part-{k}.bin"))
            .collect::<Vec<_>>()
    );
}

/// The Slurm recipe with a stand-in sbatch: the job scripts it writes run
/// shard K of N with quoted paths, the merge names every part, and the
/// merge waits on the array with afterok and is cancelled if a shard fails.
#[test]
fn slurm_job_scripts_quote_paths_and_the_merge_names_every_part() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("it's a \"quoted\" dir");
    std::fs::create_dir(&odd).unwrap();
    let config = odd.join("my config.toml");
    std::fs::copy("configs/example.toml", &config).unwrap();
    let out = odd.join("out $HOME dir");
    // sbatch: records its arguments, one a line, and answers job 41, then 42.
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let calls = dir.path().join("calls");
    std::fs::write(
        bin.join("sbatch"),
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >>'{}'\n\
             echo --- >>'{}'\nif [ -e '{}' ]; then echo 42; else echo 41 >'{}'; echo 41; fi\n",
            calls.display(),
            calls.display(),
            dir.path().join("first").display(),
            dir.path().join("first").display()
        ),
    )
    .unwrap();
    make_executable(&bin.join("sbatch"));
    let fake = FakeCarecast::new();
    let submitted = Command::new("bash")
        .arg("deploy/slurm/carecast-array.sh")
        .args([
            config.as_os_str(),
            "90".as_ref(),
            "3".as_ref(),
            out.as_os_str(),
        ])
        .arg("5")
        .env("CARECAST", fake.path())
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.display(),
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .unwrap();
    assert!(
        submitted.status.success(),
        "{}",
        String::from_utf8_lossy(&submitted.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&submitted.stdout).trim(),
        "shards: job 41 (array 0-2); merge: job 42"
    );
    let calls = std::fs::read_to_string(&calls).unwrap();
    let calls: Vec<Vec<&str>> = calls
        .split("---\n")
        .filter(|c| !c.is_empty())
        .map(|c| c.lines().collect())
        .collect();
    assert_eq!(calls.len(), 2);
    assert!(calls[0].contains(&"--array=0-2"), "{:?}", calls[0]);
    assert!(
        calls[1].contains(&"--dependency=afterok:41"),
        "{:?}",
        calls[1]
    );
    assert!(
        calls[1].contains(&"--kill-on-invalid-dep=yes"),
        "{:?}",
        calls[1]
    );
    let jobs = out.join("jobs");
    assert_eq!(
        calls[0].last().unwrap(),
        &jobs.join("shard.sh").to_str().unwrap()
    );
    assert_eq!(
        calls[1].last().unwrap(),
        &jobs.join("merge.sh").to_str().unwrap()
    );

    let mut written = Vec::new();
    for k in 0..3 {
        let mut job = Command::new(jobs.join("shard.sh"));
        job.env("SLURM_ARRAY_TASK_ID", k.to_string());
        let args = fake.arguments(job);
        assert_eq!(args[..2], ["run", config.to_str().unwrap()]);
        assert_eq!(after(&args, "--runs"), "90");
        assert_eq!(after(&args, "--seed"), "5");
        assert_eq!(after(&args, "--shard"), format!("{k}/3"));
        written.push(after(&args, "--partial").to_string());
    }
    let args = fake.arguments(Command::new(jobs.join("merge.sh")));
    assert_eq!(args[0], "merge");
    assert_eq!(parts(&args), written);
    let expected: Vec<String> = (0..3)
        .map(|k| {
            out.join(format!("part-{k}.bin"))
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(written, expected);
    assert_eq!(
        after(&args, "--json"),
        out.join("results.json").to_str().unwrap()
    );
}
