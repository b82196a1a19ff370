//! A check, and what running one gives.

use std::cell::Cell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Once, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde::{Deserialize, Serialize};

/// The exercise a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exercise {
    /// Short name for the command line: `grader hint bilinear`.
    pub id: &'static str,
    /// Its number in the course.
    pub number: u32,
    /// What it is, in a few words.
    pub title: &'static str,
    /// Whether it counts towards the core score.
    pub track: Track,
}

impl Exercise {
    /// Nudges for a student who is stuck, from gentle to specific; none of
    /// them gives the answer. They are the course registry's
    /// (`exercises/info.toml`), which students read with `cargo course hint`.
    pub fn hints(&self) -> &'static [String] {
        registry::named(self.id).map_or(&[], |e| e.hints.as_slice())
    }
}

/// Which score an exercise counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    /// The course's exercises: the score.
    Core,
    /// Extra exercises from the lectures, scored on their own line; they
    /// never change the core score.
    Bonus,
}

/// Who sees a check's result before the due date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// The property is one the public tests in `exercises/tests/` check too.
    Public,
    /// Only the grader checks it; students see the result after the due date.
    Hidden,
}

/// One graded property of an exercise.
#[derive(Clone)]
pub struct Check {
    pub exercise: Exercise,
    /// Short name, unique within the exercise: `filter values, odd sizes`.
    pub name: &'static str,
    pub points: u32,
    pub visibility: Visibility,
    /// `Err` says what is wrong, in words that do not give the answer away.
    pub run: fn() -> Result<(), String>,
    /// `Some(why)` when the check cannot run here (data it needs is
    /// missing): it is then skipped, with that reason, and `run` is not called.
    pub precondition: fn() -> Option<String>,
    /// Whether the check compares passes that draw from libtorch's
    /// generator under a seed (see `networks::reference_process`): where the
    /// reference's passes run in this process, no other check may draw
    /// beside it, and [`run`] runs it alone.
    pub draws_alone: bool,
    /// Whether the check trains networks (minutes, not seconds): such checks
    /// run one at a time with every core, and `--skip-training` leaves them out.
    pub trains: bool,
}

impl Check {
    /// A hidden check.
    pub fn new(exercise: Exercise, name: &'static str, points: u32, run: fn() -> Result<(), String>) -> Self {
        Check { exercise, name, points, visibility: Visibility::Hidden, run, precondition: || None, draws_alone: false, trains: false }
    }

    /// The same check, run only when `precondition` gives no reason not to.
    pub fn needs(self, precondition: fn() -> Option<String>) -> Self {
        Check { precondition, ..self }
    }

    /// The same check, run alone where its reference passes run in this
    /// process ([`Check::draws_alone`]).
    pub fn draws_alone(self) -> Self {
        Check { draws_alone: true, ..self }
    }

    /// The same check, marked as one that trains networks ([`Check::trains`]).
    pub fn trains(self) -> Self {
        Check { trains: true, ..self }
    }

    /// The same check, marked public: the public tests check the same property.
    pub fn public(self) -> Self {
        Check { visibility: Visibility::Public, ..self }
    }
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({} points)", self.exercise.id, self.name, self.points)
    }
}

/// How a check ended.
///
/// [`run`] gives the first four; a grader that runs each check in a process
/// of its own also sees the process die, overrun its time, or not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Status {
    Passed,
    /// The code ran and gave a wrong result; the reason.
    Wrong(String),
    /// The code reached a `todo!()`.
    NotAttempted,
    /// The code panicked; the panic message.
    Panicked(String),
    /// The process running the check died (abort, signal, stack overflow, out
    /// of memory, exit); what is known of why.
    Crashed(String),
    /// The check ran past its time limit, in seconds, and was stopped.
    TimedOut(u64),
    /// The check was not run; why.
    Skipped(String),
}

impl Status {
    pub fn passed(&self) -> bool {
        matches!(self, Status::Passed)
    }

    /// One word or two for a table.
    pub fn label(&self) -> &'static str {
        match self {
            Status::Passed => "passed",
            Status::Wrong(_) => "wrong",
            Status::NotAttempted => "not attempted",
            Status::Panicked(_) => "panicked",
            Status::Crashed(_) => "crashed",
            Status::TimedOut(_) => "timed out",
            Status::Skipped(_) => "skipped",
        }
    }

    /// What the student should read: the reason, the panic message, what is
    /// known of a crash.
    pub fn detail(&self) -> Option<String> {
        match self {
            Status::Wrong(why) | Status::Panicked(why) | Status::Crashed(why) | Status::Skipped(why) => {
                Some(why.clone())
            }
            Status::TimedOut(limit) => {
                Some(format!("stopped after {limit} s; look for a loop that never ends, or work far larger than needed"))
            }
            Status::Passed | Status::NotAttempted => None,
        }
    }
}

/// Runs `check`, catching a panic in the code under test.
///
/// A panic whose message starts with "not yet implemented" (what `todo!()`
/// says) means the exercise is not attempted; any other panic is reported with
/// its message. Panics inside a check are not printed: the status carries them.
pub fn run(check: &Check) -> Status {
    if let Some(why) = (check.precondition)() {
        return Status::Skipped(why);
    }
    quiet_panics_in_checks();
    let _turn = Turn::take(check.draws_alone && Settings::current().reference_process.is_none());
    IN_CHECK.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(check.run));
    IN_CHECK.set(false);
    match result {
        Ok(Ok(())) => Status::Passed,
        Ok(Err(why)) => Status::Wrong(why),
        // The grader's view of a student's crate ends a check this way when
        // the process running the student's code died or broke the protocol.
        Err(payload) if payload.is::<Status>() => *payload.downcast::<Status>().expect("a Status"),
        Err(payload) => {
            let message = runner_protocol::panic_message(payload.as_ref());
            if message.starts_with("not yet implemented") {
                Status::NotAttempted
            } else {
                Status::Panicked(shorten(&message))
            }
        }
    }
}

/// A check's turn at libtorch's process-wide generator: shared with the
/// other checks of this process, or its alone.
enum Turn {
    Shared(#[allow(dead_code)] RwLockReadGuard<'static, ()>),
    Alone(#[allow(dead_code)] RwLockWriteGuard<'static, ()>),
}

impl Turn {
    fn take(alone: bool) -> Turn {
        static GENERATOR: RwLock<()> = RwLock::new(());
        // A check that panicked holding it changed nothing it guards.
        if alone {
            Turn::Alone(GENERATOR.write().unwrap_or_else(|e| e.into_inner()))
        } else {
            Turn::Shared(GENERATOR.read().unwrap_or_else(|e| e.into_inner()))
        }
    }
}

thread_local! {
    static IN_CHECK: Cell<bool> = const { Cell::new(false) };
}

/// Installs, once per process, a panic hook that stays silent while a check
/// runs on the current thread and otherwise behaves as before.
fn quiet_panics_in_checks() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !IN_CHECK.get() {
                previous(info);
            }
        }));
    });
}


/// The first lines of a long panic message: libtorch's errors carry a C++
/// backtrace of dozens of frames after the line that matters.
fn shorten(message: &str) -> String {
    const MAX_CHARS: usize = 600;
    // tch's errors arrive Debug-formatted (`Torch("...")`), with the
    // newlines escaped.
    let cuts = ["\nException raised from", "\\nException raised from", "\nframe #0", "\\nframe #0"];
    let end = cuts.iter().filter_map(|cut| message.find(cut)).min().unwrap_or(message.len());
    let head = &message[..end];
    if head.chars().count() <= MAX_CHARS {
        head.to_owned()
    } else {
        let cut: String = head.chars().take(MAX_CHARS).collect();
        format!("{cut}...")
    }
}

/// `Ok(())` when `condition` holds, else `Err` with the message.
pub fn ensure(condition: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(why()) }
}

/// What a grading run asks of the checks that train networks: where they run,
/// with which seed, and where they may leave pictures and tables for the
/// report. Set on each thread that runs checks, before it runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub device: tch::Device,
    pub seed: i64,
    pub artifacts: Option<std::path::PathBuf>,
    /// Where work that does not depend on the student (the reference's
    /// training runs) is kept between gradings; `None` to redo it each time.
    pub cache: Option<std::path::PathBuf>,
    /// Mixed into the seed of every check's random cases ([`case_seed`]): 0
    /// keeps each check's own cases (the kit's tests); a grading draws a
    /// fresh one, so that no answer can be worked out ahead.
    pub cases: u64,
    /// The training checks' budget, when it is not the device's own.
    pub budget: BudgetChoice,
    /// A program that runs the reference's seeded passes in a process of
    /// their own (`PROGRAM reference-pass PASSES`: the grader), for checks
    /// that run beside others; `None` to run them in this process, which
    /// then runs such a check alone.
    pub reference_process: Option<std::path::PathBuf>,
}

/// A training budget chosen apart from the device the training runs on: the
/// GPU's budget (the paper's width) can then be run on a CPU, for a few
/// steps, to test the path a GPU grading takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BudgetChoice {
    /// The budget of a GPU (`Some(true)`) or of a CPU (`Some(false)`), or
    /// the training device's own (`None`).
    pub gpu: Option<bool>,
    /// Steps per stage, instead of the budget's.
    pub steps: Option<usize>,
    /// Images per step, instead of the budget's.
    pub batch: Option<usize>,
    /// Training images, instead of the budget's (and a quarter as many
    /// validation images, at least one).
    pub images: Option<usize>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            device: tch::Device::Cpu,
            seed: 0,
            artifacts: None,
            cache: None,
            cases: 0,
            budget: BudgetChoice::default(),
            reference_process: None,
        }
    }
}

thread_local! {
    static SETTINGS: std::cell::RefCell<Option<Settings>> = const { std::cell::RefCell::new(None) };
}

impl Settings {
    /// Makes `self` the settings of the checks this thread runs.
    pub fn install(self) {
        SETTINGS.with_borrow_mut(|settings| *settings = Some(self));
    }

    /// The settings of this thread: the installed ones, or the defaults.
    pub fn current() -> Settings {
        SETTINGS.with_borrow(Clone::clone).unwrap_or_default()
    }
}

/// A float tensor of `shape`, standard normal times `scale`, drawn from
/// `rng`: random scores, weights and maps.
pub(crate) fn normal_tensor(rng: &mut ndarray_rand::rand::rngs::StdRng, shape: &[usize], scale: f32) -> tch::Tensor {
    use ndarray_rand::RandomExt;
    let values = ndarray::ArrayD::<f32>::random_using(ndarray::IxDyn(shape), ndarray_rand::rand_distr::StandardNormal, rng) * scale;
    tch::Tensor::try_from(&values).expect("an f32 array converts")
}

/// A [`Settings::cases`] no run has drawn before: a grading's (and never 0,
/// which keeps the kit's own cases).
pub fn fresh_cases() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    hasher.write_u32(std::process::id());
    hasher.finish().max(1)
}

/// The seed of the random cases drawn for `purpose` (what they are, in a
/// few words: "random weights"), mixed with the run's [`Settings::cases`]
/// (0 keeps each purpose's own seed, as the kit's tests do). Seeds named by
/// purpose rather than numbered: two draws for different ends never share
/// one by accident.
pub fn case_seed(purpose: &str) -> u64 {
    // FNV-1a: the same seed for the same words on every machine and build.
    let fixed = purpose.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    match Settings::current().cases {
        0 => fixed,
        run => fixed ^ run.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17),
    }
}
