//! The untouched stubs score nothing: every check reaches a `todo!()`.
//! (As rustlings checks that its exercises start unsolved.)

use checks::Status;

checks::implementation!(
    /// The untouched stubs, `exercises/`.
    Exercises,
    exercises
);

#[test]
fn every_check_on_the_stubs_is_not_attempted() {
    for check in checks::full_suite::<Exercises>() {
        assert_eq!(checks::run(&check), Status::NotAttempted, "{check:?}");
    }
}
