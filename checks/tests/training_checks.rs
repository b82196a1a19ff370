//! The training checks' own behaviour, where it does not need minutes of
//! training (the grader's tests run them in full on the reference).

use checks::{Solutions, Status};

#[test]
fn the_overfit_check_is_skipped_with_the_reason_when_the_photos_are_missing() {
    // SAFETY: this test binary has this one test, so no other thread reads
    // the environment meanwhile.
    unsafe { std::env::set_var("FCN_KIT_VOC_SAMPLES", "/nonexistent/voc-samples") };
    let check = checks::training::checks::<Solutions>()
        .into_iter()
        .find(|c| c.name.contains("real VOC photos"))
        .expect("the overfit check");
    match checks::run(&check) {
        Status::Skipped(why) => assert!(why.contains("/nonexistent/voc-samples") && why.contains("make setup"), "{why}"),
        other => panic!("expected skipped, got {other:?}"),
    }
}
