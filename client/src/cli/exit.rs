//! The exit codes of `scrapectl`, in one place (the README lists them too).
//!
//! 0 success (also when standard output was closed early, as by `| head`);
//! 1 any other error; 2 a request the server refused as invalid; 3 the
//! watched task ended `failed` or `cancelled`; 4 the watched task succeeded
//! but some of its operations failed; 5 the watched task's export file
//! could not be written.

/// A request the server refused as invalid (`INVALID_ARGUMENT`).
pub const INVALID: u8 = 2;

/// `watch` (or `start --watch`): the task ended `failed` or `cancelled`.
pub const TASK_DID_NOT_SUCCEED: u8 = 3;

/// `watch` (or `start --watch`): the task succeeded, but some of its
/// operations failed.
pub const PARTLY_FAILED: u8 = 4;

/// `watch` (or `start --watch`): the task's export file could not be
/// written (whatever the task's own outcome).
pub const EXPORT_FAILED: u8 = 5;
