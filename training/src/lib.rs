//! Data, metrics and training for the FCN kit: what the grader's training
//! checks and `grader train` use.
//!
//! * [`voc`]: PASCAL VOC's palette and a loader for VOCdevkit-style folders;
//! * [`synthetic`]: a seeded synthetic set in that layout;
//! * [`metrics`]: pixel accuracy, mean accuracy, mean IU, frequency-weighted IU;
//! * [`train`]: SGD training and the staged FCN-32s, 16s, 8s schedule.

pub mod metrics;
pub mod pictures;
pub mod synthetic;
pub mod train;
pub mod voc;
