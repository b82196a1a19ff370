//! Where the training checks and `grader train` run: the choice on the
//! command line, and the device it names here.

use std::path::Path;

use clap::ValueEnum;

use crate::sandbox::Mount;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DeviceChoice {
    Auto,
    Cpu,
    Cuda,
}

/// The device `choice` names here, or why there is none.
pub fn resolve(choice: DeviceChoice) -> anyhow::Result<tch::Device> {
    match (choice, tch::Cuda::is_available()) {
        (DeviceChoice::Cuda, false) => {
            Err(anyhow::anyhow!("--device cuda: libtorch sees no CUDA device here; use --device cpu or auto"))
        }
        (DeviceChoice::Cpu, _) | (DeviceChoice::Auto, false) => Ok(tch::Device::Cpu),
        (DeviceChoice::Cuda | DeviceChoice::Auto, true) => Ok(tch::Device::Cuda(0)),
    }
}


/// What a sandboxed runner must be given to compute on the GPU, and nothing
/// more: NVIDIA's control and unified-memory nodes, and the node of each GPU
/// it may use (those `visible` lists, as `CUDA_VISIBLE_DEVICES` numbers them,
/// or every GPU when it lists none), as they exist under `dev`. The driver's
/// libraries are under /usr, which every sandbox sees read-only, and its
/// /proc/driver/nvidia is in the sandbox's own /proc.
pub fn gpu_mounts(dev: &Path, visible: Option<&str>) -> Vec<Mount> {
    let mut nodes: Vec<String> = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools"].map(str::to_owned).to_vec();
    let cards: Vec<u32> = std::fs::read_dir(dev)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix("nvidia")?.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    let wanted: Option<Vec<u32>> = visible.map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect());
    let mut cards: Vec<u32> = match wanted {
        // Numbers name the GPUs; UUIDs (which the list may hold instead) do
        // not say which node is whose: every card is given then.
        Some(wanted) if !wanted.is_empty() => cards.into_iter().filter(|c| wanted.contains(c)).collect(),
        _ => cards,
    };
    cards.sort_unstable();
    nodes.extend(cards.iter().map(|c| format!("nvidia{c}")));
    nodes.into_iter().map(|node| dev.join(node)).filter(|node| node.exists()).map(Mount::device).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_dev(nodes: &[&str]) -> tempfile::TempDir {
        let dev = tempfile::tempdir().unwrap();
        for node in nodes {
            std::fs::write(dev.path().join(node), "").unwrap();
        }
        dev
    }

    fn names(mounts: &[Mount]) -> Vec<String> {
        assert!(mounts.iter().all(|m| m.device && m.host == m.inside));
        mounts.iter().map(|m| m.inside.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn a_runner_gets_the_control_nodes_and_its_cards_and_nothing_else() {
        let dev = fake_dev(&["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia-modeset", "null", "sda"]);
        let all = names(&gpu_mounts(dev.path(), None));
        assert_eq!(all, ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1"]);
        assert_eq!(names(&gpu_mounts(dev.path(), Some("1"))), ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia1"]);
        assert_eq!(names(&gpu_mounts(dev.path(), Some("GPU-1234abcd"))), all);
    }

    #[test]
    fn a_machine_without_nvidia_nodes_gives_none() {
        let dev = fake_dev(&["null", "zero"]);
        assert!(gpu_mounts(dev.path(), None).is_empty());
        let partial = fake_dev(&["nvidiactl", "nvidia0"]);
        assert_eq!(names(&gpu_mounts(partial.path(), Some("0"))), ["nvidiactl", "nvidia0"]);
    }
}
