//! `cargo course`: the student's command. `.cargo/config.toml` makes
//! `cargo course` stand for `cargo run -p course --`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use clap::{Parser, Subcommand};
use course::progress::{self, Outcome, State};
use course::{Exercise, Track};
use anyhow::Context;

/// The FCN course: your exercises and their state, what to do next, hints
/// one at a time, and a watch mode that runs your tests each time you save.
#[derive(Debug, Parser)]
#[command(after_help = "Run from anywhere in the hand-out: `cargo course`, `cargo course hint`, `cargo course watch`.")]
struct Cli {
    #[command(subcommand)]
    command: Option<Step>,
}

#[derive(Debug, Subcommand)]
enum Step {
    /// Every exercise with its state, your progress, and what to do next
    /// (what `cargo course` alone does).
    List,
    /// The next hint for an exercise (default: the one you are on), one at
    /// a time; the ones you have seen come again first.
    Hint {
        /// The exercise: its name (bilinear, vgg, fcn, ...) or number.
        exercise: Option<String>,
    },
    /// Runs an exercise's tests (default: the one you are on) now and each
    /// time you save a file in exercises/src; Ctrl-C stops.
    Watch {
        /// The exercise: its name or number.
        exercise: Option<String>,
    },
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        None | Some(Step::List) => list(),
        Some(Step::Hint { exercise }) => hint(exercise.as_deref()),
        Some(Step::Watch { exercise }) => watch(exercise.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("cargo course: {why:#}");
            ExitCode::from(2)
        }
    }
}

/// The hand-out's workspace: the folder above this crate.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `cargo test -p exercises --test TEST [FILTER]`: what it printed
/// (stderr, then stdout), and whether the crate compiled.
fn run_tests(test: &str, filter: Option<&str>) -> anyhow::Result<(String, bool)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace()).args(["test", "-p", "exercises", "--color", "never", "--test", test]);
    if let Some(filter) = filter {
        command.arg(filter);
    }
    let output = command.stdin(Stdio::null()).output().context("cannot run cargo test")?;
    let text = format!("{}{}", String::from_utf8_lossy(&output.stderr), String::from_utf8_lossy(&output.stdout));
    let compiled = progress::compiled(&text);
    Ok((text, compiled))
}

/// Builds the exercises' tests before they run, showing cargo's progress as
/// it goes: the first build compiles tch, libtorch's bindings, for minutes,
/// and a silent command that long looks stuck. Only the progress lines pass
/// through; a compiler error is left to the tests' run, which reports it.
fn build_tests() -> anyhow::Result<()> {
    use std::io::BufRead;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut child = Command::new(cargo)
        .current_dir(workspace())
        .args(["test", "-p", "exercises", "--tests", "--no-run", "--color", "never"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run cargo test")?;
    let mut announced = false;
    for line in std::io::BufReader::new(child.stderr.take().expect("stderr is piped")).lines() {
        let line = line.context("cannot read cargo's output")?;
        let word = line.split_whitespace().next().unwrap_or("");
        if ["Compiling", "Downloaded", "Blocking"].contains(&word) {
            if !announced {
                println!("{BUILDING}");
                announced = true;
            }
            println!("{line}");
        }
    }
    let _ = child.wait();
    if announced {
        println!();
    }
    Ok(())
}

/// What `cargo course` says when its build starts.
const BUILDING: &str = "Building the exercises crate and its tests. The first build compiles tch, libtorch's bindings: \
                        two to three minutes on two cores; later builds take seconds.";

/// An exercise, its state, and each of its parts' states.
type Standing = (&'static Exercise, State, Vec<(String, State)>);

/// Every exercise's state and its parts', running each test target once.
fn states() -> anyhow::Result<Vec<Standing>> {
    build_tests()?;
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut compiled = true;
    let mut first_error = None;
    let mut targets: Vec<&str> = course::exercises().iter().filter_map(|e| e.test.as_deref()).collect();
    targets.dedup();
    for target in targets {
        let (output, ok) = run_tests(target, None)?;
        if !ok {
            compiled = false;
            first_error = output.lines().position(|l| l.starts_with("error")).map(|at| {
                output.lines().skip(at).take(12).collect::<Vec<_>>().join("\n")
            });
            break;
        }
        outcomes.extend(progress::outcomes(&output));
    }
    if let Some(error) = first_error {
        println!("The exercises crate does not compile, so no test ran. The compiler's first message:\n\n{error}\n");
    }
    Ok(course::exercises()
        .iter()
        .map(|exercise| {
            let (state, parts) = progress::exercise_state(exercise, &outcomes, compiled);
            (exercise, state, parts)
        })
        .collect())
}

/// The exercise (and part) to work on: the first, in course order, whose
/// tests do not all pass.
fn current(states: &[Standing]) -> Option<(&'static Exercise, Option<String>)> {
    states.iter().find(|(e, state, _)| e.test.is_some() && *state != State::Passing).map(|(exercise, _, parts)| {
        let part = parts.iter().find(|(_, s)| *s != State::Passing).map(|(p, _)| p.clone());
        (*exercise, part)
    })
}

fn list() -> anyhow::Result<()> {
    println!("Running your tests...\n");
    let states = states()?;
    for track in [Track::Core, Track::Bonus] {
        let graded: Vec<_> = states.iter().filter(|(e, _, _)| e.track == track && e.test.is_some()).collect();
        let done = graded.iter().filter(|(_, s, _)| *s == State::Passing).count();
        let name = if track == Track::Core { "core " } else { "bonus" };
        println!("{name} {} {done}/{} passing", progress::bar(done, graded.len(), 30), graded.len());
    }
    println!();
    for (exercise, state, parts) in &states {
        let bonus = if exercise.track == Track::Bonus { " (bonus)" } else { "" };
        let title = format!("{}{bonus}", exercise.title);
        let detail = if parts.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = parts.iter().map(|(p, s)| format!("{p} {}", s.label())).collect();
            format!(" ({})", parts.join(", "))
        };
        println!("  {:>2}. {title:<44} {}{detail}", exercise.number, state.label());
    }
    println!();
    let core_done = states.iter().filter(|(e, _, _)| e.track == Track::Core && e.test.is_some()).all(|(_, s, _)| *s == State::Passing);
    if core_done && current(&states).is_some() {
        println!("The core exercises pass. {FIGURE4}\n");
    }
    match current(&states) {
        None => println!("Every exercise's public tests pass. The grader's hidden checks go further. {FIGURE4}"),
        Some((exercise, part)) => {
            let file = match &part {
                Some(part) => exercise.files.iter().find(|f| f.starts_with(part.as_str())).cloned(),
                None => None,
            }
            .or_else(|| exercise.files.first().cloned())
            .unwrap_or_default();
            let test = exercise.test.as_deref().unwrap_or_default();
            let filter = part.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
            println!("Next: exercise {}, {}{}.", exercise.number, exercise.title, part.as_deref().map(|p| format!(", part {p}")).unwrap_or_default());
            println!("  Edit exercises/src/{file} (its docs explain the idea: cargo doc -p exercises --open).");
            println!("  Its tests: cargo test -p exercises --test {test}{filter}");
            println!("  Or keep them running as you save: cargo course watch");
            println!("  Stuck? cargo course hint");
        }
    }
    Ok(())
}

/// What to do once the networks are written.
const FIGURE4: &str = "See your networks train, beside the reference: `cargo run -p exercises --example figure4` \
                       (about two minutes) draws your own Figure 4 and loss curve in target/course/; \
                       `cargo run -p exercises --example pretraining` (about three) starts them from a classifier \
                       you made fully convolutional, beside the same networks from scratch.";

/// Where the hints a student has seen are counted.
fn hints_file() -> PathBuf {
    workspace().join("target/course/hints-seen")
}

/// How many hints of each exercise the student has seen.
fn seen() -> Vec<(String, usize)> {
    std::fs::read_to_string(hints_file())
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (id, n) = line.split_once(' ')?;
            Some((id.to_owned(), n.parse().ok()?))
        })
        .collect()
}

fn hint(name: Option<&str>) -> anyhow::Result<()> {
    let exercise = match name {
        Some(name) => course::named(name).with_context(|| format!("no exercise {name:?}; the exercises are {}", course::ids()))?,
        None => match current(&states()?) {
            Some((exercise, _)) => exercise,
            None => anyhow::bail!("every exercise's tests pass: name one for its hints (cargo course hint fcn)"),
        },
    };
    if exercise.hints.is_empty() {
        println!("Exercise {} has no hints.", exercise.number);
        return Ok(());
    }
    let mut seen = seen();
    let shown = seen.iter().find(|(id, _)| *id == exercise.id).map_or(0, |(_, n)| *n);
    let upto = (shown + 1).min(exercise.hints.len());
    println!("Exercise {}: {}\n", exercise.number, exercise.title);
    for (n, hint) in exercise.hints.iter().take(upto).enumerate() {
        println!("{}. {hint}\n", n + 1);
    }
    if upto < exercise.hints.len() {
        println!("Hint {upto} of {}. Try it; `cargo course hint` again gives the next.", exercise.hints.len());
    } else {
        println!("That is every hint ({upto}). None gives the answer: the module docs' worked example is the next place to look.");
    }
    seen.retain(|(id, _)| *id != exercise.id);
    seen.push((exercise.id.clone(), upto));
    let text: String = seen.iter().map(|(id, n)| format!("{id} {n}\n")).collect();
    let file = hints_file();
    let kept = std::fs::create_dir_all(file.parent().expect("a folder")).and_then(|()| std::fs::write(&file, text));
    kept.with_context(|| format!("cannot write {}", file.display()))
}

/// Re-runs an exercise's tests on every save. Without a name it follows the
/// course: once the current exercise (or part) passes, it moves on to the next.
fn watch(name: Option<&str>) -> anyhow::Result<()> {
    let (mut exercise, mut part) = match name {
        Some(name) => (course::named(name).with_context(|| format!("no exercise {name:?}; the exercises are {}", course::ids()))?, None),
        None => current(&states()?).context("every exercise's tests pass: name one to watch (cargo course watch fcn)")?,
    };
    let following = name.is_none();
    let src = workspace().join("exercises/src");
    let (sender, events) = mpsc::channel();
    let mut watcher = notify::recommended_watcher(sender).with_context(|| format!("cannot watch {}", src.display()))?;
    notify::Watcher::watch(&mut watcher, &src, notify::RecursiveMode::Recursive)
        .with_context(|| format!("cannot watch {}", src.display()))?;
    loop {
        let test = exercise.test.as_deref().with_context(|| format!("exercise {} has no tests of its own to watch", exercise.number))?;
        let what = format!("exercise {}{}", exercise.number, part.as_deref().map(|p| format!(", part {p}")).unwrap_or_default());
        println!("Running the tests of {what}...");
        let started = std::time::Instant::now();
        let (output, compiled) = run_tests(test, part.as_deref())?;
        let outcomes = progress::outcomes(&output);
        let state = if compiled { progress::state_of(&outcomes) } else { State::DoesNotCompile };
        // The test output without cargo's build lines.
        for line in output.lines().filter(|l| !l.trim_start().starts_with("Compiling") && !l.trim_start().starts_with("Finished")) {
            println!("{line}");
        }
        println!("{what}: {} ({:.1} s).", state.label(), started.elapsed().as_secs_f64());
        if following && state == State::Passing {
            match current(&states()?) {
                Some((next, next_part)) if (next.id.as_str(), next_part.as_deref()) != (exercise.id.as_str(), part.as_deref()) => {
                    println!(
                        "\nWell done. Next: exercise {}, {}{}.\n",
                        next.number,
                        next.title,
                        next_part.as_deref().map(|p| format!(", part {p}")).unwrap_or_default()
                    );
                    (exercise, part) = (next, next_part);
                    continue;
                }
                Some(_) => {}
                None => {
                    println!("\nEvery exercise's public tests pass. {FIGURE4}");
                    return Ok(());
                }
            }
        }
        println!("Watching exercises/src: save a file to run them again; Ctrl-C stops.");
        // Wait for a change to a Rust file, then let a burst of saves settle.
        loop {
            let event = events.recv().context("the file watcher stopped")?;
            if event.is_ok_and(|e: notify::Event| e.kind.is_modify() || e.kind.is_create()) {
                break;
            }
        }
        while events.recv_timeout(Duration::from_millis(300)).is_ok() {}
    }
}
