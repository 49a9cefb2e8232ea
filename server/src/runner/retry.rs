//! Store calls of a running task survive a database that is briefly
//! unavailable (locked, restarting, unreachable): they are retried with a
//! growing pause until it answers or the task is aborted.

use std::future::Future;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::StoreError;

/// Longest pause between two attempts at a store call while the database
/// is unavailable.
const STORE_RETRY_CAP: Duration = Duration::from_secs(5);

/// Retries `op` for as long as the store is unavailable (locked, restarting,
/// unreachable), with a growing pause, until `cancel` fires.
pub(super) async fn retry_unavailable<T, F, Fut>(cancel: &CancellationToken, mut op: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let mut pause = Duration::from_millis(50);
    let mut attempt = 1;
    loop {
        match op().await {
            Err(e) if e.is_unavailable() && !cancel.is_cancelled() => {
                if attempt == 1 || attempt % 10 == 0 {
                    tracing::warn!(error = %e, attempt, "store unavailable; retrying");
                }
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = cancel.cancelled() => return Err(e),
                }
                pause = (pause * 2).min(STORE_RETRY_CAP);
                attempt += 1;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn an_unavailable_store_is_retried_with_growing_pauses_until_it_answers() {
        let calls = Cell::new(0);
        let started = tokio::time::Instant::now();
        let result = retry_unavailable(&CancellationToken::new(), || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 5 { Err(StoreError::Unavailable("locked".into())) } else { Ok(n) } }
        })
        .await;
        assert_eq!(result.ok(), Some(5));
        // 50 + 100 + 200 + 400 ms of pauses, on the paused clock.
        assert_eq!(started.elapsed(), Duration::from_millis(750));
    }

    #[tokio::test(start_paused = true)]
    async fn other_store_errors_and_cancellation_end_the_retries() {
        let corrupt = retry_unavailable(&CancellationToken::new(), || async {
            Err::<(), _>(StoreError::Corrupt("bad row".into()))
        })
        .await;
        assert!(matches!(corrupt, Err(StoreError::Corrupt(_))));

        let cancel = CancellationToken::new();
        cancel.cancel();
        let gave_up =
            retry_unavailable(&cancel, || async { Err::<(), _>(StoreError::Unavailable("down".into())) }).await;
        assert!(matches!(gave_up, Err(StoreError::Unavailable(_))));
    }
}
