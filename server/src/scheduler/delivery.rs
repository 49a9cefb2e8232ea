//! Delivering notifications: one attempt per notification taken from the
//! queue, its outcome written back, and a failed attempt tried again later
//! with an exponential backoff, until the attempts run out.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use crate::domain::Channel;
use crate::scheduler::email::EmailSender;
use crate::scheduler::webhook::WebhookSender;
use crate::service::AttemptOutcome;
use crate::service::Outgoing;

/// Longest pause between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(6 * 3600);

/// How notifications are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The pause after the first failure; it doubles after each one.
    pub base_delay: Duration,
}

impl RetryPolicy {
    /// When to try again after `attempt` (from 1) failed at `now`; `None`
    /// when that was the last attempt.
    pub fn retry_at(&self, attempt: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempt >= self.attempts {
            return None;
        }
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        let delay = self.base_delay.saturating_mul(factor).min(MAX_RETRY_DELAY);
        TimeDelta::from_std(delay).ok().map(|d| now + d)
    }
}

/// The senders of each channel this server has.
#[derive(Debug, Clone)]
pub struct Senders {
    pub webhook: WebhookSender,
    /// `None` without `--smtp-url`.
    pub email: Option<EmailSender>,
}

/// Makes one attempt at a notification; what to record.
pub async fn attempt(
    senders: &Senders,
    outgoing: &Outgoing,
    catalog: &Arc<crate::catalog::Catalog>,
    policy: RetryPolicy,
    now: impl Fn() -> DateTime<Utc>,
) -> AttemptOutcome {
    let n = outgoing.notification.attempts;
    let documents = outgoing.total;
    let sent = match outgoing.notification.channel {
        Channel::Webhook => match &outgoing.watch.spec.webhook {
            Some(hook) => senders
                .webhook
                .send(&hook.url, &hook.secret, outgoing, catalog)
                .await
                .map(|status| {
                    format!("webhook: {documents} document(s) posted to {} (HTTP {status}, attempt {n})", hook.url)
                })
                .map_err(|e| e.to_string()),
            None => Err("the watch has no webhook any more".to_owned()),
        },
        Channel::Email => match &senders.email {
            Some(email) => email
                .send(outgoing, catalog)
                .await
                .map(|to| format!("email: digest of {documents} document(s) sent to {} (attempt {n})", to.join(", ")))
                .map_err(|e| e.to_string()),
            None => Err("this server sends no email (no --smtp-url)".to_owned()),
        },
    };
    match sent {
        Ok(message) => AttemptOutcome::Delivered { message },
        Err(error) => AttemptOutcome::Failed { retry_at: policy.retry_at(n, now()), error },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_their_pause_and_stop_after_the_last_attempt() {
        let policy = RetryPolicy { attempts: 4, base_delay: Duration::from_secs(30) };
        let now = Utc::now();
        let pauses: Vec<_> = (1..=4).map(|n| policy.retry_at(n, now).map(|at| (at - now).num_seconds())).collect();
        assert_eq!(pauses, [Some(30), Some(60), Some(120), None]);
        let long = RetryPolicy { attempts: 40, base_delay: Duration::from_secs(60) };
        assert_eq!(long.retry_at(30, now).map(|at| (at - now).to_std().ok()), Some(Some(MAX_RETRY_DELAY)));
    }
}
