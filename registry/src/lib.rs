//! The course's exercises, as `exercises/info.toml` lists them: the one
//! list that the student's command (`cargo course`), the grader's titles
//! and hints, and the kit's checks of its READMEs and files all read. A
//! crate of its own, so that reading the list pulls in nothing of the
//! command's (clap, a file watcher).

use std::sync::OnceLock;

use serde::Deserialize;

/// The registry's text, built in: the command and the grader read the list
/// they were built with.
pub const SOURCE: &str = include_str!("../../exercises/info.toml");

/// One exercise of the course.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercise {
    /// 1, 2, 3, ... with no gap.
    pub number: u32,
    /// Its short name: `cargo course hint vgg`.
    pub id: String,
    /// What it is, in a few words.
    pub title: String,
    pub track: Track,
    /// The files in `exercises/src` the student writes; none for an
    /// exercise graded from the others (the training run).
    pub files: Vec<String>,
    /// Its public tests: `cargo test -p exercises --test TEST`.
    #[serde(default)]
    pub test: Option<String>,
    /// Steps that turn green one at a time: the tests in module PART of the
    /// test target (`--test TEST PART`).
    #[serde(default)]
    pub parts: Vec<String>,
    /// Nudges for a student who is stuck, gentle to specific.
    pub hints: Vec<String>,
}

/// Which score an exercise counts towards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Track {
    Core,
    Bonus,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Registry {
    exercise: Vec<Exercise>,
}

/// Every exercise, in course order.
pub fn exercises() -> &'static [Exercise] {
    static EXERCISES: OnceLock<Vec<Exercise>> = OnceLock::new();
    EXERCISES.get_or_init(|| match parse(SOURCE) {
        Ok(exercises) => exercises,
        // The kit's tests parse it; a hand-edited copy that does not parse
        // is named, with where.
        Err(why) => panic!("exercises/info.toml: {why}"),
    })
}

/// The exercises in `text`, checked: numbered 1, 2, 3, ... in order, each
/// id once.
pub fn parse(text: &str) -> Result<Vec<Exercise>, String> {
    let registry: Registry = toml::from_str(text).map_err(|e| e.to_string())?;
    for (at, exercise) in registry.exercise.iter().enumerate() {
        if exercise.number as usize != at + 1 {
            return Err(format!("exercise {:?} is number {}, but it is the {}th listed: number them 1, 2, 3, ... in order", exercise.id, exercise.number, at + 1));
        }
        if registry.exercise[..at].iter().any(|e| e.id == exercise.id) {
            return Err(format!("the id {:?} is used twice", exercise.id));
        }
        if exercise.test.is_none() && !exercise.parts.is_empty() {
            return Err(format!("exercise {:?} has parts but no test", exercise.id));
        }
    }
    Ok(registry.exercise)
}

/// The exercise named `name`: its id or its number.
pub fn named(name: &str) -> Option<&'static Exercise> {
    exercises().iter().find(|e| e.id == name || e.number.to_string() == name)
}

/// The exercises' ids, for messages: "bilinear, vgg, ...".
pub fn ids() -> String {
    exercises().iter().map(|e| e.id.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registry_parses_and_numbers_without_a_gap() {
        let exercises = parse(SOURCE).unwrap();
        assert!(exercises.len() >= 4);
        assert_eq!(named("3").unwrap().id, named("fcn").unwrap().id);
    }

    #[test]
    fn a_gap_or_a_twice_used_id_is_refused() {
        let one = |number: u32, id: &str| format!("[[exercise]]\nnumber = {number}\nid = \"{id}\"\ntitle = \"t\"\ntrack = \"core\"\nfiles = []\nhints = []\n");
        let gap = one(1, "a") + &one(3, "b");
        assert!(parse(&gap).unwrap_err().contains("number them 1, 2, 3"));
        let twice = one(1, "a") + &one(2, "a");
        assert!(parse(&twice).unwrap_err().contains("used twice"));
        let unknown = one(1, "a").replace("hints = []", "hints = []\nanswer = 42");
        assert!(parse(&unknown).unwrap_err().contains("answer"));
    }
}
