//! The progress bar on a terminal: stored bytes read (with ETA when the input sizes are
//! known) and events per second, redrawn from the run's [`Control`] counters by a ticker
//! thread. Nothing is drawn when stderr is not a terminal.

use crate::batch::Control;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A running bar; [`Bar::finish`] stops and clears it.
pub struct Bar {
    bar: ProgressBar,
    stop: Arc<AtomicBool>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

impl Bar {
    /// Starts a bar on stderr that follows `control`.
    pub fn start(control: Arc<Control>) -> Bar {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} {elapsed_precise} {bytes} ({bytes_per_sec}) {msg}",
            )
            .expect("valid template"),
        );
        let stop = Arc::new(AtomicBool::new(false));
        let ticker = {
            let (bar, stop) = (bar.clone(), stop.clone());
            std::thread::spawn(move || {
                let start = Instant::now();
                let mut sized = false;
                while !stop.load(Ordering::Relaxed) {
                    let total = control.total_bytes.load(Ordering::Relaxed);
                    if !sized && total > 0 {
                        // Sizes known (all inputs are files): a bar with an ETA.
                        sized = true;
                        bar.set_length(total);
                        bar.set_style(
                            ProgressStyle::with_template(
                                "{elapsed_precise} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}) {msg} ETA {eta}",
                            )
                            .expect("valid template")
                            .progress_chars("=> "),
                        );
                    }
                    let events = control.events.load(Ordering::Relaxed);
                    let secs = start.elapsed().as_secs_f64().max(1e-3);
                    bar.set_position(control.stored_bytes.load(Ordering::Relaxed));
                    bar.set_message(format!("{events} events ({:.0}/s)", events as f64 / secs));
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };
        Bar {
            bar,
            stop,
            ticker: Some(ticker),
        }
    }

    /// Prints `msg` above the bar.
    pub fn println(&self, msg: &str) {
        self.bar.suspend(|| eprint!("{msg}"));
    }

    pub fn finish(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.ticker.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}
