//! Domain types: what a task is, independent of the wire format and of the
//! database. Values are validated once, when they are built from client input,
//! so the rest of the code never checks them again.

pub mod document;
pub mod event;
pub mod ids;
pub mod keywords;
pub mod lifecycle;
pub mod operation;
pub mod order;
pub mod paging;
pub mod progress;
pub mod query;
pub mod schedule;
pub mod spec;
pub mod status;
pub mod summary;
pub mod task;
pub mod text;
pub mod violations;
pub mod watch;
pub mod watch_event;

pub use document::{Card, Document};
pub use event::{EventKind, TaskEvent};
pub use ids::TaskId;
pub use keywords::Keywords;
pub use lifecycle::{Ending, Transition};
pub use operation::{InFlightOperation, OperationOutcome, OperationProgress, OperationResult};
pub use order::{SortKey, TaskOrder};
pub use paging::PageSize;
pub use progress::Progress;
pub use query::{DocumentQuery, ResultQuery, TaskQuery, TextQuery};
pub use schedule::{Firing, RawSchedule, Schedule};
pub use spec::{ExportFormat, ExportSpec, RawTaskSpec, SpecLimits, TaskSpec};
pub use status::TaskStatus;
pub use summary::{TaskSummary, Totals};
pub use task::{Counters, Outcome, Task};
pub use violations::{FieldViolation, Violations};
pub use watch::{RawWatch, RunId, TaskTemplate, Watch, WatchId, WatchRun, WatchSpec, Webhook};
pub use watch_event::{Channel, Notification, WatchEvent, WatchEventKind};
