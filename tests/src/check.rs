//! A check, and what running one gives.

use std::any::Any;
use std::cell::Cell;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

/// The exercise a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exercise {
    /// Short name for the command line: `grader hint bilinear`.
    pub id: &'static str,
    /// Its number in the course.
    pub number: u32,
}

/// One graded property of an exercise.
#[derive(Clone)]
pub struct Check {
    pub exercise: Exercise,
    /// Short name, unique within the exercise: `filter values, odd sizes`.
    pub name: &'static str,
    pub points: u32,
    /// `Err` says what is wrong, in words that do not give the answer away.
    pub run: fn() -> Result<(), String>,
}

impl fmt::Debug for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({} points)", self.exercise.id, self.name, self.points)
    }
}

/// How a check ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Passed,
    /// The code ran and gave a wrong result; the reason.
    Wrong(String),
    /// The code reached a `todo!()`.
    NotAttempted,
    /// The code panicked; the panic message.
    Panicked(String),
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
        }
    }

    /// What the student should read: the reason or the panic message.
    pub fn detail(&self) -> Option<&str> {
        match self {
            Status::Wrong(why) | Status::Panicked(why) => Some(why),
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
    quiet_panics_in_checks();
    IN_CHECK.set(true);
    let result = panic::catch_unwind(AssertUnwindSafe(check.run));
    IN_CHECK.set(false);
    match result {
        Ok(Ok(())) => Status::Passed,
        Ok(Err(why)) => Status::Wrong(why),
        Err(payload) => {
            let message = panic_message(payload.as_ref());
            if message.starts_with("not yet implemented") {
                Status::NotAttempted
            } else {
                Status::Panicked(message)
            }
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

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a panic with a value that is not a message".to_owned()
    }
}

/// `Ok(())` when `condition` holds, else `Err` with the message.
pub fn ensure(condition: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if condition { Ok(()) } else { Err(why()) }
}
