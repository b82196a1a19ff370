//! Data and training for the FCN kit: what the grader's training checks,
//! `grader train` and the students' own Figure 4 run use. (The scores are
//! `fcn-metrics`'s, a crate of their own because they answer bonus
//! exercise 8.)
//!
//! * [`voc`]: PASCAL VOC's palette and a loader for VOCdevkit-style folders;
//! * [`synthetic`]: a seeded synthetic set in that layout;
//! * [`train`]: SGD training and the staged FCN-32s, 16s, 8s schedule;
//! * [`experiment`]: how much a run trains, and its set-up;
//! * [`pretraining`]: VGG16 trained as a whole-image classifier, the start
//!   the pre-training experiment gives its FCNs;
//! * [`pictures`]: Figure 4 and the loss curves;
//! * [`reference_losses`]: the reference's kept losses and how closely a run
//!   holds to them.

pub mod experiment;
pub mod pictures;
pub mod pretraining;
pub mod reference_losses;
pub mod synthetic;
pub mod train;
pub mod voc;
