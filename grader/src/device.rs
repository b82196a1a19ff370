//! Where the training checks and `grader train` run: the choice on the
//! command line, and the device it names here.

use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda,
}

/// The device `choice` names here, or why there is none.
pub fn resolve(choice: DeviceChoice) -> Result<tch::Device, String> {
    match (choice, tch::Cuda::is_available()) {
        (DeviceChoice::Cuda, false) => {
            Err("--device cuda: libtorch sees no CUDA device here; use --device cpu or auto".to_owned())
        }
        (DeviceChoice::Cpu, _) | (DeviceChoice::Auto, false) => Ok(tch::Device::Cpu),
        (DeviceChoice::Cuda | DeviceChoice::Auto, true) => Ok(tch::Device::Cuda(0)),
    }
}

