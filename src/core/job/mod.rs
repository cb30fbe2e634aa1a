//! One secret task: its settings and schema, the inputs, the flow from token
//! to task update, and what the update says.

pub(crate) mod error_codes;
pub(crate) mod flow;
pub(crate) mod inputs;
pub(crate) mod job_config;
pub(crate) mod schema;
pub(crate) mod settings;
pub(crate) mod start;
pub(crate) mod task_update;
