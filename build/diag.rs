//! Problems found in the spec, reported to cargo as `cargo::error=` lines: one line each, naming
//! where (`paths./search.post.requestBody…`, `components.schemas.Task.properties.status`) and
//! what to do. The build stops after validation when there is any, before the generator runs.

use std::fmt::Display;

#[derive(Default)]
pub struct Problems {
    file: String,
    list: Vec<String>,
}

impl Problems {
    pub fn new(file: impl Display) -> Self {
        Self {
            file: file.to_string(),
            list: Vec::new(),
        }
    }

    /// Records a problem at `at` (a dotted location in the document).
    pub fn at(&mut self, at: impl Display, what: impl Display) {
        let line = format!("{}: {at}: {what}", self.file);
        // cargo reads one directive per line.
        self.list.push(line.replace(['\n', '\r'], " "));
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Prints every problem as a cargo error; returns whether there was any.
    pub fn report(&self) -> bool {
        for p in &self.list {
            println!("cargo::error={p}");
        }
        !self.list.is_empty()
    }
}
