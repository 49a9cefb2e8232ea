//! Domain types: what a task is, independent of the wire format and of the
//! database. Values are validated once, when they are built from client input,
//! so the rest of the code never checks them again.

pub mod event;
pub mod ids;
pub mod progress;
pub mod spec;
pub mod status;
pub mod task;
pub mod text;
pub mod violations;

pub use event::{EventKind, TaskEvent};
pub use ids::TaskId;
pub use progress::Progress;
pub use spec::{ExportFormat, ExportSpec, RawTaskSpec, TaskSpec};
pub use status::TaskStatus;
pub use task::{Counters, Task};
pub use violations::{FieldViolation, Violations};
