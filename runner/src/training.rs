//! A staged training run in the runner: the kit's own loop (`fcn_train`) on
//! the student's networks, on the device the grader chose, each network and
//! its weights resident from its first step to its last.
//!
//! The grader sends the data, the start and the schedule once; the runner
//! trains stage after stage and replies with the losses, its predictions on
//! the validation images (whose labels it never gets) and, piece by piece,
//! the trained weights, which the grader evaluates itself.

use fcn_common::FcnConfig;
use fcn_train::train::{Batches, Origin, Schedule, Stage, Start, Trained, finish_stage, start_stage};
use runner_protocol::{Compute, Config, Network, Reply, Split, Tensors, Training};
use tch::nn::ModuleT;
use tch::{Device, Kind, Tensor, nn};

/// One run, from [`Session::begin`] to the last weights the grader reads.
pub struct Session {
    device: Device,
    train_images: Vec<Tensor>,
    train_masks: Vec<Tensor>,
    /// The validation images, in the batches they came in.
    val: Vec<Tensor>,
    /// The first stage's start, assembled from the pieces sent.
    start: nn::VarStore,
    /// The stage trained last.
    trained: Option<Trained>,
    stages: usize,
}

impl Session {
    pub fn begin(device: Compute) -> Session {
        let device = match device {
            Compute::Cpu => Device::Cpu,
            Compute::Cuda => {
                assert!(tch::Cuda::is_available(), "the runner sees no GPU (CUDA is not available in its sandbox)");
                Device::Cuda(0)
            }
        };
        Session {
            device,
            train_images: Vec::new(),
            train_masks: Vec::new(),
            val: Vec::new(),
            start: nn::VarStore::new(Device::Cpu),
            trained: None,
            stages: 0,
        }
    }

    /// Adds a batch of images (and masks, for training) to `split`.
    pub fn data(&mut self, split: Split, images: Tensor, masks: Option<Tensor>) {
        assert!(images.dim() == 4 && images.size()[1] == 3, "training images of shape {:?}", images.size());
        let images = images.to_device(self.device);
        match split {
            Split::Train => {
                let masks = masks.expect("training images come with masks").to_kind(Kind::Int64).to_device(self.device);
                assert!(masks.size()[0] == images.size()[0], "as many masks as images");
                for n in 0..images.size()[0] {
                    self.train_images.push(images.narrow(0, n, 1));
                    self.train_masks.push(masks.narrow(0, n, 1));
                }
            }
            Split::Val => self.val.push(images),
        }
    }

    /// Puts `piece` at `offset` in the start's variable `name` (made, with
    /// `shape`, by its first piece).
    pub fn start_weights(&mut self, name: &str, shape: &[i64], offset: i64, piece: &Tensor) {
        let variable = self.start.variables().remove(name).unwrap_or_else(|| {
            let mut words: Vec<&str> = name.split('.').collect();
            let last = words.pop().expect("a name has a word");
            let path = words.iter().fold(self.start.root(), |path, word| path.sub(*word));
            path.zeros_no_train(last, shape)
        });
        assert!(variable.size() == shape, "{name} was sent with two shapes");
        let _guard = tch::no_grad_guard();
        variable.view(-1).narrow(0, offset, piece.numel() as i64).copy_(piece);
    }

    /// Trains the next stage: `network`, from the start sent (the first
    /// stage) or the stage before.
    pub fn train_stage(&mut self, network: Network, config: Config, training: Training) -> (Reply, Tensors) {
        use exercises::*;
        let stage = match network {
            Network::Fcn32s => Stage { name: "FCN-32s", build: fcn32s::fcn32s, loss: loss::pixel_loss },
            Network::Fcn16s => Stage { name: "FCN-16s", build: fcn16s::fcn16s, loss: loss::pixel_loss },
            Network::Fcn8s => Stage { name: "FCN-8s", build: fcn8s::fcn8s, loss: loss::pixel_loss },
            Network::Fcn8sAtOnce => Stage { name: "FCN-8s at once", build: fcn8s::fcn8s_atonce, loss: loss::pixel_loss },
            Network::Vgg16 => panic!("VGG16 alone does not segment"),
        };
        let schedule = Schedule {
            steps: training.steps,
            batch: training.batch,
            learning_rate: training.learning_rate,
            momentum: training.momentum,
            weight_decay: training.weight_decay,
            seed: training.seed,
            device: self.device,
            progress: false,
            checkpoints: None,
            ..Schedule::default()
        };
        let config = FcnConfig { classes: config.classes, width_divisor: config.width_divisor };
        assert!((1..=256).contains(&config.classes), "{} classes do not fit the predictions' bytes", config.classes);
        let data = Batches::from_tensors(
            self.train_images.iter().map(Tensor::shallow_clone).collect(),
            self.train_masks.iter().map(Tensor::shallow_clone).collect(),
        );
        let origin = match &self.trained {
            Some(previous) => Origin::Previous(&previous.store),
            None => Origin::Start(Start::Weights(&self.start)),
        };
        let (store, net) = start_stage(self.stages, &stage, config, origin, &schedule).unwrap_or_else(|e| panic!("{e}"));
        // What the stage started from goes before it trains: at the paper's
        // width each is half a gigabyte of the runner's memory.
        self.trained = None;
        self.start = nn::VarStore::new(Device::Cpu);
        let trained = finish_stage(&stage, store, net, &data, &schedule);
        self.stages += 1;
        let mut reply: Tensors = vec![(
            "losses".to_owned(),
            Tensor::from_slice(&trained.record.losses.iter().map(|&l| l as f32).collect::<Vec<_>>()),
        )];
        {
            let _guard = tch::no_grad_guard();
            for (k, images) in self.val.iter().enumerate() {
                // One image at a time: at the paper's width a batch of
                // activations would not fit the runner's memory on a CPU.
                let predictions: Vec<Tensor> = (0..images.size()[0])
                    .map(|n| trained.net.forward_t(&images.narrow(0, n, 1), false).argmax(1, false))
                    .collect();
                let predictions = Tensor::cat(&predictions, 0).to_kind(Kind::Uint8).to_device(Device::Cpu);
                reply.push((format!("prediction.{k}"), predictions));
            }
        }
        let (listing, _) = crate::listing(&trained.store, false);
        let seconds = trained.record.seconds;
        self.trained = Some(trained);
        (Reply::Done { listing, number: Some(seconds) }, reply)
    }

    /// A piece of the last stage's variable `name`, flattened.
    pub fn weights(&self, name: &str, offset: i64, count: i64) -> Tensor {
        let trained = self.trained.as_ref().expect("weights are read after a stage trains");
        let variable = trained.store.variables().remove(name).unwrap_or_else(|| panic!("the trained network has no {name}"));
        variable.detach().view(-1).narrow(0, offset, count).to_device(Device::Cpu)
    }
}
