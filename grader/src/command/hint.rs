//! `grader hint EXERCISE`: an exercise's hints, all at once (the students'
//! `cargo course hint` gives them one at a time).

use std::process::ExitCode;

use crate::suite;

pub fn run(name: &str) -> ExitCode {
    let Some(exercise) = suite::exercise_named(name) else {
        eprintln!("grader: no exercise {name:?}; the exercises are {}", suite::exercise_names());
        return ExitCode::from(2);
    };
    println!("Exercise {}: {}\n", exercise.number, exercise.title);
    for (n, hint) in exercise.hints().iter().enumerate() {
        println!("{}. {hint}\n", n + 1);
    }
    println!("Each hint goes a little further than the one before: read one, then try again.");
    ExitCode::SUCCESS
}

