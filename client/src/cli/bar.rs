//! The live progress bar of `scrapectl watch`.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::outcome::Outcome;
use crate::pb;

/// A live progress bar on stderr (hidden when stderr is not a terminal).
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    pub fn new() -> Bar {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner:.blue} [{bar:32.cyan/blue}] {pos}/{len} ops {percent:>3}% {elapsed_precise} · {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("█▉▊▋▌▍▎▏ "),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        Bar { bar }
    }

    pub fn update(&self, p: &pb::Progress) {
        self.bar.set_length(u64::from(p.total_operations));
        self.bar.set_position(u64::from(p.completed_operations));
        let place = if p.current_prefecture.is_empty() {
            String::new()
        } else {
            format!(" · {} / {}", p.current_prefecture, p.current_keyword)
        };
        self.bar.set_message(format!("{} · {} items{place}", Outcome::of_progress(p).label(), p.items_found));
    }

    /// Says that the stream was cut and is being opened again; the next
    /// [`Bar::update`] replaces it.
    pub fn reconnecting(&self, attempt: u32, retry_in: Duration, cause: &tonic::Status) {
        let message =
            if cause.message().is_empty() { crate::cli::json::code_name(cause.code()) } else { cause.message() };
        self.bar.set_message(format!("reconnecting… (attempt {attempt} in {retry_in:.1?}: {message})"));
    }

    /// The message shown after the bar.
    pub fn message(&self) -> String {
        self.bar.message()
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Default for Bar {
    fn default() -> Self {
        Bar::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_says_reconnecting_until_the_next_update() {
        let bar = Bar::new();
        let progress = pb::Progress {
            status: pb::TaskStatus::Running.into(),
            total_operations: 4,
            completed_operations: 1,
            items_found: 12,
            ..Default::default()
        };
        bar.update(&progress);
        assert_eq!(bar.message(), "running · 12 items");
        bar.reconnecting(2, Duration::from_millis(200), &tonic::Status::unavailable("connection refused"));
        assert!(bar.message().starts_with("reconnecting… (attempt 2"), "{}", bar.message());
        assert!(bar.message().contains("connection refused"), "{}", bar.message());
        bar.update(&progress);
        assert_eq!(bar.message(), "running · 12 items");
        bar.finish();
    }

    #[test]
    fn the_progress_bar_tells_a_partly_failed_success() {
        let bar = Bar::new();
        bar.update(&pb::Progress {
            status: pb::TaskStatus::Succeeded.into(),
            total_operations: 4,
            completed_operations: 4,
            failed_operations: 1,
            ..Default::default()
        });
        assert_eq!(bar.message(), "succeeded, 1 of 4 operations failed · 0 items");
        bar.finish();
    }
}
