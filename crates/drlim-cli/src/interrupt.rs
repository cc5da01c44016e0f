//! SIGINT (Ctrl-C) and SIGTERM during training: the first asks training to stop at the end of
//! the current step, so that the last complete epoch can be saved; a second one ends the
//! process at once, with the shell's code for the signal (130, 143).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Watches for SIGINT and SIGTERM once installed.
#[derive(Default)]
pub struct Interrupts {
    pending: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
    installed: bool,
}

impl Interrupts {
    /// Installs the handlers (once): from now on a first signal is only recorded, and a second
    /// one exits at once. Before this, a signal ends the process as usual.
    pub fn install(&mut self) -> std::io::Result<()> {
        if self.installed {
            return Ok(());
        }
        for sig in [SIGINT, SIGTERM] {
            // registered first, so that it sees the flag as the previous signal left it
            signal_hook::flag::register_conditional_shutdown(
                sig,
                exit_code(sig).into(),
                Arc::clone(&self.pending),
            )?;
            signal_hook::flag::register_usize(sig, Arc::clone(&self.which), sig as usize)?;
            signal_hook::flag::register(sig, Arc::clone(&self.pending))?;
        }
        self.installed = true;
        Ok(())
    }

    /// The signal received, if any.
    pub fn signal(&self) -> Option<i32> {
        if !self.pending.load(Ordering::SeqCst) {
            return None;
        }
        match self.which.load(Ordering::SeqCst) {
            0 => Some(SIGINT),
            s => Some(s as i32),
        }
    }
}

/// The exit code for a process stopped by `sig` (128 + the signal's number, as shells report).
pub fn exit_code(sig: i32) -> u8 {
    (128 + sig) as u8
}

/// The signal's usual name.
pub fn name(sig: i32) -> &'static str {
    match sig {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        _ => "a signal",
    }
}
