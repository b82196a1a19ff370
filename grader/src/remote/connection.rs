//! The runner this thread's checks talk to: its pipes, the watchdog that
//! stops it, and one request and its reply, read within what the request
//! can call for. When the runner dies or breaks the protocol, the call ends
//! the check with a status the grader, not the runner, decided.

use std::cell::RefCell;
use std::io::{BufReader, BufWriter};
use std::process::{Child, ChildStdin, ChildStdout};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use checks::Status;
use fcn_common::FcnConfig;
use runner_protocol::{Config, Reply, Request, Tensors, read_frame_within, write_frame};
use tch::{Kind, Tensor};

/// A running runner: its pipes, and how to say why it ended.
pub struct Connection {
    pub child: Child,
    pub requests: BufWriter<ChildStdin>,
    pub replies: BufReader<ChildStdout>,
    /// Why the runner ended, from its exit status and what it printed.
    pub autopsy: Box<dyn Fn(std::process::ExitStatus) -> String + Send>,
    /// Set by the watchdog that stopped the runner for running too long.
    pub timed_out: Arc<AtomicBool>,
}

impl Connection {
    /// Stops the runner and everything it started, and reaps it.
    fn stop(&mut self) {
        let _ = self.child.kill();
        crate::process::kill_group(&self.child);
        let _ = self.child.wait();
    }
}

thread_local! {
    /// The runner this thread's checks talk to.
    static CONNECTION: RefCell<Option<Connection>> = const { RefCell::new(None) };
}

/// Makes `connection` the runner this thread's checks talk to.
pub fn connect(connection: Connection) {
    disconnect();
    CONNECTION.with_borrow_mut(|slot| *slot = Some(connection));
}

/// Stops this thread's runner, if it has one.
pub fn disconnect() {
    if let Some(mut connection) = CONNECTION.with_borrow_mut(Option::take) {
        connection.stop();
    }
}

/// Whether this thread has a runner (one that ended is gone).
pub fn connected() -> bool {
    CONNECTION.with_borrow(Option::is_some)
}

/// Stops this thread's runner after `timeout`, unless the guard it returns
/// is dropped first. A call waiting on a stopped runner ends its check as
/// timed out.
pub fn watchdog(timeout: Duration) -> Option<std::sync::mpsc::Sender<()>> {
    let (pid, flag) = CONNECTION.with_borrow(|slot| {
        slot.as_ref().map(|connection| (connection.child.id() as libc::pid_t, connection.timed_out.clone()))
    })?;
    let (guard, stop) = std::sync::mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(timeout) {
            flag.store(true, Ordering::SeqCst);
            // SAFETY: kill(2) on the runner (bubblewrap, whose sandbox dies
            // with it) and on its process group when it is unsandboxed.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    });
    Some(guard)
}

/// Whether a watchdog stopped this thread's runner.
pub fn stopped_by_watchdog() -> bool {
    CONNECTION.with_borrow(|slot| slot.as_ref().is_some_and(|connection| connection.timed_out.load(Ordering::SeqCst)))
}

/// Ends the check: the runner broke, and the grader says how.
pub(crate) fn broken(why: String) -> ! {
    std::panic::panic_any(Status::Crashed(why))
}

/// Sends `request` with `tensors`; the reply, or the end of the check.
pub(crate) fn call(request: &Request, tensors: &[(String, Tensor)]) -> (Reply, Tensors) {
    call_within(request, tensors, reply_budget(request))
}

/// [`call`], reading a reply of at most `budget` bytes of tensors.
pub(crate) fn call_within(request: &Request, tensors: &[(String, Tensor)], budget: u64) -> (Reply, Tensors) {
    if let Err(why) = sendable(request, tensors) {
        cannot_send(request, &why);
    }
    let reply = CONNECTION.with_borrow_mut(|slot| {
        let connection = slot.as_mut().expect("the grader starts a runner before any check");
        let sent = write_frame(&mut connection.requests, request, tensors);
        let reply = match sent {
            Ok(()) => read_frame_within::<Reply>(&mut connection.replies, budget),
            Err(error) => Err(runner_protocol::FrameError::Io(error)),
        };
        match reply {
            Ok(Some((Reply::Done { listing, number }, tensors))) => Ok((Reply::Done { listing, number }, tensors)),
            Ok(Some((other, _))) => Ok((other, Vec::new())),
            Ok(None) | Err(runner_protocol::FrameError::Io(_)) => {
                let _ = connection.child.kill();
                let status = connection.child.wait();
                Err(if connection.timed_out.load(Ordering::SeqCst) {
                    Status::TimedOut(0)
                } else {
                    Status::Crashed(match status {
                        Ok(status) => (connection.autopsy)(status),
                        Err(error) => format!("the runner stopped answering ({error})"),
                    })
                })
            }
            Err(runner_protocol::FrameError::Invalid(why)) => {
                connection.stop();
                Err(Status::Crashed(format!("the runner's reply broke the protocol: {why}")))
            }
        }
    });
    match reply {
        Ok((Reply::NotAttempted, _)) => panic!("not yet implemented"),
        Ok((Reply::Panicked { message }, _)) => panic!("{}", runner_protocol::clean_message(&message)),
        Ok(done) => done,
        Err(status) => std::panic::panic_any(status),
    }
}

/// The most bytes of tensors a reply to `request` may hold: four times what
/// a right answer holds, where the request says how much that is (a wrong
/// shape is then still the student's answer, for the checks to judge), and
/// the protocol's cap otherwise. The grader never reads, nor allocates for,
/// more than its own request can call for. Calls and layers, whose sizes
/// the table of the student's API gives, are read within [`floats`] of
/// those instead.
pub(crate) fn reply_budget(request: &Request) -> u64 {
    let budget = match *request {
        Request::BeginTraining { .. } | Request::TrainingData { .. } | Request::StartWeights { .. } => SLACK,
        Request::TrainStage { .. } => SLACK,
        Request::TrainedWeights { count, .. } => (count.max(0) as u64).saturating_mul(4).saturating_add(SLACK),
        _ => runner_protocol::MAX_TENSOR_BYTES,
    };
    budget.min(runner_protocol::MAX_TENSOR_BYTES)
}

/// Bytes every reply may hold besides its answer.
const SLACK: u64 = 64 << 10;

/// The budget of a reply whose answer has at most `elements` numbers: four
/// times their bytes as f32 or i64, and [`SLACK`].
pub(crate) fn floats(elements: u64) -> u64 {
    elements.saturating_mul(16).saturating_add(SLACK).min(runner_protocol::MAX_TENSOR_BYTES)
}

/// Whether the protocol can carry `request` with `tensors`: within the
/// frame's caps, which the runner enforces as the grader does.
fn sendable(request: &Request, tensors: &[(String, Tensor)]) -> Result<(), String> {
    let header = serde_json::to_vec(request).map_or(u64::MAX, |json| json.len() as u64);
    let bytes: u64 = tensors.iter().map(|(_, t)| (t.numel() * t.kind().elt_size_in_bytes()) as u64).sum();
    if header > u64::from(runner_protocol::MAX_HEADER_BYTES) {
        Err(format!("a request of {header} bytes (the protocol carries at most {})", runner_protocol::MAX_HEADER_BYTES))
    } else if bytes > runner_protocol::MAX_TENSOR_BYTES {
        Err(format!("{bytes} bytes of tensors (the protocol carries at most {})", runner_protocol::MAX_TENSOR_BYTES))
    } else if tensors.len() > runner_protocol::MAX_TENSORS {
        Err(format!("{} tensors (the protocol carries at most {})", tensors.len(), runner_protocol::MAX_TENSORS))
    } else {
        Ok(())
    }
}

/// The grader's own request does not fit the protocol: the grader's error,
/// never a verdict on the student. It stops with exit status 2.
fn cannot_send(request: &Request, why: &str) -> ! {
    let call = serde_json::to_value(request).ok().and_then(|v| v.get("call").cloned()).unwrap_or_default();
    eprintln!("grader: error: the grader cannot send its request {call} to the runner: {why}; this is the grader's fault, not the student's");
    std::process::exit(2)
}

/// The tensors named in `names`, in that order; each of `kind`, at most 4
/// dimensions. Anything else in the reply ends the check.
pub(crate) fn expect(mut tensors: Tensors, names: &[&str], kind: Kind) -> Vec<Tensor> {
    if tensors.len() != names.len() {
        broken(format!("the runner replied with {} tensors where {} were due", tensors.len(), names.len()));
    }
    names
        .iter()
        .map(|name| {
            let at = tensors.iter().position(|(n, _)| n == name).unwrap_or_else(|| broken(format!("the runner's reply has no {name}")));
            let (_, tensor) = tensors.swap_remove(at);
            if tensor.kind() != kind {
                broken(format!("the runner's {name} is of type {:?}, not {kind:?}", tensor.kind()));
            }
            tensor
        })
        .collect()
}

pub(crate) fn config(config: FcnConfig) -> Config {
    Config { classes: config.classes, width_divisor: config.width_divisor }
}

#[cfg(test)]
mod tests {
    use super::*;
    use runner_protocol::Network;
    use tch::Device;

    #[test]
    fn a_reply_is_read_within_what_its_request_can_call_for() {
        // A piece of trained weights: what was asked for, not the cap.
        let piece = Request::TrainedWeights { name: "fc6.weight".into(), offset: 0, count: super::super::training::PIECE };
        assert!(reply_budget(&piece) < (4 * super::super::training::PIECE as u64) + (1 << 20));
        assert!(reply_budget(&Request::BeginTraining { device: runner_protocol::Compute::Cpu }) < 1 << 20);
    }

    #[test]
    fn a_request_the_protocol_cannot_carry_is_known_before_it_is_sent() {
        // A full-width FCN-8s's weights in one frame: 537 MB, over the cap.
        // (Never written to: the pages are not touched.)
        let weights = Tensor::empty([134_400_000], (Kind::Float, Device::Cpu));
        let request = Request::Forward {
            network: Network::Fcn8s,
            config: Config { classes: 21, width_divisor: 1 },
            train: true,
            seed: 0,
            keep: true,
            taps: false,
        };
        let refused = sendable(&request, &[("weight.all".to_owned(), weights.shallow_clone())]);
        assert!(matches!(refused, Err(ref why) if why.contains("537600000 bytes of tensors")), "{refused:?}");
        // The same weights in the training path's pieces each fit.
        let piece = weights.narrow(0, 0, super::super::training::PIECE);
        let start = Request::StartWeights { name: "fc6.weight".into(), shape: vec![134_400_000], offset: 0 };
        assert_eq!(sendable(&start, &[("piece".to_owned(), piece)]), Ok(()));
    }
}
